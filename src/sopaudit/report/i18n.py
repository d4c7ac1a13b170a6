"""Message catalogs for report labels (Bahasa Indonesia and English)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGS = ("id", "en")


@cache
def catalog(lang: str) -> dict[str, str]:
    if lang not in LANGS:
        raise ValueError(f"unknown report language '{lang}'; use one of {', '.join(LANGS)}")
    path = Path(__file__).with_name("messages") / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def translator(lang: str):
    """A function key -> label; a missing key is a bug, so it fails loudly."""
    messages = catalog(lang)

    def t(key: str, **kwargs) -> str:
        text = messages[key]
        return text.format(**kwargs) if kwargs else text

    return t


def format_number(value: float, lang: str, digits: int = 0) -> str:
    """1234.5 -> '1.234,5' (id) or '1,234.5' (en)."""
    text = f"{value:,.{digits}f}"
    if lang == "id":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def format_percent(share: float, lang: str, digits: int = 1) -> str:
    return format_number(100 * share, lang, digits) + "%"
