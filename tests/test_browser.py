"""report.html in a real browser: headless Chromium (Debian's `chromium`) over file://, driven
with Playwright (no browser download: Playwright only talks to the installed Chromium).

Asserts no console error and no network request, that the filters and the case drill-down work,
that hostile values show as text, and saves screenshots of the demo report in both languages
(printed at the end of the test so a person can look at them). Skips only when no Chromium is
installed outside CI; in CI (the CI variable set) a missing Chromium or Playwright fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from test_report import _hostile_result
from test_report_support import demo_result

from conftest import unavailable

CHROMIUM_FIX = ".ci/run installs Debian's chromium, the test extras install playwright"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    for candidate in (os.environ.get("SOPAUDIT_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium",
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    path = _chromium()
    if path is None:
        unavailable("no Chromium found (install Debian's package: apt-get install chromium)", CHROMIUM_FIX)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[test]')", CHROMIUM_FIX)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        # A persistent context gives Chromium its own fresh --user-data-dir.
        ctx = p.chromium.launch_persistent_context(str(profile), executable_path=path, args=FLAGS, headless=True,
                                                   viewport={"width": 1280, "height": 900}, offline=True)
        yield ctx
        ctx.close()


class Page:
    """A page that records console messages, page errors, dialogs and requests."""

    def __init__(self, ctx, path: Path):
        self.page = ctx.new_page()
        self.console: list[tuple[str, str]] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def visible_rows(self) -> int:
        return self.page.locator("#findings-table tbody tr:visible").count()

    def check_clean(self):
        errors = [m for m in self.console if m[0] in ("error", "pageerror", "warning")]
        assert errors == []
        assert self.requests == [self.url]  # the file itself and nothing else
        assert self.dialogs == []


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    result = demo_result()
    out = {}
    for lang in ("id", "en"):
        d = tmp_path_factory.mktemp(f"browser-{lang}")
        out[lang] = result.write(d, formats=("html",), lang=lang)["report"]
    return result, out


def test_filters_and_drill_down_work(browser, reports):
    result, paths = reports
    pg = Page(browser, paths["en"])
    page = pg.page
    n = len(result.deviations)
    assert page.locator("#f-count").inner_text() == f"{n} of {n} rows shown"
    page.select_option("#f-kind", "skipped")
    assert pg.visible_rows() == 9  # 7 skips, and the rejection of the 2 cases that stopped
    page.select_option("#f-step", "wawancara")
    assert pg.visible_rows() == 2  # skipped interviews
    assert page.locator("#f-count").inner_text() == f"2 of {n} rows shown"
    page.select_option("#f-kind", "")
    page.select_option("#f-step", "")
    page.select_option("#f-officer", "Andi")
    expected = int((result.deviations["resource"] == "Andi").sum())
    assert pg.visible_rows() == expected > 0
    page.select_option("#f-officer", "")
    page.fill("#f-case", "00054")
    assert pg.visible_rows() == 1
    assert page.locator("#findings-table tbody tr:visible td").first.inner_text() == "2024PAS00054"
    # Drill-down: the case's events, with the finding's event marked.
    page.click("#findings-table button.case-link[data-case='2024PAS00054']")
    panel = page.locator("#case-panel")
    assert panel.is_visible()
    assert panel.locator("h3").inner_text() == "2024PAS00054"
    events = result.log[result.log["case:concept:name"] == "2024PAS00054"]
    rows = panel.locator("#case-events tbody tr")
    assert rows.count() == len(events) > 0
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())] == \
        [str(r) for r in events["sopaudit:row"]]
    hit = panel.locator("#case-events tbody tr.hit")
    assert hit.count() == 1 and hit.locator("td").nth(0).inner_text() == "772"
    assert hit.locator("td").nth(2).inner_text() == "TITIP_BERKAS"
    assert "Activity outside the SOP" in panel.locator("li").first.inner_text()
    page.click("#case-close")
    assert not panel.is_visible()
    # Search by case number, Enter: the drill-down of that case.
    page.fill("#f-case", "2024PAS00044")
    page.press("#f-case", "Enter")
    assert panel.is_visible() and panel.locator("h3").inner_text() == "2024PAS00044"
    assert panel.locator("#case-events tbody tr.hit td").first.inner_text() == "619"
    assert panel.locator("#case-events tbody tr.evidence td").first.inner_text() == "620"
    # Printing hides the controls.
    page.emulate_media(media="print")
    assert not page.locator(".filters").is_visible() and not panel.is_visible()
    page.emulate_media(media="screen")
    pg.check_clean()


def test_screenshots_of_the_demo_report_in_both_languages(browser, reports, tmp_path_factory):
    _, paths = reports
    shots = tmp_path_factory.mktemp("screenshots")
    for lang, path in paths.items():
        pg = Page(browser, path)
        page = pg.page
        page.screenshot(path=str(shots / f"report-{lang}-top.png"))
        page.locator("#process").screenshot(path=str(shots / f"report-{lang}-process.png"))
        page.click("#findings-table button.case-link[data-case='2024PAS00044']")
        page.locator("#findings").screenshot(path=str(shots / f"report-{lang}-findings.png"))
        heading = page.locator("#summary h2").inner_text()
        assert heading == {"id": "Ringkasan eksekutif", "en": "Executive summary"}[lang]
        pg.check_clean()
    names = sorted(p.name for p in shots.iterdir())
    assert names == sorted(f"report-{lang}-{part}.png" for lang in ("id", "en")
                           for part in ("top", "process", "findings"))
    assert all((shots / n).stat().st_size > 20_000 for n in names)
    print(f"screenshots in {shots}")


def test_hostile_values_show_as_text(browser, mini_sop, tmp_path):
    from test_report import HOSTILE_ACT, HOSTILE_CASE

    r = _hostile_result(mini_sop)
    path = r.write(tmp_path, formats=("html",), lang="en")["report"]
    pg = Page(browser, path)
    page = pg.page
    cells = page.locator("#findings-table tbody td:nth-child(3)").all_inner_texts()
    assert HOSTILE_ACT in cells and "</script><script>alert(2)</script>" in cells
    page.locator("#findings-table button.case-link").filter(has_text=HOSTILE_CASE).first.click()
    assert page.locator("#case-panel h3").inner_text() == HOSTILE_CASE
    assert HOSTILE_ACT in page.locator("#case-events").inner_text()
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    pg.check_clean()


FIRST_BOX = """() => Array.from(document.querySelectorAll('.map-box .map')).map(v => {
  const view = v.getBoundingClientRect();
  const nodes = Array.from(v.querySelectorAll('g.node')).map(g => g.getBoundingClientRect());
  const first = nodes.reduce((a, b) => (b.top < a.top - 1 ? b : a));
  return {scrolled: v.scrollLeft, wider: v.scrollWidth > v.clientWidth,
          visible: first.left >= view.left && first.right <= view.left + v.clientWidth};
})"""


def test_maps_open_with_the_start_of_the_process_in_view(browser, reports):
    _, paths = reports
    pg = Page(browser, paths["en"])
    page = pg.page
    # Wide screen: the start box is visible from the left edge, so the title and legend show too.
    maps = page.evaluate(FIRST_BOX)
    assert len(maps) == 2 and any(m["wider"] for m in maps)
    assert all(m["visible"] and m["scrolled"] == 0 for m in maps)
    # Narrow screen: the actual process' start box lies beyond the left edge's view, and the map
    # opens scrolled to it.
    page.set_viewport_size({"width": 1000, "height": 900})
    page.reload()
    maps = page.evaluate(FIRST_BOX)
    assert all(m["visible"] for m in maps)
    assert maps[1]["scrolled"] > 0
    pg.requests.remove(pg.url)  # the reload
    pg.check_clean()
