"""The state file, its encryption at rest and the stack lock (state.py, secrets.py)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from replicator.engine.properties import SECRET_SIG, SIG_KEY, make_secret
from replicator.engine.secrets import KEY_ENV, SecretsManager
from replicator.engine.state import (
    PendingOperation,
    ResourceState,
    StackState,
    StateStore,
)
from replicator.errors import ExitCode, InputError, StackLockedError

PROJECT_ROOT = Path(__file__).resolve().parents[3]
STACK = "paris2024-itl"
PASSWORD = "hunter2-very-secret"


def store_for(workdir: Path, key: bytes) -> StateStore:
    return StateStore(workdir, STACK, "replicator", SecretsManager(key))


@pytest.fixture
def key() -> bytes:
    return Fernet.generate_key()


@pytest.fixture
def store(tmp_path: Path, key: bytes) -> StateStore:
    return store_for(tmp_path, key)


def sample_state() -> StackState:
    root = f"urn:pulumi:{STACK}::replicator::pulumi:pulumi:Stack::replicator-{STACK}"
    net = f"urn:pulumi:{STACK}::replicator::docker:index/network:Network::lan"
    ctr = f"urn:pulumi:{STACK}::replicator::docker:index/container:Container::db"
    return StackState(
        stack=STACK,
        project="replicator",
        resources=[
            ResourceState(urn=root, type="pulumi:pulumi:Stack", custom=False),
            ResourceState(urn=net, type="docker:index/network:Network", custom=True, id="n1",
                          parent=root, inputs={"name": "lan", "ipamConfigs": [{"subnet": "10.0.0.0/24"}]},
                          outputs={"name": "lan", "id": "n1"}, protect=True,
                          delete_before_replace=True),
            ResourceState(urn=ctr, type="docker:index/container:Container", custom=True, id="c1",
                          parent=root, provider="urn:p::pid",
                          inputs={"name": "db", "memory": 256, "ports": [{"internal": 5432}],
                                  "envs": ["A=1", make_secret(f"PASSWORD={PASSWORD}")]},
                          outputs={"id": "c1", "envs": make_secret(["A=1", f"PASSWORD={PASSWORD}"])},
                          dependencies=[net], ignore_changes=["ports[0].external"],
                          additional_secret_outputs=["envs"],
                          observed={"running": False, "status": "exited", "exitCode": 1},
                          created="2026-01-01T00:00:00+00:00", modified="2026-01-02T00:00:00+00:00"),
        ],
        outputs={"site": "itl", "adminPassword": make_secret(PASSWORD), "count": 3},
        engines={"urn:p": {"host": "unix:///var/run/docker.sock", "cpus": 4}},
        pending=[PendingOperation(urn=ctr, type="docker:index/container:Container", op="create",
                                  name="db", provider="urn:p::pid")],
        last_operation={"kind": "up", "result": "succeeded"},
    )


# ---------------------------------------------------------------------------- round trip


def test_load_without_a_file_is_an_empty_state(store: StateStore) -> None:
    assert not store.exists()
    state = store.load()
    assert (state.stack, state.project, state.resources, state.pending) == (
        STACK, "replicator", [], [])


def test_save_load_round_trip(store: StateStore) -> None:
    state = sample_state()
    store.save(state)
    loaded = store.load()
    assert loaded == state
    ctr = loaded.by_urn()[state.resources[2].urn]
    assert type(ctr.inputs["memory"]) is int
    assert ctr.observed["running"] is False
    assert loaded.pending[0] == state.pending[0]


def test_secrets_are_stored_as_ciphertext_and_come_back_decrypted(store: StateStore) -> None:
    store.save(sample_state())
    text = store.path.read_text()
    assert PASSWORD not in text
    raw = json.loads(text)
    [root] = [r for r in raw["checkpoint"]["latest"]["resources"] if r["type"] == "pulumi:pulumi:Stack"]
    stored = root["outputs"]["adminPassword"]
    assert stored[SIG_KEY] == SECRET_SIG and "ciphertext" in stored and "value" not in stored
    loaded = store.load()
    assert loaded.outputs["adminPassword"] == make_secret(PASSWORD)
    ctr = loaded.resources[2]
    assert ctr.inputs["envs"][1] == make_secret(f"PASSWORD={PASSWORD}")
    assert ctr.outputs["envs"] == make_secret(["A=1", f"PASSWORD={PASSWORD}"])


def test_plain_values_stay_readable(store: StateStore) -> None:
    store.save(sample_state())
    raw = json.loads(store.path.read_text())
    assert raw["version"] == 3
    [root] = [r for r in raw["checkpoint"]["latest"]["resources"] if r["type"] == "pulumi:pulumi:Stack"]
    assert root["outputs"]["site"] == "itl", "stack outputs live on the root Stack resource"
    assert raw["checkpoint"]["replicator"]["lastOperation"] == {"kind": "up", "result": "succeeded"}


def test_state_file_is_private(store: StateStore) -> None:
    store.save(sample_state())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_save_replaces_the_file_atomically(store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save(sample_state())
    before = store.path.read_text()

    def boom(src: object, dst: object) -> None:
        raise OSError("disk on fire")

    changed = sample_state()
    changed.resources = changed.resources[:1]
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        store.save(changed)
    monkeypatch.undo()
    assert store.path.read_text() == before
    assert sorted(p.name for p in store.dir.iterdir()) == [f"{STACK}.json"], "no temp file left"
    assert len(store.load().resources) == 3


def test_save_failure_while_writing_leaves_no_temp_file(
        store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save(sample_state())
    before = store.path.read_text()

    def no_sync(fd: int) -> None:
        raise OSError("fsync failed")

    monkeypatch.setattr(os, "fsync", no_sync)
    with pytest.raises(OSError, match="fsync failed"):
        store.save(StackState(stack=STACK, project="replicator"))
    monkeypatch.undo()
    assert store.path.read_text() == before
    assert [p.name for p in store.dir.iterdir()] == [f"{STACK}.json"]


def test_remove_deletes_the_state(store: StateStore) -> None:
    store.save(sample_state())
    store.remove()
    assert not store.exists()
    store.remove()  # idempotent


# ---------------------------------------------------------------------------- bad files


def test_wrong_secrets_key_is_a_clear_input_error(tmp_path: Path, store: StateStore) -> None:
    store.save(sample_state())
    other = store_for(tmp_path, Fernet.generate_key())
    with pytest.raises(InputError) as info:
        other.load()
    message = str(info.value)
    assert "secrets key does not match" in message
    assert str(store.path) in message
    assert KEY_ENV in (info.value.fix or "")
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_corrupt_json_names_file_and_line(store: StateStore) -> None:
    store.dir.mkdir(parents=True)
    store.path.write_text('{\n "version": 1,\n "stack": oops\n}\n')
    with pytest.raises(InputError) as info:
        store.load()
    assert info.value.location.file == store.path
    assert info.value.location.line == 3
    assert f"{store.path}:3" in str(info.value)


def test_unsupported_version_is_refused(store: StateStore) -> None:
    store.dir.mkdir(parents=True)
    store.path.write_text(json.dumps({"version": 99, "stack": STACK, "project": "replicator"}))
    with pytest.raises(InputError) as info:
        store.load()
    assert info.value.location.path == "version"
    assert "99" in info.value.message


# ---------------------------------------------------------------------------- secrets key


def test_key_file_is_created_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    first = SecretsManager.for_workdir(tmp_path / "work")
    key_file = tmp_path / "work" / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = first.encrypt_tree(make_secret("x"))
    second = SecretsManager.for_workdir(tmp_path / "work")
    assert second.decrypt_tree(token) == make_secret("x")


def test_key_from_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key()
    monkeypatch.setenv(KEY_ENV, key.decode())
    manager = SecretsManager.for_workdir(tmp_path)
    assert not (tmp_path / "secrets.key").exists()
    token = manager.encrypt_tree({"a": [make_secret(1)]})
    assert SecretsManager(key).decrypt_tree(token) == {"a": [make_secret(1)]}


def test_encrypt_tree_keeps_types_of_secret_values() -> None:
    manager = SecretsManager(Fernet.generate_key())
    value = {"n": make_secret(5), "l": make_secret([1, "a"]), "m": make_secret({"k": None})}
    assert manager.decrypt_tree(manager.encrypt_tree(value)) == value


# ---------------------------------------------------------------------------- lock

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from cryptography.fernet import Fernet
    from replicator.engine.secrets import SecretsManager
    from replicator.engine.state import StateStore
    store = StateStore(Path(sys.argv[1]), sys.argv[2], "replicator",
                       SecretsManager(Fernet.generate_key()))
    store.acquire_lock("replicator up " + sys.argv[2] + " --from-test")
    print("LOCKED", flush=True)
    time.sleep(120)
""")


