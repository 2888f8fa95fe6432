"""replicator.api: the options objects, the events, and the boundary with the CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from replicator import api
from replicator.api import events as ev
from replicator.api import options as api_options
from replicator.api.operations import StatusResult, _Progress
from replicator.api.options import (
    PIPELINE_STEPS,
    CampaignOptions,
    CampaignReportOptions,
    ConfigureOptions,
    DeployOptions,
    HostsDownOptions,
    HostsUpOptions,
    ReplicateOptions,
    ReportOptions,
    StatusOptions,
    VerifyOptions,
)
from replicator.api.pipeline import STEPS, Step, StepFailedError
from replicator.api.service import run_targets
from replicator.api.targets import Targets
from replicator.engine.diff import Op
from replicator.engine.events import Diagnostic
from replicator.engine.events import Step as ResourceStep
from replicator.engine.runner import RunResult
from replicator.errors import ExitCode, InputError, ReplicatorError

REPO = Path(__file__).resolve().parents[3]


# --------------------------------------------------------------------------- the boundary
def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_no_module_outside_the_cli_imports_it() -> None:
    # `python -m replicator` (replicator/__main__.py) is the command itself.
    allowed = {REPO / "replicator" / "__main__.py"}
    offenders = []
    for top in ("replicator", "infra", "verify", "apps", "bench"):
        for path in sorted((REPO / top).rglob("*.py")):
            if path in allowed or (REPO / "replicator" / "cli") in path.parents:
                continue
            bad = [n for n in _imports(path) if n == "replicator.cli"
                   or n.startswith("replicator.cli.")]
            if bad:
                offenders.append(f"{path.relative_to(REPO)}: {', '.join(sorted(set(bad)))}")
    assert not offenders, "modules outside replicator/cli import it:\n" + "\n".join(offenders)


def test_the_boundary_check_sees_an_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from replicator.cli.deploy import up\n")
    assert "replicator.cli.deploy" in _imports(module)


# Command modules whose every operation goes through replicator.api: they import no
# package that does the work (a command that reaches past the API fails here).
THIN_COMMANDS = {
    "campaign.py": ("replicator.campaign",),
    "hosts.py": ("replicator.hosts",),
    "deploy.py": ("replicator.status", "replicator.engine", "replicator.stacks"),
    "config.py": ("replicator.stack_config", "replicator.engine"),
    "graph.py": ("replicator.topology",),
    "odf.py": ("replicator.configure",),
    "stack.py": ("replicator.engine",),
    "image.py": ("replicator.images", "replicator.dockerd"),
    "engine.py": ("replicator.dockerd.ensure_engine", "replicator.dockerd.stop_engine"),
    "verify.py": ("replicator.verification",),
}


@pytest.mark.parametrize("module", sorted(THIN_COMMANDS))
def test_thin_commands_reach_the_work_only_through_the_api(module: str) -> None:
    names = _imports(REPO / "replicator" / "cli" / module)
    bad = [n for n in names for pkg in THIN_COMMANDS[module] if n == pkg or n.startswith(pkg + ".")]
    assert not bad, f"replicator/cli/{module} imports {bad}: call replicator.api instead"


def test_import_replicator_api_loads_neither_the_cli_nor_typer() -> None:
    code = ("import sys, replicator.api; "
            "bad = [m for m in sys.modules if m == 'typer' or m.startswith('replicator.cli') "
            "or m.startswith('replicator.engine') or m == 'pulumi']; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- options
@pytest.mark.parametrize("make", [
    lambda: DeployOptions(verb="deploy"),
    lambda: DeployOptions(verb="up", parallel=0),
    lambda: DeployOptions(verb="up", engine="docker"),
    lambda: DeployOptions(verb="up", cwd=Path("/tmp"), edition="paris2024"),
    lambda: DeployOptions(verb="up", cwd=Path("/tmp"), engine="pulumi"),
    lambda: DeployOptions(verb="up", colour="red"),
    lambda: ConfigureOptions(check=True, idempotence=True),
    lambda: ConfigureOptions(forks=0),
    lambda: VerifyOptions(level="partial"),
    lambda: VerifyOptions(workers=9),
    lambda: ReportOptions(workers=0),
    lambda: ReplicateOptions(edition="paris2024", skip=frozenset({"deploy"})),
    lambda: ReplicateOptions(),
    lambda: HostsUpOptions(edition="paris2024", per_site=9),
    lambda: HostsUpOptions(),
    lambda: CampaignOptions(file=Path("c.yaml"), scale=0),
    lambda: CampaignOptions(),
    lambda: CampaignReportOptions(target_hours=0),
    lambda: StatusOptions(stacks=["x"]),
])
def test_bad_options_are_input_errors(make: Any) -> None:
    with pytest.raises(InputError) as info:
        make()
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_options_name_the_field_and_keep_the_command_line_wording() -> None:
    with pytest.raises(InputError, match=r"--parallel: .*DeployOptions\.parallel"):
        DeployOptions(verb="up", parallel=65)
    with pytest.raises(InputError, match="--engine: "):
        DeployOptions(verb="up", engine="warp")
    with pytest.raises(InputError, match="--edition names stacks of this project") as info:
        DeployOptions(verb="up", cwd=Path("/tmp"), edition="paris2024")
    assert info.value.fix and "--cwd DIR STACK" in info.value.fix
    with pytest.raises(InputError, match="no step deploy"):
        ReplicateOptions(edition="paris2024", skip=frozenset({"deploy", "up"}))


def test_campaign_options_name_the_command_line_flags() -> None:
    with pytest.raises(InputError, match=r"--scale: .*CampaignOptions\.scale"):
        CampaignOptions(file=Path("c.yaml"), scale=5000)
    with pytest.raises(InputError, match=r"--per-site: .*HostsUpOptions\.per_site"):
        HostsUpOptions(edition="paris2024", per_site=0)
    assert HostsDownOptions().edition is None  # every edition's hosts


def test_the_campaign_runner_progress_becomes_events() -> None:
    from replicator.campaign.store import StepRecord

    seen: list[ev.Event] = []
    progress = _Progress(seen.append)
    cells = [SimpleNamespace(name="swimming-aqc"), SimpleNamespace(name="athletics-sta")]
    progress.started(7, cells, 5)  # type: ignore[arg-type]
    progress.step_started(cells[1], "peak x2")  # type: ignore[arg-type]
    record = StepRecord(cell="athletics-sta", suite="ods", sport="ATH", venue="STA",
                        step="peak x2", kind="peak", started_at=1.0, ended_at=2.0, passed=True,
                        evidence=[], figures={}, run_id=7)
    progress.step_done(record)
    assert seen == [ev.CampaignStarted(7, ("swimming-aqc", "athletics-sta"), 5),
                    ev.CampaignStepStarted("athletics-sta", "peak x2"),
                    ev.CampaignStepFinished(record)]


@pytest.mark.parametrize(("states", "down", "code"), [
    (["running", "running"], False, 0),
    (["running", "missing"], False, ExitCode.FAILED),
    (["running", "engine down"], True, ExitCode.ENGINE_UNAVAILABLE),
    ([], False, 0),
])
def test_status_result_exit_code(states: list[str], down: bool, code: int) -> None:
    rows = [SimpleNamespace(state=s) for s in states]
    problems = [SimpleNamespace(engine="unix:///run/rh/x.sock")] if down else []
    assert StatusResult(rows, problems).exit_code == code  # type: ignore[arg-type]


def test_hosts_down_of_an_unknown_edition_names_the_flag(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATOR_HOME", str(tmp_path))
    seen: list[ev.Event] = []
    with pytest.raises(InputError, match="no edition 'nosuch'") as info:
        api.hosts_down(HostsDownOptions(root=REPO, edition="nosuch"), on_event=seen.append)
    assert info.value.location.path == "--edition" and seen == []


def test_hosts_up_of_an_unknown_edition_names_the_flag() -> None:
    seen: list[ev.Event] = []
    with pytest.raises(InputError, match="no edition 'nosuch'") as info:
        api.hosts_up(HostsUpOptions(root=REPO, edition="nosuch"), on_event=seen.append)
    assert info.value.location.path == "--edition" and "paris2024" in (info.value.fix or "")
    assert seen == []  # nothing started


def test_options_are_frozen_with_defaults() -> None:
    options = DeployOptions(verb="up", edition="paris2024")
    assert (options.engine, options.parallel, options.refresh) == ("auto", 16, False)
    with pytest.raises(Exception):
        options.verb = "destroy"  # type: ignore[misc]  # the point: frozen
    assert options.model_copy(update={"verb": "preview"}).verb == "preview"


def test_replicate_options_order_the_steps_not_skipped() -> None:
    options = ReplicateOptions(edition="paris2024", skip=frozenset({"build", "report"}))
    assert options.steps == ("up", "configure", "verify")
    assert PIPELINE_STEPS == tuple(s.name for s in STEPS)


# --------------------------------------------------------------------------- deploy events
class FakeRunner:
    """Emits what a real runner tells its sink; `fail` stacks fail."""

    def __init__(self, fail: set[str] = frozenset()) -> None:
        self.fail = fail
        self.ran: list[tuple[str, str, bool]] = []

    def run(self, stack: str, verb: Any, sink: Any, *, refresh_first: bool = False) -> RunResult:
        self.ran.append((stack, verb.value, refresh_first))
        step = ResourceStep(urn=f"urn:{stack}::net", type="docker:index/network:Network",
                            name="net", op=Op.CREATE)
        sink.step_planned(step)
        sink.step_started(step)
        sink.diagnostic(Diagnostic("warning", f"{stack} says hello"))
        step.finish("boom" if stack in self.fail else "")
        sink.step_finished(step)
        ok = stack not in self.fail
        return RunResult(stack=stack, verb=verb.value, succeeded=ok, steps=[step],
                         diagnostics=[], seconds=0.1, error="" if ok else "boom")


def test_deploy_reports_every_step_through_on_event() -> None:
    seen: list[ev.Event] = []
    result = run_targets(Targets(FakeRunner(), ["e-ctoc", "e-itl"]), "up", seen.append)
    kinds = [(type(e).__name__, getattr(e, "stack", None), getattr(e, "phase", None))
             for e in seen]
    assert kinds == [
        ("StackStarted", "e-ctoc", None), ("ResourceEvent", "e-ctoc", "planned"),
        ("ResourceEvent", "e-ctoc", "started"), ("DiagnosticEvent", "e-ctoc", None),
        ("ResourceEvent", "e-ctoc", "finished"),
        ("StackStarted", "e-itl", None), ("ResourceEvent", "e-itl", "planned"),
        ("ResourceEvent", "e-itl", "started"), ("DiagnosticEvent", "e-itl", None),
        ("ResourceEvent", "e-itl", "finished"),
        ("StackFinished", None, None), ("StackFinished", None, None)]
    finished = [e for e in seen if isinstance(e, ev.StackFinished)]
    assert [f.result.stack for f in finished] == ["e-ctoc", "e-itl"]
    assert result.succeeded and result.exit_code == ExitCode.OK and result.changes == 2
    assert [r["stack"] for r in result.to_json()] == ["e-ctoc", "e-itl"]


def test_a_failed_stack_stops_the_next_and_fails_the_result() -> None:
    runner = FakeRunner(fail={"e-ctoc"})
    result = run_targets(Targets(runner, ["e-ctoc", "e-itl"]), "up")
    assert [r[0] for r in runner.ran] == ["e-ctoc"]
    assert not result.succeeded and result.exit_code == ExitCode.FAILED


def test_destroy_runs_dependents_first_and_refresh_is_passed_on() -> None:
    runner = FakeRunner()
    run_targets(Targets(runner, ["e-ctoc", "e-itl"]), "destroy")
    run_targets(Targets(runner, ["e-ctoc"]), "up", refresh=True)
    assert runner.ran == [("e-itl", "destroy", False), ("e-ctoc", "destroy", False),
                          ("e-ctoc", "up", True)]


def test_no_stack_run_is_a_failure() -> None:
    assert not run_targets(Targets(FakeRunner(), []), "up").succeeded


def test_deploy_resolves_the_options_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_resolve(stack: Any, edition: Any, **kw: Any) -> Targets:
        calls.append({"stack": stack, "edition": edition, **kw})
        return Targets(FakeRunner(), ["e-itl"])

    monkeypatch.setattr("replicator.api.service.resolve", fake_resolve)
    result = api.deploy(DeployOptions(verb="preview", stack="e-itl", parallel=3,
                                      root=Path("/x")))
    assert result.verb == "preview" and [r.stack for r in result.results] == ["e-itl"]
    assert calls[0]["parallel"] == 3 and calls[0]["root"] == Path("/x")
    assert calls[0]["engine"] == "auto"


# --------------------------------------------------------------------------- configure events
def test_configure_reports_passes_and_ansible_events(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    import replicator.configure as configure_module
    from replicator.api.service import configure_targets

    class Prepared:
        label = "e-itl"
        inventory_path = tmp_path / "inventory.yml"

        class inventory:  # noqa: N801 - stands in for an Inventory
            hosts = ["e-itl-web-1", "e-itl-db-1"]

    class Outcome:
        succeeded = True

    def fake_configure(prepared: Any, *, on_pass: Any, after_pass: Any, **kw: Any) -> Any:
        assert kw["idempotence"] is True and kw["forks"] == 2
        for number, name in ((1, "configure"), (2, "idempotence")):
            handler = on_pass(number, name)
            handler({"event": "runner_on_ok", "event_data": {"host": "e-itl-web-1"}})
            after_pass(number, f"pass {number}")
        return Outcome()

    monkeypatch.setattr(configure_module, "prepare", lambda root, targets: Prepared())
    monkeypatch.setattr(configure_module, "configure", fake_configure)
    seen: list[ev.Event] = []
    run = configure_targets(tmp_path, [], ConfigureOptions(idempotence=True, forks=2),
                            seen.append)
    assert [type(e).__name__ for e in seen] == [
        "ConfigureStarted", "PassStarted", "AnsibleEvent", "PassFinished",
        "PassStarted", "AnsibleEvent", "PassFinished", "ConfigureFinished"]
    started = seen[0]
    assert isinstance(started, ev.ConfigureStarted)
    assert started.hosts == ("e-itl-web-1", "e-itl-db-1") and not started.limited
    assert [e.name for e in seen if isinstance(e, ev.PassStarted)] == ["configure",
                                                                       "idempotence"]
    ansible = [e for e in seen if isinstance(e, ev.AnsibleEvent)]
    assert [e.number for e in ansible] == [1, 2]
    assert ansible[0].data["event"] == "runner_on_ok"
    assert run.succeeded and run.exit_code == ExitCode.OK


# --------------------------------------------------------------------------- the pipeline
def _fake_steps(log: list[str], fail: str | None = None) -> list[Step]:
    def make(name: str) -> Step:
        def run(ctx: Any) -> str:
            log.append(name)
            if name == fail:
                raise StepFailedError(name, "it broke", f"{name} result", ExitCode.VERIFY_FAILED)
            return f"{name} result"
        return Step(name, run, f"the {name} step")
    return [make(name) for name in PIPELINE_STEPS]


def test_replicate_runs_the_steps_in_order_and_reports_each(tmp_path: Path) -> None:
    log: list[str] = []
    seen: list[ev.Event] = []
    options = ReplicateOptions(edition="e", skip=frozenset({"build"}), root=tmp_path)
    result = api.replicate(options, seen.append, targets=[], steps=_fake_steps(log))
    assert log == ["up", "configure", "verify", "report"]
    assert isinstance(seen[0], ev.PipelineStarted)
    assert seen[0].steps == ("up", "configure", "verify", "report")
    started = [e for e in seen if isinstance(e, ev.PipelineStepStarted)]
    assert [(e.number, e.total, e.name) for e in started] == [
        (1, 4, "up"), (2, 4, "configure"), (3, 4, "verify"), (4, 4, "report")]
    finished = [e for e in seen if isinstance(e, ev.PipelineStepFinished)]
    assert [e.result for e in finished] == [f"{n} result" for n in log]
    assert isinstance(seen[-1], ev.PipelineFinished)
    assert [name for name, _ in result.timings] == log and result.results["up"] == "up result"


def test_replicate_stops_at_the_first_failed_step(tmp_path: Path) -> None:
    log: list[str] = []
    seen: list[ev.Event] = []
    options = ReplicateOptions(edition="e", root=tmp_path)
    with pytest.raises(StepFailedError) as info:
        api.replicate(options, seen.append, targets=[], steps=_fake_steps(log, fail="verify"))
    assert log == ["build", "up", "configure", "verify"]
    assert isinstance(info.value, ReplicatorError)
    assert info.value.exit_code == ExitCode.VERIFY_FAILED and info.value.step == "verify"
    assert not any(isinstance(e, ev.PipelineFinished) for e in seen)


# --------------------------------------------------------------------------- the CLI renders
def test_the_cli_renders_deploy_events_and_prints_nothing_with_json() -> None:
    import io

    from rich.console import Console

    from replicator.cli.render import DeployRenderer

    buffer = io.StringIO()
    renderer = DeployRenderer(Console(file=buffer, width=120))
    result = run_targets(Targets(FakeRunner(fail={"e-itl"}), ["e-itl"]), "up", renderer)
    renderer.outcome(result.results, result.verb)
    text = buffer.getvalue()
    assert "e-itl says hello" in text and "error:" in text and "boom" in text
    quiet = io.StringIO()
    run_targets(Targets(FakeRunner(), ["e-itl"]), "up",
                DeployRenderer(Console(file=quiet), quiet=True))
    assert quiet.getvalue() == ""


# --------------------------------------------------------------------------- project entry points
def test_graph_and_config_read_the_project_through_the_api() -> None:
    from replicator.api.options import ConfigOptions, GraphOptions

    text = api.graph(GraphOptions(root=REPO, format="dot", venues=("AQC",)))
    assert text.startswith('digraph "paris2024"') and "ovr-aqc" in text and "ovr-sta" not in text
    values = api.config_get(ConfigOptions(root=REPO, key="replicator:site", edition="paris2024"))
    assert values == {f"paris2024-{s}": s for s in ("ctoc", "itl", "toc")}


@pytest.mark.parametrize(("make", "where"), [
    (lambda: api.config_set(api_options.ConfigOptions(root=REPO, key="venues",
                                                      stack="paris2024-toc"), "all",
                            secret=True), "--secret"),
    (lambda: api_options.ConfigOptions(key="venues", edition="paris2024", cwd=Path("/tmp")),
     "--edition"),
    (lambda: api_options.StackOptions(), "STACK"),
    (lambda: api_options.GraphOptions(venues=()), "--venues"),
    (lambda: api.engine_stop(api_options.EngineOptions(docker_host="tcp://10.0.0.1:2376")),
     "--docker-host"),
])
def test_project_entry_points_refuse_bad_input_naming_the_flag(make: Any, where: str) -> None:
    with pytest.raises(InputError) as info:
        make()
    assert info.value.location.path == where
