"""Fixtures for the application service tests (helpers in app_harness.py).

Every role runs as a real process on 127.0.0.1; each test's processes are
stopped by pid at teardown; every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from app_harness import PG_BIN, Postgres, Services, free_port, python_with_psycopg2


@pytest.fixture
def services(tmp_path: Path):
    svc = Services(tmp_path)
    yield svc
    svc.stop_all()


@pytest.fixture(scope="module")
def module_services(tmp_path_factory):
    svc = Services(tmp_path_factory.mktemp("services"))
    yield svc
    svc.stop_all()


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL 15 cluster on a free loopback port. A missing server or
    psycopg2 fails the tests that need them: scripts/setup.sh installs both."""
    if not (PG_BIN / "postgres").exists() or not Path("/usr/bin/psql").exists():
        pytest.fail("PostgreSQL 15 is not installed: run scripts/setup.sh "
                    "(it installs postgresql-15)", pytrace=False)
    python = python_with_psycopg2()
    if python is None:
        pytest.fail("no Python with psycopg2 here: run scripts/setup.sh (it installs "
                    "psycopg2-binary into .venv)", pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="replicator-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pg = Postgres(root, free_port())
    pg.python = python
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