@pytest.fixture
def holder(tmp_path: Path):
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), STACK],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(30, proc.kill)  # never hang on a child that does not start
    watchdog.start()
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        watchdog.cancel()
        if line.strip() != "LOCKED":
            proc.kill()
            raise AssertionError(f"the lock holder did not start: {proc.stderr.read() if proc.stderr else ''}")
        yield proc
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def test_second_lock_names_the_holder(store: StateStore, holder: subprocess.Popen) -> None:
    with pytest.raises(StackLockedError) as info:
        store.acquire_lock("replicator up second")
    message = str(info.value)
    assert f"pid {holder.pid}" in message
    assert f"replicator up {STACK} --from-test" in message
    assert info.value.exit_code == ExitCode.CONFLICT
    assert info.value.location.file == store.lock_path


def test_lock_is_released_when_the_holder_is_killed(store: StateStore, holder: subprocess.Popen) -> None:
    with pytest.raises(StackLockedError):
        store.acquire_lock("replicator up second")
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    store.acquire_lock("replicator up third")
    try:
        info = json.loads(store.lock_path.read_text())
        assert info["pid"] == os.getpid()
        assert info["command"] == "replicator up third"
    finally:
        store.release_lock()


def test_lock_within_one_process_and_release(tmp_path: Path, key: bytes) -> None:
    first, second = store_for(tmp_path, key), store_for(tmp_path, key)
    first.acquire_lock("one")
    try:
        with pytest.raises(StackLockedError, match=rf"pid {os.getpid()} \(one,"):
            second.acquire_lock("two")
    finally:
        first.release_lock()
    assert first.lock_path.read_text() == "", "a released lock names nobody"
    second.acquire_lock("two")
    second.release_lock()


def test_locks_are_per_stack(tmp_path: Path, key: bytes) -> None:
    a = store_for(tmp_path, key)
    b = StateStore(tmp_path, "paris2024-toc", "replicator", SecretsManager(key))
    a.acquire_lock("a")
    try:
        b.acquire_lock("b")
        b.release_lock()
    finally:
        a.release_lock()


def test_lock_held_by_a_process_that_wrote_nothing(tmp_path: Path, key: bytes) -> None:
    import fcntl

    store = store_for(tmp_path, key)
    store.dir.mkdir(parents=True)
    with open(store.lock_path, "w") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        with pytest.raises(StackLockedError, match="locked by another process"):
            store.acquire_lock("x")
