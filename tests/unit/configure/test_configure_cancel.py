"""Interrupting a configure run stops ansible-playbook and its workers (by the process
group ansible-runner started), ends with CancelledError, and restores the caller's
signal handlers. A real ansible-playbook on localhost, no Docker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MARK = "299.25"  # `sleep 299.25`: the worker process this test looks for

DRIVER = f'''
import signal, sys
from pathlib import Path
from replicator.configure.run import run_playbook
from replicator.errors import CancelledError

tmp = Path(sys.argv[1])
before = signal.getsignal(signal.SIGTERM)
try:
    run_playbook(root=Path({str(REPO)!r}), run_dir=tmp / "run", inventory=tmp / "hosts.ini",
                 playbook=tmp / "sleep.yml", secrets_env={{}}, label="cancel-test")
except CancelledError as exc:
    restored = signal.getsignal(signal.SIGTERM) is before
    print("CANCELLED", exc.render().replace("\\n", " "), "RESTORED" if restored else "LEAKED")
    sys.exit(int(exc.exit_code))
print("NOT CANCELLED")
sys.exit(1)
'''


def _pids_running(needle: str) -> list[int]:
    """Processes with `needle` as one word of their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle.encode() in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture
def playbook_dir(tmp_path: Path) -> Path:
    if not (Path(sys.executable).parent / "ansible-playbook").exists():
        pytest.fail("ansible-playbook is not installed: pip install -e '.[configure]'")
    (tmp_path / "hosts.ini").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (tmp_path / "sleep.yml").write_text(
        "- name: A long task\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
        f"    - name: Sleep\n      ansible.builtin.command: sleep {MARK}\n"
        "      changed_when: false\n")
    return tmp_path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupt_stops_the_playbook_and_its_workers(playbook_dir: Path, sig: signal.Signals):
    playbook = str(playbook_dir / "sleep.yml")
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(playbook_dir)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not _pids_running(MARK) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.2)
        assert _pids_running(MARK), "the playbook never started its task"
        # ansible-playbook and the worker it forked for the task.
        workers = _pids_running(playbook)
        assert len(workers) >= 2, workers
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        # The local connection starts the module in a session of its own, out of the
        # playbook's process group (in the replica, modules run inside the containers):
        # stop the `sleep` this test started, by its pid.
        for pid in _pids_running(MARK):
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 5, out
    assert "CANCELLED" in out and f"interrupted by {sig.name}" in out
    assert "RESTORED" in out, out
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _pids_running(playbook), "ansible-playbook outlived the cancelled run"
