"""A recorded campaign made by hand: two runs, a failure, a peak and drills."""

from __future__ import annotations

from pathlib import Path

from replicator.campaign.store import CampaignStore, StepRecord


def step(cell: str, name: str, kind: str, passed: bool, start: float, seconds: float,
         sport: str = "ALL", venue: str = "ALL", suite: str = "results", testers: int = 1,
         **figures) -> StepRecord:
    return StepRecord(cell=cell, suite=suite, sport=sport, venue=venue, step=name, kind=kind,
                      started_at=start, ended_at=start + seconds, passed=passed,
                      evidence=[f"{'ok' if passed else 'FAILED'}: {name}"],
                      figures={"testers": testers, **figures})


def recorded_store(path: Path) -> CampaignStore:
    store = CampaignStore(path)
    first = store.start_run("demo", "campaigns/demo.yaml", "paris2024", 1.0,
                            ["diving-aqc", "drills"], 2)
    t = 1_800_000_000.0
    store.add_step(first, step("diving-aqc", "replay: 1 unit", "replay", False, t, 36, "DIV",
                               "AQC", testers=2))
    store.add_step(first, step("drills", "drill: crash-process odf-distributor", "drill", True,
                               t + 40, 20, suite="operations", recovery_s=2.5, lost=0, rate=50,
                               caught_up_s=0.4, consumers={"wrs": {"lost": 0}}))
    store.end_run(first, "failed")
    second = store.start_run("demo", "campaigns/demo.yaml", "paris2024", 2.0,
                             ["diving-aqc", "peaks"], 2)
    store.add_step(second, step("diving-aqc", "replay: 1 unit", "replay", True, t + 100, 36,
                                "DIV", "AQC", testers=2))
    store.add_step(second, step("peaks", "peak: busiest x2", "peak", True, t + 140, 18,
                                rate=9.27, sent=93, lost=0, p50_ms=35.0, p99_ms=120.0,
                                throughput=9.3, day="2024-07-27", peak_minute="09:20"))
    store.end_run(second, "passed")
    return store
