"""Progress: log lines when the output is not a terminal, tqdm bars when it is (or when forced)."""

from __future__ import annotations

import logging
import re

from sopaudit.core import progress


def test_log_lines_when_not_on_a_terminal(monkeypatch, caplog, capsys):
    monkeypatch.delenv("SOPAUDIT_PROGRESS", raising=False)
    with caplog.at_level(logging.INFO, logger="sopaudit"):
        assert not progress.bars_shown()  # pytest captures stderr: not a terminal
        assert list(progress.iterate(["a", "b", "c"], "counting")) == ["a", "b", "c"]
        progress.note("mining")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "counting ..." and re.fullmatch(r"counting: \d+\.\d s \(CPU \d+\.\d s\)", messages[1])
    assert messages[2] == "mining"
    assert capsys.readouterr().err == ""


def test_bars_when_forced(monkeypatch, capsys):
    monkeypatch.setenv("SOPAUDIT_PROGRESS", "1")
    with progress.step("writing", total=4) as advance:
        advance(4)
    assert "writing" in capsys.readouterr().err
    monkeypatch.setenv("SOPAUDIT_PROGRESS", "0")
    assert not progress.bars_shown()
