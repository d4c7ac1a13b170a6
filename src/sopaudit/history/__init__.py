"""Audit history: every audit of every batch in one SQLAlchemy table (store.py), and the trend
of conformance per audit across runs as a table and a chart (trend.py)."""
