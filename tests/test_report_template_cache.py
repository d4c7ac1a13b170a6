"""The page template compiled once and kept in the user's cache folder (report/html.py): the page
is the same with the cache, without it, and when the folder cannot be written."""

from __future__ import annotations

import pytest

from sopaudit.report import html
from test_report_support import demo_result


@pytest.fixture()
def fresh_env(monkeypatch):
    """The template environment as a new process finds it, restored afterwards."""
    monkeypatch.setattr(html._env, "bytecode_cache", None)
    html._env.cache.clear()
    html._cache_compiled_templates.cache_clear()
    yield
    html._env.cache.clear()
    html._cache_compiled_templates.cache_clear()


def test_the_compiled_template_is_kept_and_gives_the_same_page(tmp_path, monkeypatch, fresh_env):
    result = demo_result()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "nowhere"))
    (tmp_path / "nowhere").write_text("a file where the folder would be")  # cannot be made
    uncached = html.render_html(result, "en")
    assert html._env.bytecode_cache is None

    html._env.cache.clear()
    html._cache_compiled_templates.cache_clear()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert html.render_html(result, "en") == uncached  # compiled, then stored
    stored = list((tmp_path / "cache" / "sopaudit" / "templates").iterdir())
    assert len(stored) == 1 and stored[0].stat().st_size > 10_000

    html._env.cache.clear()  # a new process: the template is loaded from the folder
    loaded = []
    real = html._env.bytecode_cache.load_bytecode
    monkeypatch.setattr(html._env.bytecode_cache, "load_bytecode",
                        lambda bucket: (real(bucket), loaded.append(bucket.code is not None)))
    assert html.render_html(result, "en") == uncached
    assert loaded == [True]


def test_a_cache_that_cannot_be_written_only_means_no_cache(tmp_path, monkeypatch, fresh_env):
    import jinja2

    def full_disk(self, bucket):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "dump_bytecode", full_disk)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    page = html.render_html(demo_result(), "id")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert list((tmp_path / "cache" / "sopaudit" / "templates").iterdir()) == []
