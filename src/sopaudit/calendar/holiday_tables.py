"""The holiday tables of the working-day calendar (workdays.py): public holidays and, for
Indonesia, cuti bersama, from the `holidays` package, per country and decade; computed once per
process and kept in the user's cache folder (core/usercache.py), so that the package's 250
countries, which it imports to compute any one of them, are imported once, not in every audit."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import holidays as holidays_lib

from sopaudit.core.usercache import cache_folder, read_json, write_json

CUTI_BERSAMA = "government"  # the `holidays` category holding Indonesian collective leave days
HOLIDAY_CACHE = "holidays"  # the user-cache folder of the tables


def warm_holidays(country: str = "ID") -> None:
    """Import the country tables ahead of use (one imports all 250 countries, 0.1 s): readers do
    it in a thread. Not needed when this country's holidays are in the user's cache."""
    if not _cached_names(country):
        holidays_lib.country_holidays(country)


def supported(country: str) -> bool:
    """Whether the holidays package has a calendar for `country` (an ISO code), read from its
    registry: list_supported_countries() would import every country's module."""
    registry = getattr(getattr(holidays_lib, "registry", None), "COUNTRIES", None)
    if not isinstance(registry, dict):
        return country in holidays_lib.list_supported_countries()
    # each entry: class name, ISO alpha-2 and alpha-3 codes, then other names
    return len(country) in (2, 3) and any(country in names[1:] for names in registry.values())


@functools.lru_cache(maxsize=64)
def holiday_rows(
    country: str, first_year: int, last_year: int
) -> tuple[tuple[dt.date, str, str], ...]:
    """(date, name, category) of the public and government holidays of `country` in those years:
    computed once per process, and read from the user's cache after the first run (one file
    per version of the holidays package)."""
    name = f"{country}-{first_year}-{last_year}-holidays-{holidays_lib.__version__}.json"
    rows = _table_rows(read_json(HOLIDAY_CACHE, name))
    if rows is None:
        rows = _computed_holiday_rows(country, first_year, last_year)
        write_json(HOLIDAY_CACHE, name, [[d.isoformat(), n, c] for d, n, c in rows])
    return rows


def _table_rows(cached: Any) -> tuple[tuple[dt.date, str, str], ...] | None:
    """The rows of a cached table; None when there is none or it is not one `holiday_rows` wrote."""
    try:
        rows = tuple((dt.date.fromisoformat(d), n, c) for d, n, c in cached)
    except (TypeError, ValueError):
        return None
    return rows if all(isinstance(n, str) and isinstance(c, str) for _, n, c in rows) else None


def _cached_names(country: str) -> list[str]:
    """The cached holiday tables of `country` for this version of the holidays package."""
    folder = cache_folder(HOLIDAY_CACHE)
    tail = f"-holidays-{holidays_lib.__version__}.json"
    return [] if folder is None else [p.name for p in folder.glob(f"{country}-*{tail}")]


def _computed_holiday_rows(country: str, first_year: int, last_year: int) -> tuple[tuple[dt.date, str, str], ...]:
    categories = holidays_lib.country_holidays(country).supported_categories
    rows = []
    for category in ("public", CUTI_BERSAMA):
        if category not in categories:
            continue
        table = holidays_lib.country_holidays(
            country, years=range(first_year, last_year + 1), categories=(category,)
        )
        rows += [(day, name, category) for day, name in table.items()]
    return tuple(sorted(rows))
