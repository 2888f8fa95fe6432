"""The verification suite's context: parametrized from the topology model and the stacks.

Run by `replicator verify` (replicator/verification/runner.py), never by the
project's own test run (pyproject's testpaths is ``tests``). Options:

    --replica-root DIR       the project (Pulumi.yaml, stacks/); default: the current directory
    --replica-workdir DIR    its run-time files (state); default: <root>/.replicator or REPLICATOR_HOME
    --replica-stack STACK    a stack to verify (repeat); the others of the edition give context
    --replica-level LEVEL    structure (containers, labels, networks, links, isolation, servers)
                             or full (also processes, ports, files, health, end to end)
    --isolation-sample N     probe a seeded sample of N undeclared pairs (0: all of them)
    --isolation-seed S       the seed of that sample
    --verify-json FILE       write every check's outcome and findings as JSON

No host list is kept anywhere: every parameter (containers, services, links,
isolation pairs, networks) comes from `verify.expect.Expectation`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from verify.backend import engine_host
from verify.expect import Expectation, Replica
from verify.observe import DockerObserver, Observation, Prober

APPLICATION = "application"
LEVELS = ("structure", "full")
PROPERTY = "verify"  # user_properties key carrying a check's findings (JSON)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replica", "replicator verification")
    group.addoption("--replica-root", default=None, help="project root (Pulumi.yaml)")
    group.addoption("--replica-workdir", default=None, help="run-time files (state)")
    group.addoption("--replica-stack", action="append", default=[], help="stack to verify")
    group.addoption("--replica-level", default="full", choices=LEVELS)
    group.addoption("--isolation-sample", type=int, default=0)
    group.addoption("--isolation-seed", type=int, default=2024)
    group.addoption("--probe-timeout", type=float, default=1.0)
    group.addoption("--verify-json", default=None, help="write the outcomes as JSON here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{APPLICATION}: needs the configured application suites "
                                       "(skipped with --replica-level structure)")
    config.addinivalue_line("markers", "xdist_group(name): run on one xdist worker")
    config._verify_outcomes = []  # type: ignore[attr-defined]
    config._verify_started = time.time()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- context


class VerifyContext:
    """Built once per process (each xdist worker builds its own, identically)."""

    def __init__(self, config: pytest.Config) -> None:
        root = Path(config.getoption("--replica-root") or os.getcwd()).resolve()
        workdir_opt = config.getoption("--replica-workdir")
        if workdir_opt:
            workdir = Path(workdir_opt).resolve()
        else:
            from replicator.paths import work_dir

            workdir = work_dir(root)
        stacks = config.getoption("--replica-stack")
        if not stacks:
            raise pytest.UsageError("give at least one --replica-stack")
        try:
            self.replica = Replica.load(root, workdir, stacks)
        except Exception as exc:  # noqa: BLE001 - any load error ends the run plainly
            raise pytest.UsageError(f"cannot load the replica: {exc}") from exc
        self.level = config.getoption("--replica-level")
        self.expectation = Expectation.build(self.replica)
        sample = config.getoption("--isolation-sample") or None
        self.pairs = self.expectation.isolation_pairs(sample, config.getoption("--isolation-seed"))
        self.probe_timeout = config.getoption("--probe-timeout")
        self._observation: Observation | None = None
        self.prober = Prober(engine_host, timeout=self.probe_timeout)

    @property
    def observation(self) -> Observation:
        if self._observation is None:
            tags = {c.image for c in self.expectation.all_containers.values()}
            self._observation = DockerObserver(
                self.replica.docker_hosts(), self.replica.edition,
                list(self.replica.stacks)).observe(tags)
        return self._observation

    def host(self, container: Any) -> Any:
        return engine_host(container.docker_host, container.name)


def context(config: pytest.Config) -> VerifyContext:
    ctx = getattr(config, "_verify_context", None)
    if ctx is None:
        ctx = VerifyContext(config)
        config._verify_context = ctx  # type: ignore[attr-defined]
    return ctx


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    wanted = [n for n in ("expected_container", "expected_service", "expected_link",
                          "isolation_pair", "expected_network", "app_container", "web_container",
                          "db_container") if n in names]
    if not wanted:
        return
    ctx = context(metafunc.config)
    exp = ctx.expectation
    for name in wanted:
        values: list[Any]
        if name == "expected_container":
            values = exp.containers
        elif name in ("app_container", "web_container", "db_container"):
            tier = name.split("_")[0]
            values = [c for c in exp.containers if c.tier == tier]
        elif name == "expected_service":
            values = exp.services
        elif name == "expected_link":
            values = exp.links
        elif name == "isolation_pair":
            values = ctx.pairs
        else:
            values = exp.networks
        metafunc.parametrize(name, values, ids=[_id(v) for v in values])


def _id(value: Any) -> str:
    return getattr(value, "subject", None) or getattr(value, "name", None) or repr(value)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--replica-level") == "full":
        return
    keep, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker(APPLICATION) else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def ctx(request: pytest.FixtureRequest) -> VerifyContext:
    return context(request.config)


@pytest.fixture(scope="session")
def replica(ctx: VerifyContext) -> Replica:
    return ctx.replica


@pytest.fixture(scope="session")
def expectation(ctx: VerifyContext) -> Expectation:
    return ctx.expectation


@pytest.fixture(scope="session")
def observation(ctx: VerifyContext) -> Observation:
    return ctx.observation


@pytest.fixture(scope="session")
def prober(ctx: VerifyContext) -> Prober:
    return ctx.prober


@pytest.fixture
def record(request: pytest.FixtureRequest):
    """record(kind, subject, **data): the findings of this check, for the JSON and HTML report."""

    def add(kind: str, subject: str, **data: Any) -> None:
        request.node.user_properties.append(
            (PROPERTY, json.dumps({"kind": kind, "subject": subject, **data}, default=str)))

    return add


def fail_with(subject: str, problems: list[str]) -> None:
    """Fail the check with one line per problem, naming the subject first."""
    __tracebackhide__ = True
    if problems:
        pytest.fail(f"{subject}: " + "; ".join(problems), pytrace=False)


# --------------------------------------------------------------------------- outcomes


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # On the xdist controller (or a plain run): one entry per test, its findings attached.
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    config = _CONFIG.get("config")
    if config is None or hasattr(config, "workerinput"):
        return
    findings = [json.loads(v) for k, v in report.user_properties if k == PROPERTY]
    message = ""
    if report.outcome != "passed":
        message = _message(report)
    config._verify_outcomes.append({  # type: ignore[attr-defined]
        "nodeid": report.nodeid, "outcome": report.outcome, "phase": report.when,
        "seconds": round(report.duration, 4), "message": message, "findings": findings,
    })


def _message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # skipped: (file, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
    else:
        text = str(longrepr)
    return text.removeprefix("Failed: ").strip()


_CONFIG: dict[str, pytest.Config] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    path = config.getoption("--verify-json")
    if not path or hasattr(config, "workerinput"):
        return
    payload = {"started": config._verify_started,  # type: ignore[attr-defined]
               "seconds": round(time.time() - config._verify_started, 3),  # type: ignore[attr-defined]
               "exitstatus": int(exitstatus), "level": config.getoption("--replica-level"),
               "stacks": config.getoption("--replica-stack"),
               "outcomes": config._verify_outcomes}  # type: ignore[attr-defined]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(payload, indent=1))
