"""report.html of a real-size audit in headless Chromium: a simulated audit of a 32-step SOP with
over 5,000 findings. The page stays short (one page of findings drawn at a time, filtering over
all of them), the maps open with text of at least 10 px and have a working full-size view, nothing
overflows a 390 px wide screen, the page prints to A4 with no map cut, and there is no console
error and no network request. Uses the browser fixture of test_browser (skips the same way)."""

from __future__ import annotations

import re

import pytest

from sopaudit.core.kinds import ALL_KINDS
from test_browser import Page, browser, reports  # noqa: F401  (fixtures: the browser, the demo report)
from test_report_support import large_audit

MIN_TEXT_PX = 10
A4_MM = (210, 297)
MARGIN_MM = 12  # @page margin of report.css
PX_PER_MM = 96 / 25.4


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    result = large_audit(tmp_path_factory.mktemp("large-sop"))
    paths = {}
    for lang in ("en", "id"):
        d = tmp_path_factory.mktemp(f"large-{lang}")
        paths[lang] = result.write(d, formats=("html",), lang=lang)["report"]
    return result, paths


def _map_text_px(page, box_id: str) -> float:
    """The smallest text of a map as drawn: its font size times the drawing's scale on screen."""
    return page.evaluate("""(id) => {
        const svg = document.querySelector('#' + id + ' svg');
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        let least = Infinity;
        for (const el of svg.querySelectorAll('text')) {
            least = Math.min(least, parseFloat(getComputedStyle(el).fontSize));
        }
        return least * scale;
    }""", box_id)


def test_the_audit_is_real_size(large):
    result, _ = large
    assert len(result.sop.steps) >= 30
    assert len(result.deviations) >= 5000


def test_findings_are_paged_and_filtered_over_all_of_them(browser, large):  # noqa: F811
    result, paths = large
    dev = result.deviations
    n = len(dev)
    pg = Page(browser, paths["en"])
    page = pg.page
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 16_000, height  # 5,000 findings listed in full would be ~150,000 px
    assert pg.visible_rows() == 50
    assert page.locator("#f-count").inner_text() == f"{n:,} of {n:,} rows shown"
    assert page.locator("#pg-info").inner_text() == f"rows 1–50 of {n:,} (page 1 of {-(-n // 50)})"
    first = page.locator("#findings-table tbody tr td").first.inner_text()
    assert first == str(dev["case_id"].iloc[0])
    page.click("#pg-next")
    assert page.locator("#findings-table tbody tr td").first.inner_text() == str(dev["case_id"].iloc[50])
    page.select_option("#pg-size", "200")
    assert pg.visible_rows() == 200
    # A filter counts over every finding, not only the drawn page.
    kind = next(k for k in ALL_KINDS if (dev["kind"] == k).sum() > 200)
    page.select_option("#f-kind", kind)
    expected = int((dev["kind"] == kind).sum())
    assert page.locator("#f-count").inner_text() == f"{expected:,} of {n:,} rows shown"
    assert pg.visible_rows() == 200
    page.select_option("#f-kind", "")
    last = str(dev["case_id"].iloc[-1])
    page.fill("#f-case", last)
    assert pg.visible_rows() == int((dev["case_id"].astype(str) == last).sum())
    assert page.evaluate("document.documentElement.scrollHeight") < 16_000
    pg.check_clean()


def test_maps_are_readable_and_open_full_size(browser, large):  # noqa: F811
    _, paths = large
    for lang, path in paths.items():
        pg = Page(browser, path)
        page = pg.page
        for box in ("map-sop", "map-actual"):
            assert page.locator(f"#{box} .map > svg").count() == 1
            assert _map_text_px(page, box) >= MIN_TEXT_PX, (lang, box)
            # The box scrolls the map inside itself: the page does not grow sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        page.click("#map-sop button[data-zoom='full']")
        assert page.locator("#map-full").is_visible()
        assert page.locator("#map-full-view > svg").count() == 1 and page.locator("#map-sop .map > svg").count() == 0
        scale = "(() => { const s = document.querySelector('#map-full-view > svg');" \
                " return s.getBoundingClientRect().width / s.viewBox.baseVal.width; })()"
        assert page.evaluate(scale) == pytest.approx(1, abs=0.01)  # drawn at its own size
        assert _map_text_px(page, "map-full-view") >= 11 - 0.01  # the edge labels, the smallest text
        page.click("#map-full button[data-zoom='in']")
        assert page.evaluate(scale) == pytest.approx(1.25, abs=0.01)
        page.keyboard.press("Escape")
        assert not page.locator("#map-full").is_visible() and page.locator("#map-sop .map > svg").count() == 1
        before = _map_text_px(page, "map-actual")
        page.click("#map-actual button[data-zoom='out']")
        assert _map_text_px(page, "map-actual") < before
        pg.check_clean()


