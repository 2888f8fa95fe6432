"""ansible-lint (production profile, .ansible-lint) on roles/ and playbooks/: nothing to report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def test_ansible_lint_reports_nothing():
    bindir = Path(sys.executable).parent
    lint = bindir / "ansible-lint"
    if not lint.exists() and not shutil.which("ansible-lint"):
        pytest.fail("ansible-lint is not installed: pip install -e '.[configure]'")
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
               NO_COLOR="1", ANSIBLE_LINT_NODEPS="1")
    proc = subprocess.run([str(lint if lint.exists() else "ansible-lint"), "roles/", "playbooks/"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert "0 failure(s), 0 warning(s)" in proc.stderr + proc.stdout
