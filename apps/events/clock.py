"""The one clock that due times and claims are compared with: the database's.

App servers' clocks drift apart; the database is one. On PostgreSQL `now()` is the start of the
current transaction (the same value for every statement in it); SQLite runs on one machine, where
the app server's clock is the database's.
"""
from __future__ import annotations

from datetime import datetime, timezone as dt_timezone

from django.db import connection
from django.utils import timezone


def db_now() -> datetime:
    """The database's time now, aware, in UTC."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            value = cursor.fetchone()[0]
        return value.astimezone(dt_timezone.utc)
    return timezone.now()
