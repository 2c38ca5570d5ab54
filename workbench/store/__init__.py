"""The run store: every run and experiment kept in SQLite (db.py), row formats (records.py),
the file's schema and location (schema.py)."""
