"""Text measurement and wrapping for drawings, without a font library: widths are DejaVu Sans
advance widths, so the layout is the same on every machine."""

from __future__ import annotations

import unicodedata

# A label longer than this is cut for drawing and ends with an ellipsis: a box of a few hundred
# characters is already as tall as a page, and the full text stays in the report's tables.
MAX_LABEL_CHARS = 300
# Tooltips may say more than a label, but not without bound: an SVG carries each one as text.
MAX_TOOLTIP_CHARS = 2000
ELLIPSIS = "…"

# Advance widths of DejaVu Sans (the font matplotlib ships and the first in the SVG font list)
# for the printable ASCII characters 32..126, in thousandths of an em.
# fmt: off
_DEJAVU_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698,
    770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732,
    684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635,
    634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,
    525, 636, 337, 636, 838,
)
# fmt: on
_SPACE = _DEJAVU_WIDTHS[0]


def _char_width(ch: str) -> int:
    code = ord(ch)
    if 32 <= code < 127:
        return _DEJAVU_WIDTHS[code - 32]
    if unicodedata.combining(ch):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1000
    return 700


def text_width(text: str, font_size: float) -> float:
    """Estimated width in pixels of one line of text in DejaVu Sans, a little generous for
    fonts a browser may substitute."""
    return sum(_char_width(c) for c in text) * font_size / 1000.0


def clip_text(text: str, max_chars: int = MAX_LABEL_CHARS) -> str:
    """``text`` if it has at most ``max_chars`` characters, else its start and an ellipsis
    (``max_chars`` characters in all)."""
    text = str(text)
    if len(text) <= max_chars:
        return text
    return text[: max(max_chars - 1, 0)] + ELLIPSIS


def wrap_text(text: str, font_size: float, max_width: float) -> list[str]:
    """Split a label into lines no wider than ``max_width`` pixels: explicit newlines first,
    then at spaces, and inside words that are too long on their own. Linear in the length of
    the text (widths are summed once, in whole thousandths of an em)."""

    def fits(units: int) -> bool:
        # the same expression as text_width, so a line fits exactly when text_width says so
        return units * font_size / 1000.0 <= max_width

    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        words = paragraph.split()
        if not words:
            lines.append("")
            continue
        current: list[str] = []  # words of the line being filled
        current_w = 0  # its width in thousandths of an em
        for word in words:
            widths = [_char_width(c) for c in word]
            word_w = sum(widths)
            if current and fits(current_w + _SPACE + word_w):
                current.append(word)
                current_w += _SPACE + word_w
                continue
            if not current and fits(word_w):
                current, current_w = [word], word_w
                continue
            if current:
                lines.append(" ".join(current))
            # hard-break a word that does not fit on a line of its own: each piece is the
            # longest prefix that fits (at least one character)
            start = 0
            while word_w * font_size / 1000.0 > max_width and len(word) - start > 1:
                cut = start + 1
                piece_w = widths[start]
                while cut < len(word) and fits(piece_w + widths[cut]):
                    piece_w += widths[cut]
                    cut += 1
                lines.append(word[start:cut])
                start = cut
                word_w -= piece_w
            current, current_w = [word[start:]], word_w
        lines.append(" ".join(current))
    return lines
