"""The test database as a DATABASE_URL, for real worker and web processes started by tests."""

from __future__ import annotations

from django.db import connection


def test_database_url() -> str:
    """The DATABASE_URL of the database this test runs on (SQLite file or PostgreSQL)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name
