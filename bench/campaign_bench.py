#!/usr/bin/env python3
"""Benchmark of the results chain at Games volumes, and of the drills.

    .venv/bin/python bench/campaign_bench.py [--edition paris2024] [--seconds 10]
                                             [--max-rate 3000] [--no-drills] [--json]

Needs a deployed, configured replica with the ITL's test tooling (paris2024 on
the main engine: run it under `flock /tmp/replicator-paris2024.lock`).

1. The busiest day of the competition schedule and its peak minute (messages
   per second: the 1x rate).
2. The chain at 1x, 2x and 5x that rate, then higher multiples until the knee:
   each for --seconds from the odf-replayer through the venue OVRs (the
   campaign's `peak` step), with p50/p99 venue -> consumer latency (WRS among
   them; the worst consumer is shown), throughput and messages lost. The knee is
   the first load where p99 passes 350 ms (the TOC's 0.35 s claim), a message
   is lost or the throughput falls below 90 % of the offered rate.
3. Each drill of campaigns/paris2024/default.yaml's `ods-drills` and
   `external-interfaces` cells: recovery time and messages lost.

Traffic stays inside the project's containers (docker exec into the
test-orchestrator), as the platform rules require.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

P99_GOAL_MS = 350.0
BASE_MULTIPLES = (1, 2, 5)
HIGHER = (20, 50, 100, 200, 400, 800, 1600)


def _context(edition: str):
    from replicator.campaign.driver import Replica
    from replicator.campaign.schedule import load_schedule
    from replicator.campaign.steps import Context

    return Context(root=ROOT, replica=Replica(ROOT, edition, lambda: False),
                   schedule=load_schedule(ROOT, "paris2024"), scale=1.0)


def _peak(ctx, multiple: float, seconds: float) -> dict[str, Any]:
    from replicator.campaign.model import Cell, PeakStep
    from replicator.campaign.steps import peak

    step = PeakStep(kind="peak", scale=multiple, seconds=seconds, max_p99_ms=1e9)
    cell = Cell(name="bench", suite="results", sport="ALL", venue="ALL", steps=(step,))
    return peak(step, cell, ctx).figures


def _is_knee(f: dict[str, Any]) -> bool:
    return ((f.get("p99_ms") or 0) > P99_GOAL_MS or (f.get("lost") or 0) > 0
            or f.get("throughput", 0) < 0.9 * f["rate"])


def chain(ctx, seconds: float, max_rate: float) -> tuple[list[dict[str, Any]], dict | None]:
    rows, knee = [], None
    base = None
    for multiple in (*BASE_MULTIPLES, *HIGHER):
        figures = _peak(ctx, multiple, seconds)
        base = base or figures["games_rate"]
        if multiple not in BASE_MULTIPLES and figures["rate"] > max_rate:
            break
        rows.append({"multiple": multiple, **figures})
        _print_row(rows[-1])
        if _is_knee(figures):
            knee = rows[-1]
            if multiple not in BASE_MULTIPLES:
                break
    return rows, knee


def _print_row(r: dict[str, Any]) -> None:
    print(f"  {r['multiple']:>5}x  offered {r['rate']:>8.1f}/s  throughput "
          f"{r['throughput']:>8.1f}/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
          f"lost {r['lost']}", flush=True)


def drills(ctx) -> list[dict[str, Any]]:
    from replicator.campaign.loader import load_campaign
    from replicator.campaign.steps import KINDS

    campaign, _, _ = load_campaign(ROOT / "campaigns/paris2024/default.yaml", ROOT)
    out = []
    for cell in campaign.cells:
        if cell.name not in ("ods-drills", "external-interfaces"):
            continue
        for step in cell.steps:
            outcome = KINDS[step.kind](step, cell, ctx)
            row = {"step": step.title(), "passed": outcome.passed,
                   "recovery_s": outcome.figures.get("recovery_s"),
                   "lost": outcome.figures.get("lost"),
                   "caught_up_s": outcome.figures.get("caught_up_s")}
            print(f"  {row['step']:<52} recovery {row['recovery_s']} s  caught up "
                  f"{row['caught_up_s']} s  lost {row['lost']}"
                  + ("" if outcome.passed else "  (FAILED)"), flush=True)
            out.append(row)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", default="paris2024")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-rate", type=float, default=3000.0)
    parser.add_argument("--no-drills", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from replicator.campaign.sequence import busiest_day

    ctx = _context(args.edition)
    busiest = busiest_day(ctx.schedule)
    print(f"busiest day {busiest.day}: {busiest.messages} ODF messages; peak minute "
          f"{busiest.peak_minute}: {busiest.peak_minute_messages} messages "
          f"({busiest.peak_rate:.2f}/s = 1x)", flush=True)
    print(f"results chain, {args.seconds:g} s per load (replayer -> OVRs -> distributor -> "
          "consumers):", flush=True)
    rows, knee = chain(ctx, args.seconds, args.max_rate)
    print(f"knee: {knee['rate']}/s ({knee['multiple']}x)" if knee else
          f"knee: not reached up to {rows[-1]['rate']}/s", flush=True)
    drill_rows = [] if args.no_drills else (print("drills:", flush=True) or drills(ctx))
    if args.json:
        print(json.dumps({"busiest_day": str(busiest.day), "rate_1x": busiest.peak_rate,
                          "chain": rows, "knee": knee, "drills": drill_rows}, indent=2,
                         default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
