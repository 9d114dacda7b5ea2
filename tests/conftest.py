"""Fixtures shared by the classroom server's tests: one throwaway PostgreSQL cluster per session
(started as the ``postgres`` user on a unix socket in a temp dir) and the two database backends."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pg_cluster():
    from tests.classroom_helpers import PgCluster, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql; .ci/run does it)")
    cluster = PgCluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """Each test that takes it runs on SQLite and on PostgreSQL (the schema and migrations are shared)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'classroom.sqlite3'}"
    return request.getfixturevalue("pg_cluster").new_database()
