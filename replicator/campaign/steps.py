"""What each kind of step does on the replica, and how it is judged.

Every function takes the step, its cell and a `Context` and returns an
`Outcome`: passed or not, evidence lines (what was seen, for the report's open
failures) and figures (latency, loss, recovery time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from replicator.campaign import faults
from replicator.campaign.driver import Interrupted, Replica
from replicator.campaign.model import (
    Cell,
    DrillStep,
    FunctionalStep,
    InterfaceStep,
    PeakStep,
    ProcedureStep,
    ReplayStep,
)
from replicator.campaign.schedule import Schedule, Unit
from replicator.campaign.sequence import DayVolume, busiest_day, day_volumes, messages

VERSION_EPOCH = 1_700_000_000  # Versions of a replay: 100 per second since then (never reused)


@dataclass
class Outcome:
    passed: bool
    evidence: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    root: Path
    replica: Replica
    schedule: Schedule
    scale: float

    @cached_property
    def kinds(self) -> dict[str, str]:
        return {e.code: e.kind for e in self.schedule.events}

    @cached_property
    def volumes(self) -> list[DayVolume]:
        return day_volumes(self.schedule)


def _evidence(run: dict[str, Any]) -> list[str]:
    return [f"{'ok' if s.get('ok') else 'FAILED'}: {s.get('step')}"
            + (f" {_short(s.get('detail'))}" if s.get("detail") not in (None, "") else "")
            for s in run.get("steps", [])]


def _short(detail: Any) -> str:
    text = str(detail)
    return text if len(text) <= 300 else text[:297] + "..."


def _passed(run: dict[str, Any]) -> bool:
    return run.get("status") == "passed"


def functional(step: FunctionalStep, cell: Cell, ctx: Context) -> Outcome:
    scenario = {"accreditation": "functional"}.get(step.flow, step.flow)
    run = ctx.replica.scenario(scenario, {"venue": cell.venue}, timeout=120)
    return Outcome(_passed(run), _evidence(run))


def units_for(step: ReplayStep, cell: Cell, schedule: Schedule) -> list[Unit]:
    if step.unit:
        return [u for u in schedule.units() if u.code == step.unit]
    mine = sorted((u for u in schedule.units()
                   if u.venue == cell.venue and u.discipline == cell.sport),
                  key=lambda u: (u.day, u.start, u.code))
    day = step.day or (mine[0].day if mine else None)
    return [u for u in mine if u.day == day][:None if step.units == "all" else step.units]


def replay(step: ReplayStep, cell: Cell, ctx: Context) -> Outcome:
    units = units_for(step, cell, ctx.schedule)
    if not units:
        return Outcome(False, [f"no unit of {cell.sport} at {cell.venue} on {step.day}"])
    evidence, passed, sent = [], True, 0
    for unit in units:
        floor = (int(time.time()) - VERSION_EPOCH) * 100
        kind = ctx.kinds[unit.code[:22].rstrip("-")]
        sequence = messages(unit, kind, version_floor=floor)
        results = [(o, x) for o, x in sequence if b'DocumentType="DT_RESULT"' in x]
        final = results[-1][1].decode()
        version = final.split('Version="', 1)[1].split('"', 1)[0]
        span = max(sequence[-1][0] - sequence[0][0], 1.0)
        run = ctx.replica.scenario("sequence", {
            "venue": unit.venue, "speed": span / step.seconds,
            "consumers": list(step.consumers),
            "messages": [{"offset": o, "xml": x.decode()} for o, x in sequence],
            "checks": [{"document_code": unit.code, "version": version, "status": "OFFICIAL",
                        "timeout": 30}]}, timeout=step.seconds + 180)
        passed = passed and _passed(run)
        sent += len(sequence)
        evidence += [f"unit {unit.code} ({unit.day} {unit.start}, {len(sequence)} messages)",
                     *_evidence(run)]
    return Outcome(passed, evidence, {"units": len(units), "messages": sent})


def _load_figures(run: dict[str, Any]) -> dict[str, Any]:
    per_consumer = {s["step"].split()[0]: s["detail"] for s in run.get("steps", [])
                    if "received all" in str(s.get("step")) and isinstance(s.get("detail"), dict)}
    p99 = [d.get("p99_ms") or 0 for d in per_consumer.values()]
    p50 = [d.get("p50_ms") or 0 for d in per_consumer.values()]
    sent = next((s["detail"].get("sent") for s in run.get("steps", [])
                 if str(s.get("step")).startswith("replayer sent")
                 and isinstance(s.get("detail"), dict)), 0)
    return {"sent": sent or 0, "lost": max((d.get("lost", 0) for d in per_consumer.values()),
                                           default=None),
            "p50_ms": max(p50, default=None), "p99_ms": max(p99, default=None),
            "caught_up_s": max((d.get("caught_up_s", 0) for d in per_consumer.values()),
                               default=None), "consumers": per_consumer}


def peak(step: PeakStep, cell: Cell, ctx: Context) -> Outcome:
    volume: DayVolume | None
    if step.day == "busiest":
        volume = busiest_day(ctx.schedule)
    else:
        volume = next((v for v in ctx.volumes if v.day == step.day), None)
    if volume is None:
        return Outcome(False, [f"no competition on {step.day}"])
    rate = round(volume.peak_rate * step.scale * ctx.scale, 2)
    run = ctx.replica.scenario("load", {"rate": rate, "seconds": step.seconds},
                               timeout=step.seconds + 300)
    figures = {"day": volume.day.isoformat(), "peak_minute": volume.peak_minute,
               "games_rate": round(volume.peak_rate, 2), "scale": step.scale * ctx.scale,
               "rate": rate, "seconds": step.seconds, **_load_figures(run)}
    figures["throughput"] = round(figures["sent"] / step.seconds, 1)
    p99_ok = figures["p99_ms"] is not None and figures["p99_ms"] <= step.max_p99_ms
    evidence = [f"{volume.day} peak minute {volume.peak_minute}: {volume.peak_minute_messages} "
                f"messages; offered {rate}/s for {step.seconds:g} s", *_evidence(run),
                f"{'ok' if p99_ok else 'FAILED'}: p99 {figures['p99_ms']} ms <= "
                f"{step.max_p99_ms:g} ms"]
    return Outcome(_passed(run) and p99_ok, evidence, figures)


def _under_load(ctx: Context, rate: float, seconds: float,
                fault: Callable[[], AbstractContextManager[None]], hold: float,
                recover: Callable[[], float | None], *, from_fault: bool = False
                ) -> tuple[dict[str, Any], float | None]:
    """Start a load, put the fault on a third of the way in, hold it, undo it, then
    measure recovery (seconds from the undo, or from the fault itself when the
    replica must heal alone) and let the load finish and drain."""
    run_id = ctx.replica.start("load", {"rate": rate, "seconds": seconds})
    _sleep(ctx, seconds / 3)
    faulted = time.monotonic()
    with fault():
        _sleep(ctx, hold)
    undone = time.monotonic()
    waited = recover()
    recovery = None if waited is None else round(
        waited + (undone - faulted if from_fault else 0.0), 2)
    return ctx.replica.wait(run_id, timeout=seconds + 300), recovery


def _sleep(ctx: Context, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ctx.replica.should_stop():
            raise Interrupted
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def drill(step: DrillStep, cell: Cell, ctx: Context) -> Outcome:
    replica = ctx.replica
    if step.fault == "stop-site":
        targets = replica.site_containers(step.target)
        apps = [t for t in targets if t.tier == "app"]
        fault = lambda: faults.stop_site(replica, step.target)  # noqa: E731
        probe = apps[0] if apps else None
    else:
        probe = replica.target(step.target)
        fault = {"kill-container": lambda: faults.kill_container(probe),
                 "stop-container": lambda: faults.stop_container(probe),
                 "crash-process": lambda: faults.crash_process(probe),
                 "cut-circuit": lambda: faults.cut_circuits(probe)}[step.fault]
    def recover() -> float | None:
        return 0.0 if probe is None else replica.wait_healthy(probe, step.max_recovery_s)

    run, recovery = _under_load(ctx, step.rate, step.load_seconds, fault, step.seconds, recover,
                                from_fault=step.fault == "crash-process")
    figures = {"fault": step.fault, "target": step.target, "fault_seconds": step.seconds,
               "rate": step.rate, "recovery_s": recovery, **_load_figures(run)}
    ok_recovery = recovery is not None and recovery <= step.max_recovery_s
    evidence = [f"{step.fault} {step.target} for {step.seconds:g} s under {step.rate:g} msg/s",
                f"{'ok' if ok_recovery else 'FAILED'}: recovered in {recovery} s "
                f"(limit {step.max_recovery_s:g} s)", *_evidence(run)]
    return Outcome(_passed(run) and ok_recovery and figures["lost"] == 0, evidence, figures)


def interface(step: InterfaceStep, cell: Cell, ctx: Context) -> Outcome:
    target = ctx.replica.target(step.consumer)
    fault = {"down": faults.consumer_down, "slow": faults.consumer_slow,
             "erroring": faults.consumer_erroring}[step.mode]
    run, recovery = _under_load(ctx, step.rate, step.load_seconds, lambda: fault(target),
                                step.seconds,
                                lambda: ctx.replica.wait_healthy(target, 120))
    figures = {"consumer": step.consumer, "mode": step.mode, "fault_seconds": step.seconds,
               "rate": step.rate, "recovery_s": recovery, **_load_figures(run)}
    evidence = [f"{step.consumer} {step.mode} for {step.seconds:g} s under {step.rate:g} msg/s",
                f"back in {recovery} s after the fault ended", *_evidence(run)]
    return Outcome(_passed(run) and recovery is not None and figures["lost"] == 0, evidence,
                   figures)


def procedure(step: ProcedureStep, cell: Cell, ctx: Context) -> Outcome:
    from replicator.campaign.procedure import run_procedure

    run_id = ctx.replica.start("load", {"rate": step.rate, "seconds": step.load_seconds})
    started = time.monotonic()
    result = run_procedure(ctx.root, ctx.replica.edition, ctx.root / step.playbook)
    seconds = round(time.monotonic() - started, 2)
    run = ctx.replica.wait(run_id, timeout=step.load_seconds + 300)
    figures = {"playbook": step.playbook, "procedure_s": seconds, "recovery_s": seconds,
               **_load_figures(run)}
    evidence = [f"{'ok' if result.succeeded else 'FAILED'}: {step.playbook} in {seconds} s",
                *result.evidence, *_evidence(run)]
    return Outcome(result.succeeded and _passed(run) and figures["lost"] == 0, evidence,
                   figures)


KINDS: dict[str, Callable[..., Outcome]] = {
    "functional": functional, "replay": replay, "peak": peak, "drill": drill,
    "interface": interface, "procedure": procedure}
