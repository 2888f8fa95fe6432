"""Run the site playbook with ansible-runner, and read its events.

Secrets: ansible-runner records the environment it is given. `envvars` and
`extravars` passed to `run()` are written in clear to `env/envvars` and
`env/extravars` of the private data dir (unless `suppress_env_files`), and
every run writes `artifacts/<ident>/command`, a JSON file holding the whole
environment of the ansible-playbook process. So the secrets are never given
to ansible-runner at all: its `binary` is a small wrapper (written in the run
dir, no secret inside) that fetches them over a one-shot Unix socket from
this process, puts them into its own environment and execs ansible-playbook.
The roles read them with `lookup('ansible.builtin.env', ...)` in `no_log`
tasks. The Fernet key variable (REPLICATOR_SECRETS_KEY) is also kept out of
the runner's environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from replicator.configure.passes import PassEnd, PassSplitter, PassStart
from replicator.configure.results import EventHandler, PlaybookResult, TaskOutcome
from replicator.configure.strategy import Strategy, collections_env, strategy_env
from replicator.engine.secrets import KEY_ENV
from replicator.errors import CancelledError, EngineUnavailableError
from replicator.secrets_store import DB_PASSWORD_ENV_PREFIX, ODF_API_KEY_ENV

SECRETS_SOCKET_ENV = "REPLICATOR_SECRETS_SOCKET"
REAL_PLAYBOOK_ENV = "REPLICATOR_ANSIBLE_PLAYBOOK"
WRAPPER_NAME = "ansible-playbook-with-secrets"

_WRAPPER = '''#!{python}
# Written by `replicator configure` (no secret in this file): fetches the
# edition's secrets over a one-shot Unix socket from the replicator process,
# puts them into this process's environment and execs ansible-playbook. So
# ansible-runner, which records the environment it is given, never sees them.
import json
import os
import socket
import sys

path = os.environ.pop("{socket_env}", "")
if path:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(60)
    conn.connect(path)
    chunks = []
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    conn.close()
    os.environ.update(json.loads(b"".join(chunks).decode()))
real = os.environ.pop("{playbook_env}", "ansible-playbook")
os.execv(real, [real] + sys.argv[1:])
'''


# --------------------------------------------------------------------------- secrets handoff


class SecretsHandoff:
    """Serves the secrets once, over a Unix socket in a private temp dir."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._payload = json.dumps(dict(env)).encode()
        self._dir = tempfile.mkdtemp(prefix="replicator-")
        os.chmod(self._dir, 0o700)
        self.path = os.path.join(self._dir, "secrets.sock")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(self.path)
        os.chmod(self.path, 0o600)
        self._sock.listen(1)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self.served = 0
        self._thread = threading.Thread(target=self._serve, name="secrets-handoff", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                        struct.calcsize("3i"))
                _pid, uid, _gid = struct.unpack("3i", creds)
                if uid != os.getuid():
                    continue
                conn.sendall(self._payload)
            self.served += 1
            return

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        self._thread.join(timeout=2)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_secret_env(name: str) -> bool:
    return name in (KEY_ENV, ODF_API_KEY_ENV) or name.startswith(DB_PASSWORD_ENV_PREFIX)


def venv_bin() -> Path:
    """The bin/ of the Python running replicator (ansible-playbook lives there)."""
    return Path(sys.executable).parent


def write_wrapper(run_dir: Path) -> Path:
    path = run_dir / WRAPPER_NAME
    text = _WRAPPER.format(python=sys.executable, socket_env=SECRETS_SOCKET_ENV,
                           playbook_env=REAL_PLAYBOOK_ENV)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    path.chmod(0o755)
    return path


# --------------------------------------------------------------------------- the run


