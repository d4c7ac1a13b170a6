"""Errors a user can cause. Each message says what was wrong, where, and how to fix it."""

from __future__ import annotations


class SopAuditError(Exception):
    """Base class of every error caused by input; the CLI prints it without a traceback."""

    exit_code = 2


class InputFileError(SopAuditError):
    """A file is missing, unreadable or malformed."""


class MappingError(SopAuditError):
    """A column mapping names columns that do not exist or is incomplete."""


class EventLogError(SopAuditError):
    """An event log DataFrame cannot be analysed as given (missing columns, empty cells, a bad
    filter), whichever way it was read."""


class ProblemListError(SopAuditError):
    """A file with a list of located problems: carries every problem found, not only the first,
    so the user fixes the file in one pass. Subclasses name the kind of file in `noun`."""

    noun = "file"

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"The {self.noun} {path} has {len(self.problems)} problem(s):\n{lines}")


class SopError(ProblemListError):
    """An SOP reference model is invalid; carries every problem found, not only the first."""

    noun = "SOP file"


class OutputPathError(SopAuditError):
    """An output file or folder cannot be written safely (a file where a folder is wanted, no write
    permission, a system folder, or a folder that holds an input of the run)."""
