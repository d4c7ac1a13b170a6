"""The Indonesian working-day calendar: public holidays, cuti bersama, office closures and
office hours, and vectorised counts of working days and hours between times."""

from sopaudit.calendar.workdays import WorkingCalendar, load_closures, resolve_tz

__all__ = ["WorkingCalendar", "load_closures", "resolve_tz"]
