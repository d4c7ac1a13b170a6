"""Ingest: read service-system exports into the canonical event log."""

from .read import read_log

__all__ = ["read_log"]
