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
    """A throwaway PostgreSQL 15 cluster on a free loopback port (skipped if absent)."""
    if not (PG_BIN / "postgres").exists() or not Path("/usr/bin/psql").exists():
        pytest.skip("PostgreSQL 15 is not installed (apt-get install -y postgresql)")
    python = python_with_psycopg2()
    if python is None:
        pytest.skip("no Python with psycopg2 here (apt-get install -y python3-psycopg2)")
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
