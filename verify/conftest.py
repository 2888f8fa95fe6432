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
MAX_PAIRS = 5000  # undeclared pairs probed by default before sampling
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
    config._verify_index = {}  # type: ignore[attr-defined]
    config._verify_setup = {}  # type: ignore[attr-defined]
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
        except Exception as exc:
            raise pytest.UsageError(f"cannot load the replica: {exc}") from exc
        self.level = config.getoption("--replica-level")
        self.expectation = Expectation.build(self.replica)
        # All undeclared pairs, unless told otherwise or there are too many: then a
        # seeded sample (the same pairs for the same model and seed).
        self.all_pairs = len(self.expectation.isolation_pairs())
        sample = config.getoption("--isolation-sample") or None
        if sample is None and self.all_pairs > MAX_PAIRS:
            sample = MAX_PAIRS
        self.isolation_seed = config.getoption("--isolation-seed")
        self.pairs = self.expectation.isolation_pairs(sample, self.isolation_seed)
        self.probe_timeout = config.getoption("--probe-timeout")
        self._observation: Observation | None = None
        self.prober = Prober(engine_host, timeout=self.probe_timeout, workers=32)

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
                          "isolation_pair", "expected_network") if n in names]
    if not wanted:
        return
    ctx = context(metafunc.config)
    exp = ctx.expectation
    for name in wanted:
        values: list[Any]
        if name == "expected_container":
            values = exp.containers
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
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
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


def link_probe_id(link: Any) -> str:
    return f"link:{link.name}"


def pair_probe_id(pair: Any) -> str:
    return f"iso:{pair.name}"


REPROBE_PAUSES = (0.5, 1.5, 3.0)  # seconds before each new probe of what still fails
CONFIRMED = f"seen on every probe over {sum(REPROBE_PAUSES):g} s"


@pytest.fixture(scope="session")
def probes(ctx: VerifyContext, observation: Observation) -> Prober:
    """Every link and isolation probe, run at once: one `docker exec` per source container.

    The link and isolation tests share the xdist group "probes", so one worker
    runs them all (and this fixture once) while the other takes the rest.
    """
    from verify.observe import ProbeTarget

    batches: dict[tuple[str, str], list[ProbeTarget]] = {}

    def add(src: Any, target: ProbeTarget) -> None:
        obs = observation.containers.get(src.name)
        if obs is not None and obs.running:  # else reported by the test, without a probe
            batches.setdefault((src.docker_host, src.name), []).append(target)

    for link in ctx.expectation.links:
        for src in link.sources:
            add(src, ProbeTarget(link_probe_id(link), link.target_alias, (), (link.port,)))
    for pair in ctx.pairs:
        ips = tuple(sorted({ip for t in pair.targets if t.name in observation.containers
                            for ip in observation.containers[t.name].ips}))
        for src in pair.sources:
            add(src, ProbeTarget(pair_probe_id(pair), pair.target_alias, ips, pair.ports))
    ctx.prober.run(batches)
    # Confirm before failing, again after each pause while any probe still fails:
    # Docker rewrites its isolation rules whenever any network is created or removed
    # on the engine, and a probe can fall into that moment; on a swarm's overlay
    # networks a new container's name reaches the other hosts' resolvers by gossip,
    # seconds later on a loaded machine. A healthy replica pays nothing.
    ctx.prober.confirm(batches, _suspect, REPROBE_PAUSES)
    return ctx.prober



def _suspect(target: Any, result: Any) -> bool:
    if result is None or result.error:
        return True
    if target.id.startswith("link:"):
        return not result.resolved or any(
            result.connect.get(f"{ip}:{port}") != "open"
            for ip in result.resolved for port in target.ports)
    return bool(result.resolved or result.answered)


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
    # On the xdist controller (or a plain run): one entry per test, its findings attached,
    # its time the sum of its phases (a batch of probes is carried by the first check).
    config = _CONFIG.get("config")
    if config is None or hasattr(config, "workerinput"):
        return
    setup = config._verify_setup  # type: ignore[attr-defined]
    if report.when == "setup" and report.outcome == "passed":
        setup[report.nodeid] = report.duration
        return
    if report.when == "teardown":
        entry = config._verify_index.get(report.nodeid)  # type: ignore[attr-defined]
        if entry is not None:
            entry["seconds"] = round(entry["seconds"] + report.duration, 4)
        return
    findings = [json.loads(str(v)) for k, v in report.user_properties if k == PROPERTY]
    entry = {"nodeid": report.nodeid, "outcome": report.outcome, "phase": report.when,
             "seconds": round(report.duration + setup.pop(report.nodeid, 0.0), 4),
             "message": _message(report) if report.outcome != "passed" else "",
             "findings": findings}
    config._verify_outcomes.append(entry)  # type: ignore[attr-defined]
    config._verify_index[report.nodeid] = entry  # type: ignore[attr-defined]


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
