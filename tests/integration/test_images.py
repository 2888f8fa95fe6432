"""The project's images on the real engine: built (fast when cached), labelled, runnable.

Starts the local engine if it is not running (like `replicator image build`).
Containers this module creates carry the label `replicator.test=test_images`,
a per-process run id and a `replicator-test-images-` name; only those are
removed: this process's at the end, and ones left by an interrupted earlier
run (older than STALE_AFTER) at the start. Parallel workers do not touch
each other's containers.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from rich.console import Console

from replicator.dockerd import connect, ensure_engine
from replicator.images import (
    IMAGE_NAMES,
    LABEL_IMAGE,
    LABEL_RECIPE,
    build_images,
    image_ref,
    image_status,
    load_recipes,
    recipe_hashes,
)

# A cold build (debootstrap + three layers) takes about 2 minutes.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

TEST_LABEL = "replicator.test"
TEST_VALUE = "test_images"
RUN_ID = uuid.uuid4().hex[:8]
STALE_AFTER = 1800  # seconds; no run of this module takes that long


def _remove_containers(client, *, run_id: str | None = None, older_than: float = 0) -> None:
    label = f"{TEST_LABEL}.run={run_id}" if run_id else f"{TEST_LABEL}={TEST_VALUE}"
    for container in client.containers.list(all=True, filters={"label": label}):
        if container.labels.get(TEST_LABEL) != TEST_VALUE:
            continue
        created = datetime.fromisoformat(container.attrs["Created"][:19]).replace(tzinfo=UTC)
        if (datetime.now(UTC) - created).total_seconds() >= older_than:
            container.remove(force=True)


@pytest.fixture(scope="module")
def client():
    info = ensure_engine()
    client = connect(info.docker_host)
    _remove_containers(client, older_than=STALE_AFTER)  # left by an interrupted earlier run
    yield client
    _remove_containers(client, run_id=RUN_ID)
    client.close()


@pytest.fixture(scope="module")
def built(client):
    started = time.monotonic()
    result = build_images(client, progress=Console(stderr=True))
    return result, time.monotonic() - started


@pytest.mark.timeout(1200)
def test_every_image_exists_with_labels(client, built):
    result, _ = built
    hashes = recipe_hashes(load_recipes())
    assert [b.name for b in result] == list(IMAGE_NAMES)
    for b in result:
        assert b.ref == image_ref(b.name, hashes[b.name])
        image = client.images.get(b.ref)
        assert image.labels[LABEL_IMAGE] == b.name
        assert image.labels[LABEL_RECIPE] == hashes[b.name]
        assert client.images.get(image_ref(b.name)).id == image.id  # :latest is this image
    assert all(row.present and row.latest_current for row in image_status(client))


def test_second_build_is_all_cached(client, built):
    started = time.monotonic()
    again = build_images(client, progress=Console(quiet=True))
    elapsed = time.monotonic() - started
    assert [b.action for b in again] == ["cached"] * len(IMAGE_NAMES)
    assert {b.name: b.image_id for b in again} == {b.name: b.image_id for b in built[0]}
    assert elapsed < 10, f"a cached build took {elapsed:.1f} s"


def _run(client, name: str, command=None):
    return client.containers.run(
        image_ref(name),
        command=command,
        name=f"replicator-test-images-{name}-{RUN_ID}",
        labels={TEST_LABEL: TEST_VALUE, f"{TEST_LABEL}.run": RUN_ID},
        init=True,
        detach=True,
        network_mode="none",  # these checks need no network
    )


def _sh(container, command: str) -> str:
    code, output = container.exec_run(["sh", "-c", command])
    text = output.decode(errors="replace")
    assert code == 0, f"{command!r} in {container.name} exited {code}: {text}"
    return text


def _wait_for(container, process: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        ps = _sh(container, "ps -eo pid,comm,args")
        if process in ps:
            return ps
        container.reload()
        assert container.status == "running", container.logs().decode(errors="replace")
        assert time.monotonic() < deadline, f"{process} not running in {container.name}:\n{ps}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def running(client, built):
    """One container per layer image, running its default command (supervisord)."""
    containers = {name: _run(client, name) for name in IMAGE_NAMES if name != "base"}
    yield containers
    for container in containers.values():
        container.remove(force=True)


@pytest.mark.parametrize("name", [n for n in IMAGE_NAMES if n != "base"])
def test_layer_runs_supervisord_under_init(running, name):
    container = running[name]
    ps = _wait_for(container, "supervisord")
    pid1 = next(line for line in ps.splitlines()[1:] if line.split()[0] == "1")
    assert "init" in pid1.split()[1]  # docker-init (tini), from init=True
    _sh(container, "ss -ltn")
    _sh(container, "python3 -c 'import sys; assert sys.version_info >= (3, 11)'")
    assert _sh(container, "supervisorctl -c /etc/supervisor/supervisord.conf pid").strip().isdigit()
    time.sleep(1)  # nothing else starts by itself, and the container stays up
    ps = _sh(container, "ps -eo comm")
    assert "nginx" not in ps and "postgres" not in ps
    container.reload()
    assert container.status == "running"
    assert container.attrs["Config"]["Labels"][LABEL_IMAGE] == name


def test_app_has_its_python_stack(running):
    _sh(running["app"], "python3 -c 'import psycopg2'")
    _sh(running["app"], "curl --version")


def test_web_has_nginx_not_running(running):
    _sh(running["web"], "nginx -v")
    _sh(running["web"], "nginx -t")  # the packaged config is valid


def test_db_has_postgres_15_not_running(running):
    out = _sh(running["db"], "postgres --version && initdb --version && pg_ctl --version")
    assert "15." in out
    _sh(running["db"], "test -f /etc/postgresql/15/main/postgresql.conf")
    _sh(running["db"], "test -d /var/run/postgresql")


def test_base_has_the_basic_tools(client, built):
    container = _run(client, "base", ["sleep", "300"])
    try:
        _sh(container, "ps -e >/dev/null && ss -ltn >/dev/null && python3 -c 'import apt'")
        _sh(container, "test -x /usr/sbin/policy-rc.d && test ! -d /usr/share/man/man1")
        assert "C.UTF-8" in _sh(container, "echo $LANG")
    finally:
        container.remove(force=True)