class _CancelOnSignal:
    """SIGINT and SIGTERM during a run ask ansible-runner to cancel it: it then kills
    the process group of the ansible-playbook it started, workers included, instead
    of leaving them running after replicator exits. ansible-runner installs such
    handlers itself but never restores the old ones; this scopes them to the run.
    Outside the main thread signals cannot be caught, so nothing is installed."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)

    def _note(self, signum: int, _frame: object) -> None:
        self.received = signal.Signals(signum)

    def requested(self) -> bool:
        return self.received is not None



class _AdoptOrphans:
    """Makes this process the subreaper of what ansible-playbook starts, for one run.

    ansible-runner stops a cancelled run by killing the process group of
    ansible-playbook. Ansible's workers start sessions of their own, and under
    Mitogen a worker whose mux was killed waits forever: it would outlive the
    run, adopted by init. As a subreaper (Linux prctl), this process adopts
    them instead; on the way out it kills the adopted ansible-playbook
    processes (`marker` in their command line), by pid, and reaps them.
    """

    PR_SET_CHILD_SUBREAPER = 36
    PR_GET_CHILD_SUBREAPER = 37

    def __init__(self, marker: str) -> None:
        self.marker = marker.encode()
        self._before: set[int] = set()
        self._was: int | None = None

    def __enter__(self) -> Self:
        self._before = set(self._children())
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            was = ctypes.c_int(0)
            libc.prctl(self.PR_GET_CHILD_SUBREAPER, ctypes.byref(was), 0, 0, 0)
            if libc.prctl(self.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0:
                self._was = was.value
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            self._was = None
        return self

    def __exit__(self, *exc: object) -> None:
        for pid, cmdline in self._children().items():
            if pid in self._before or self.marker not in cmdline:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        if self._was == 0:
            import ctypes

            ctypes.CDLL(None).prctl(self.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)

    @staticmethod
    def _children() -> dict[int, bytes]:
        """This process's children (pid: command line), from /proc."""
        me, found = os.getpid(), {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == me:
                    found[int(entry.name)] = (entry / "cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
        return found




def default_forks() -> int:
    """Forks for this machine: 12 per core, 4 to 32.

    More than the cores: on a first pass most forks sit in a handler waiting
    for a program to answer (an app's /health, pg_isready) while the other
    hosts wait for a free fork. Measured on 2 cores (issue #9): pass 1 of 40
    containers took 406 s with 8 forks (load 10) and 328 s with 24 (load 28);
    a re-run is not slower with more forks.
    """
    return max(4, min(32, 12 * (os.cpu_count() or 2)))


def run_playbook(*, root: Path, run_dir: Path, inventory: Path, playbook: Path,
                 secrets_env: Mapping[str, str], label: str, check: bool = False,
                 limit: str | None = None, forks: int | None = None,
                 strategy: Strategy = "mitogen", on_event: EventHandler | None = None,
                 keep_artifacts: int = 10, verbosity: int = 0) -> PlaybookResult:
    """One ansible-playbook run through ansible-runner; the result parsed from its events."""
    return run_passes(root=root, run_dir=run_dir, inventory=inventory, playbook=playbook,
                      secrets_env=secrets_env, labels=[label], check=check, limit=limit,
                      forks=forks, strategy=strategy, keep_artifacts=keep_artifacts,
                      verbosity=verbosity, on_start=lambda _number: on_event)[0]


def run_passes(*, root: Path, run_dir: Path, inventory: Path, playbook: Path,
               secrets_env: Mapping[str, str], labels: Sequence[str], check: bool = False,
               limit: str | None = None, forks: int | None = None,
               strategy: Strategy = "mitogen", keep_artifacts: int = 10, verbosity: int = 0,
               on_start: PassStart | None = None,
               on_end: PassEnd | None = None) -> list[PlaybookResult]:
    """One pass of the playbook per label, all in one ansible-playbook run (see `passes`).

    A pass that fails ends the run there: the list then holds the passes up to it.
    """
    try:
        from ansible_runner.interface import init_runner
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EngineUnavailableError(
            "ansible-runner is not installed", fix="pip install -e '.[configure]'") from exc
    real_playbook = _ansible_playbook()
    run_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(run_dir, 0o700)
    wrapper = write_wrapper(run_dir)
    tmp = run_dir / "tmp"
    tmp.mkdir(exist_ok=True)
    label = labels[-1]
    ident = f"{time.strftime('%Y%m%dT%H%M%S')}-{label}"
    # With a `binary`, ansible-runner runs in raw mode and leaves the playbook out;
    # ansible-playbook plays each playbook named, in order, in the same process.
    cmdline = [shlex.quote(str(playbook))] * len(labels)
    if check:
        cmdline.append("--check")
    if verbosity:
        cmdline.append("-" + "v" * min(verbosity, 4))

    splitter = PassSplitter(labels, check=check, on_start=on_start, on_end=on_end)

    def handler(event: Mapping[str, Any]) -> bool:
        splitter.handle(event)
        return True  # keep the event file in the artifacts

    started = time.monotonic()
    with SecretsHandoff(secrets_env) as handoff, _CancelOnSignal() as cancel, \
            _AdoptOrphans(str(playbook)):
        envvars = {
            # ansible-runner returns rc 127 unless ansible's tools are on PATH.
            "PATH": f"{venv_bin()}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "ANSIBLE_CONFIG": str(root / "ansible.cfg"),
            "ANSIBLE_ROLES_PATH": str(root / "roles"),
            **collections_env(root, run_dir),
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_LOCAL_TEMP": str(tmp),
            "ANSIBLE_NOCOLOR": "1",
            **strategy_env(strategy),
            SECRETS_SOCKET_ENV: handoff.path,
            REAL_PLAYBOOK_ENV: str(real_playbook),
        }
        runner = init_runner(
            private_data_dir=str(run_dir), playbook=str(playbook), inventory=str(inventory),
            envvars=envvars, suppress_env_files=True, binary=str(wrapper), ident=ident,
            forks=forks or default_forks(), limit=limit or None,
            cmdline=" ".join(cmdline), quiet=True, event_handler=handler,
            cancel_callback=lambda: cancel.requested() or splitter.cancel_requested(),
            settings={"pexpect_timeout": 0.5},
            rotate_artifacts=keep_artifacts, project_dir=str(root))
        for name in list(runner.config.env):
            if _is_secret_env(name):
                del runner.config.env[name]
        runner.run()
        served = handoff.served
    seconds = time.monotonic() - started
    artifact_dir = Path(runner.config.artifact_dir)
    if cancel.received is not None:
        raise CancelledError(
            f"{label}: interrupted by {cancel.received.name} after {seconds:.0f} s; "
            "ansible-playbook and its workers were stopped "
            f"(log: {artifact_dir / 'stdout'})",
            fix="run the same command again: the roles are idempotent, so it picks up "
                "where this run stopped")
    status, rc = str(runner.status), int(runner.rc if runner.rc is not None else 1)
    results = splitter.finish(status=status, rc=rc, artifact_dir=artifact_dir)
    last = results[-1]
    if not served and rc != 0 and not last.failures:
        last.failures.append(TaskOutcome("-", "hand the secrets to ansible-playbook", message=(
            f"ansible-playbook did not fetch the secrets; see {artifact_dir / 'stdout'}")))
    return results


def _ansible_playbook() -> Path:
    """The ansible-playbook installed next to replicator (or on PATH)."""
    real_playbook = venv_bin() / "ansible-playbook"
    if real_playbook.exists():
        return real_playbook
    found = shutil.which("ansible-playbook")
    if not found:
        raise EngineUnavailableError(
            "ansible-playbook is not installed next to replicator",
            fix="pip install -e '.[configure]' (the `ansible` package brings community.docker)")
    return Path(found)


def recorded_events(artifact_dir: Path) -> Iterator[dict[str, Any]]:
    """The events ansible-runner saved for a run (job_events/*.json, in order)."""
    directory = artifact_dir / "job_events"
    files = sorted(directory.glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0]))
    for path in files:
        with contextlib.suppress(ValueError):
            yield json.loads(path.read_text())
