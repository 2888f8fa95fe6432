"""The campaign's progress for stakeholders, computed from the record.

Progress of a cell is its latest execution (the last run that included it):
steps passed of steps run. Test hours are step durations times the cell's
testers, accumulated over every run, against a target. Open failures are the
failed steps of each cell's latest execution, with their evidence.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from replicator.campaign.store import CampaignStore, StepRecord


def _rate(passed: int, total: int) -> float:
    return round(100.0 * passed / total, 1) if total else 0.0


def _hours(step: StepRecord) -> float:
    return (step.ended_at - step.started_at) * int(step.figures.get("testers", 1)) / 3600


def progress_data(store: CampaignStore, *, campaign: str | None = None,
                  target_hours: float | None = None) -> dict[str, Any]:
    runs = store.runs(campaign)
    steps = store.steps([r["id"] for r in runs])
    by_run: dict[int, list[StepRecord]] = defaultdict(list)
    for s in steps:
        by_run[s.run_id].append(s)
    latest: dict[str, list[StepRecord]] = {}
    for run in runs:  # in id order: later runs replace a cell's steps
        cells: dict[str, list[StepRecord]] = defaultdict(list)
        for s in by_run[run["id"]]:
            cells[s.cell].append(s)
        latest.update(cells)
    cell_rows = [_cell_row(name, rows) for name, rows in sorted(latest.items())]
    hours = round(sum(_hours(s) for s in steps), 4)
    target = target_hours or 0.0
    return {
        "campaign": campaign or ", ".join(sorted({r["campaign"] for r in runs})) or "(none)",
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": [_run_row(r, by_run[r["id"]]) for r in runs],
        "cells": cell_rows,
        "by_suite": _group(cell_rows, latest, "suite"),
        "by_sport": _group(cell_rows, latest, "sport"),
        "by_venue": _group(cell_rows, latest, "venue"),
        "test_hours": {"total": hours, "target": target,
                       "share_percent": round(100 * hours / target, 6) if target else None,
                       "cumulative": _cumulative_hours(runs, by_run)},
        "pass_rate_over_time": [{"run": r["id"], "at": _iso(r["started_at"]),
                                 "pass_rate": _rate(sum(s.passed for s in by_run[r["id"]]),
                                                    len(by_run[r["id"]]))}
                                for r in runs if by_run[r["id"]]],
        "open_failures": [{"cell": s.cell, "step": s.step, "kind": s.kind, "run": s.run_id,
                           "at": _iso(s.started_at), "evidence": s.evidence}
                          for rows in latest.values() for s in rows if not s.passed],
        "peaks": [_figures(s) for rows in latest.values() for s in rows if s.kind == "peak"],
        "drills": [_figures(s) for rows in latest.values() for s in rows
                   if s.kind in ("drill", "interface", "procedure")],
    }


def _cell_row(name: str, rows: list[StepRecord]) -> dict[str, Any]:
    passed = sum(s.passed for s in rows)
    return {"cell": name, "suite": rows[0].suite, "sport": rows[0].sport,
            "venue": rows[0].venue, "run": rows[0].run_id, "steps": len(rows),
            "passed": passed, "failed": len(rows) - passed, "pass_rate": _rate(passed, len(rows)),
            "test_hours": round(sum(_hours(s) for s in rows), 4)}


def _group(cells: list[dict[str, Any]], latest: dict[str, list[StepRecord]],
           key: str) -> list[dict[str, Any]]:
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for cell in cells:
        g = groups[cell[key]]
        g[0] += 1
        g[1] += cell["passed"]
        g[2] += cell["steps"]
    return [{key: name, "cells": c, "passed": p, "steps": t, "pass_rate": _rate(p, t)}
            for name, (c, p, t) in sorted(groups.items())]


def _run_row(run: dict[str, Any], steps: list[StepRecord]) -> dict[str, Any]:
    passed = sum(s.passed for s in steps)
    return {"run": run["id"], "campaign": run["campaign"], "edition": run["edition"],
            "status": run["status"], "started_at": _iso(run["started_at"]),
            "ended_at": _iso(run["ended_at"]) if run["ended_at"] else None,
            "seconds": round((run["ended_at"] or time.time()) - run["started_at"], 1),
            "scale": run["scale"], "steps": len(steps), "passed": passed,
            "pass_rate": _rate(passed, len(steps)),
            "test_hours": round(sum(_hours(s) for s in steps), 4)}


def _cumulative_hours(runs: list[dict[str, Any]],
                      by_run: dict[int, list[StepRecord]]) -> list[dict[str, Any]]:
    total, out = 0.0, []
    for run in runs:
        total += sum(_hours(s) for s in by_run[run["id"]])
        out.append({"run": run["id"], "at": _iso(run["started_at"]), "hours": round(total, 4)})
    return out


def _figures(step: StepRecord) -> dict[str, Any]:
    keep = {k: v for k, v in step.figures.items() if k != "consumers"}
    return {"cell": step.cell, "step": step.step, "kind": step.kind, "passed": step.passed,
            "run": step.run_id, **keep}


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