def test_nothing_overflows_a_narrow_screen(browser, large, reports):  # noqa: F811
    _, paths = large
    _, demo_paths = reports
    for path in [*paths.values(), *demo_paths.values()]:
        pg = Page(browser, path)
        page = pg.page
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(100)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # The KPI cards fill two columns evenly.
        lefts = page.evaluate("[...document.querySelectorAll('.card')].map(c => Math.round(c.getBoundingClientRect().width))")
        assert len(set(lefts)) == 1
        assert _map_text_px(page, "map-sop") >= MIN_TEXT_PX
        pg.check_clean()


def test_prints_to_a4_with_the_maps_fitted(browser, large, tmp_path):  # noqa: F811
    _, paths = large
    pg = Page(browser, paths["en"])
    page = pg.page
    width_px = (A4_MM[0] - 2 * MARGIN_MM) * PX_PER_MM
    height_px = (A4_MM[1] - 2 * MARGIN_MM) * PX_PER_MM
    page.set_viewport_size({"width": int(width_px), "height": int(height_px)})  # the printed page's width
    page.emulate_media(media="print")
    for box in ("map-sop", "map-actual"):
        rect = page.evaluate("(id) => { const r = document.querySelector('#' + id + ' .map > svg')"
                             ".getBoundingClientRect(); return [r.width, r.height]; }", box)
        assert 0 < rect[0] <= width_px + 1 and 0 < rect[1] <= height_px + 1, (box, rect)
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes()))
    assert 4 <= pages <= 30, pages
    page.emulate_media(media="screen")
    pg.check_clean()


def test_the_large_report_is_in_its_language(large):
    import yaml

    from sopaudit.core.columns import ACTIVITY, CASE, RESOURCE
    from test_report_language import ENGLISH, INDONESIAN, _strings, foreign_words, html_texts
    from test_report_support import large_sop_yaml

    result, paths = large
    names = set(_strings(yaml.safe_load(large_sop_yaml()))) | {str(result.sop.source)}
    for col in (CASE, ACTIVITY, RESOURCE):
        names |= set(result.log[col].astype(str).unique())
    names = sorted((n for n in names if len(n) > 1), key=len, reverse=True)
    for lang, other in (("id", ENGLISH), ("en", INDONESIAN)):
        texts = html_texts(paths[lang].read_text(encoding="utf-8"))
        assert foreign_words(texts, names, other) == {}, lang


def test_seven_kpi_cards_fill_two_even_rows(browser, tmp_path):  # noqa: F811
    import sopaudit as sa
    from test_report_support import DEMO_LOG, DEMO_MAPPING, PASSPORT_SOP

    log = sa.read_log(DEMO_LOG, tz="Asia/Pontianak", **DEMO_MAPPING)
    result = sa.audit(log, sa.load_sop(PASSPORT_SOP), processes=1, precision=True)
    path = result.write(tmp_path, formats=("html",), lang="en")["report"]
    pg = Page(browser, path)
    cards = "[...document.querySelectorAll('.card')].map(c => { const r = c.getBoundingClientRect();" \
            " return [Math.round(r.top), Math.round(r.width)]; })"
    for width, rows in ((1280, [4, 3]), (800, [4, 3]), (390, [2, 2, 2, 1])):
        pg.page.set_viewport_size({"width": width, "height": 900})
        pg.page.wait_for_timeout(50)
        boxes = pg.page.evaluate(cards)
        tops = sorted({top for top, _ in boxes})
        assert [sum(1 for top, _ in boxes if top == y) for y in tops] == rows, width
        assert len({w for _, w in boxes}) == 1, width  # every card as wide as the others
    pg.check_clean()
