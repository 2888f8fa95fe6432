"""Run the `verify/` suite against deployed stacks and write its reports.

    result = run_verification(project_root, ["paris2024-ctoc", "paris2024-itl", "paris2024-toc"],
                              project_root / "reports/paris2024/verify")

The suite runs as its own pytest process (its options and conftest are not the
project's test run's). Its parallelism is threads, not processes: the network
probes (links and isolation share one batch, one ``docker exec`` per source
container) and the application checks of every container (gathered at once)
each run their ``docker exec``s concurrently. pytest-xdist (``workers=2``)
splits those two batches over two processes; measured on the 2-core machines
it costs more than it saves (paris2024, full: 27-31 s with one process, 51 s
with two, under the same load), so it is off unless asked for. It writes into
`output_dir`:

- ``junit.xml``   every check, for CI;
- ``verification.json``  the result (`VerificationResult.to_json`);
- ``verification.html``  a self-contained report (per site and suite, the
  conformance diff, the server counts, the end-to-end latency).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from replicator.errors import InputError, ReplicatorError
from replicator.verification.result import (
    VerificationResult,
    build_checks,
    conformance_of,
    coverage,
    isolation_scope_of,
    latency_of,
    servers_of,
)

LEVELS = ("structure", "full")
SUITE_TIMEOUT = 1800.0


def suite_dir() -> Path:
    """The `verify/` suite of this checkout."""
    here = Path(__file__).resolve().parents[2] / "verify"
    if (here / "conftest.py").is_file():
        return here
    raise ReplicatorError("the verification suite (verify/) is not next to the replicator "
                          "package", fix="run replicator from its source checkout")


def default_output_dir(project_root: Path, edition: str) -> Path:
    return project_root / "reports" / edition / "verify"


def run_verification(project_root: Path, stacks: Sequence[str], output_dir: Path | None = None,
                     *, level: str = "full", workers: int | None = None,
                     isolation_sample: int | None = None, seed: int = 2024,
                     workdir: Path | None = None) -> VerificationResult:
    """Verify `stacks` (deployed stacks of one edition) and write the reports to `output_dir`.

    `level` "structure" leaves out the checks that need configured applications
    (processes, ports, files, health, end to end). `workers`: pytest-xdist
    processes (None or 1: one process, its checks parallel in threads).
    Returns the result; raises `ReplicatorError` only when the suite cannot run
    at all (bad stack names, no Docker, pytest missing). Never raises because a
    check failed: look at `result.passed` / `result.exit_code`.
    """
    from replicator.paths import work_dir

    if level not in LEVELS:
        raise InputError(f"unknown verification level {level!r}", fix="use structure or full")
    if not stacks:
        raise InputError("no stack to verify", fix="give a STACK or --edition")
    root = Path(project_root).resolve()
    workdir = Path(workdir).resolve() if workdir else work_dir(root)
    expectation = _expectation(root, workdir, list(stacks))
    edition = expectation.replica.edition
    out = Path(output_dir) if output_dir else default_output_dir(root, edition)
    out.mkdir(parents=True, exist_ok=True)
    workers = workers or 1
    raw = out / ".outcomes.json"
    junit = out / "junit.xml"
    raw.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", str(suite_dir()), "-q", "-p", "no:cacheprovider",
           "-o", "addopts=", "-o", "junit_family=xunit2", "--strict-markers",
           "--rootdir", str(suite_dir().parent), f"--junitxml={junit}",
           f"--replica-root={root}", f"--replica-workdir={workdir}",
           f"--replica-level={level}", f"--isolation-seed={seed}", f"--verify-json={raw}",
           "-p", "no:randomly"]
    if isolation_sample:
        cmd.append(f"--isolation-sample={isolation_sample}")
    for stack in stacks:
        cmd.append(f"--replica-stack={stack}")
    if workers > 1:
        cmd += ["-n", str(workers), "--dist", "loadgroup"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(suite_dir().parent), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=suite_dir().parent, env=env, capture_output=True,
                              text=True, timeout=SUITE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ReplicatorError(f"the verification suite did not finish in {SUITE_TIMEOUT:.0f} s",
                              fix="look for a hung container; rerun with --level structure") from exc
    seconds = time.monotonic() - started
    if not raw.exists():
        tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-15:])
        raise ReplicatorError(f"the verification suite could not run (pytest exit "
                              f"{proc.returncode}):\n{tail}",
                              fix="check that the stacks are deployed and Docker is running")
    payload = json.loads(raw.read_text())
    raw.unlink(missing_ok=True)
    checks = build_checks(payload["outcomes"], expectation)
    result = VerificationResult(
        edition=edition, stacks=list(stacks), level=level, seconds=seconds, checks=checks,
        declared=expectation.declared_counts(), coverage=coverage(checks, expectation),
        conformance=conformance_of(checks), servers=servers_of(checks),
        latency=latency_of(checks), isolation=isolation_scope_of(checks), workers=workers,
        deselected=_deselected(proc.stdout))
    if payload.get("exitstatus") not in (0, 1):
        result.error = (f"pytest exited {payload.get('exitstatus')}: "
                        + "\n".join((proc.stdout or "").strip().splitlines()[-5:]))
    write_reports(result, out, junit)
    return result


def write_reports(result: VerificationResult, out: Path, junit: Path | None = None) -> None:
    from replicator.verification.render import render_html

    json_path = out / "verification.json"
    html_path = out / "verification.html"
    result.reports = {"json": str(json_path), "html": str(html_path)}
    if junit is not None and junit.exists():
        result.reports["junit"] = str(junit)
    _atomic(json_path, json.dumps(result.to_json(), indent=1, default=str))
    _atomic(html_path, render_html(result))


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _expectation(root: Path, workdir: Path, stacks: list[str]):
    """The same expectation the suite builds (for placing checks per site and suite)."""
    if str(suite_dir().parent) not in sys.path:
        sys.path.insert(0, str(suite_dir().parent))
    from verify.expect import Expectation, Replica

    try:
        return Expectation.build(Replica.load(root, workdir, stacks))
    except ReplicatorError:
        raise
    except ValueError as exc:
        raise InputError(str(exc), fix="verify the stacks of one edition") from exc


def _deselected(stdout: str) -> int:
    import re

    m = re.search(r"(\d+) deselected", stdout or "")
    return int(m.group(1)) if m else 0
