"""The database the suite runs on: CI's PostgreSQL leg must really be on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from sync.services import catalogue_next_serial
from tests.conftest import REQUIRE_POSTGRES, need


@pytest.mark.django_db
def test_suite_runs_on_the_database_ci_asked_for():
    if REQUIRE_POSTGRES:
        assert connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
def test_catalogue_serials_are_unique_under_concurrent_writers():
    need(connection.vendor == "postgresql", "row locks are a PostgreSQL matter", required=REQUIRE_POSTGRES)
    taken: list[int] = []
    lock = threading.Lock()

    def take(count: int) -> None:
        try:
            for _ in range(count):
                value = catalogue_next_serial()
                with lock:
                    taken.append(value)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(25,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(taken) == 100
    assert len(set(taken)) == 100
