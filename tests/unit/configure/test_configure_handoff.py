"""The secrets reach ansible-playbook's environment, and no file ansible-runner writes.

Runs a real ansible-runner + ansible-playbook against localhost (no Docker):
the playbook checks the SHA-256 of each secret read with lookup('env'), then
every file of the private data dir (env/, inventory, artifacts: command,
stdout, job events) is searched for the secret values.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
from pathlib import Path

import pytest

from replicator.configure.run import SECRETS_SOCKET_ENV, run_playbook

REPO = Path(__file__).resolve().parents[3]

PLAYBOOK = """\
- name: Read the secrets from the environment
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Compare each secret with its digest
      ansible.builtin.assert:
        that: lookup('ansible.builtin.env', item.key) | hash('sha256') == item.value
      loop: {digests}
      no_log: true
    - name: Show that the variable exists without showing it
      ansible.builtin.debug:
        msg: "{{{{ lookup('ansible.builtin.env', 'REPLICATOR_ODF_API_KEY') | length }}}} characters"
"""


@pytest.fixture
def secret_env() -> dict[str, str]:
    return {"REPLICATOR_ODF_API_KEY": secrets.token_hex(16),
            "REPLICATOR_DB_PASSWORD_ACCREDITATION": secrets.token_hex(16)}


def test_secrets_in_playbook_environment_but_in_no_runner_file(tmp_path, secret_env,
                                                                monkeypatch):
    monkeypatch.setenv("REPLICATOR_SECRETS_KEY", "not-a-real-key-" + secrets.token_hex(8))
    digests = [{"key": k, "value": hashlib.sha256(v.encode()).hexdigest()}
               for k, v in secret_env.items()]
    playbook = tmp_path / "check.yml"
    playbook.write_text(PLAYBOOK.format(digests=json.dumps(digests)))
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_python_interpreter: "
                         f"{sys.executable}\n")
    run_dir = tmp_path / "run"
    result = run_playbook(root=REPO, run_dir=run_dir, inventory=inventory, playbook=playbook,
                          secrets_env=secret_env, label="handoff")
    assert result.succeeded, (result.failures, (result.artifact_dir / "stdout").read_text())
    assert result.hosts["localhost"].ok == 2
    # what ansible-runner recorded: no secret, no Fernet key variable, only the socket path
    command = json.loads((result.artifact_dir / "command").read_text())
    assert SECRETS_SOCKET_ENV in command["env"]
    for name in (*secret_env, "REPLICATOR_SECRETS_KEY"):
        assert name not in command["env"]
    assert not (run_dir / "env").exists()
    values = [v.encode() for v in secret_env.values()]
    values.append(os.environ["REPLICATOR_SECRETS_KEY"].encode())
    leaks = [str(p) for p in run_dir.rglob("*") if p.is_file()
             for v in values if v in p.read_bytes()]
    assert leaks == []
    events = list((result.artifact_dir / "job_events").glob("*.json"))
    assert len(events) > 5  # the events were written (and searched above)


def test_missing_secret_fails_the_check(tmp_path, secret_env):
    digests = [{"key": "REPLICATOR_ODF_API_KEY",
                "value": hashlib.sha256(b"something else").hexdigest()}]
    playbook = tmp_path / "check.yml"
    playbook.write_text(PLAYBOOK.format(digests=json.dumps(digests)))
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_python_interpreter: "
                         f"{sys.executable}\n")
    result = run_playbook(root=REPO, run_dir=tmp_path / "run", inventory=inventory,
                          playbook=playbook, secrets_env=secret_env, label="handoff-bad")
    assert not result.succeeded
    [failure] = result.failures
    assert failure.host == "localhost"
    assert failure.task == "Compare each secret with its digest"
