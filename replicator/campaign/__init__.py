"""Test campaigns on the replica: the competition schedule, campaign files,
runs driven through the ITL's test tooling, their record and the progress report.

`run_file` and `write_report` are the API the `replicator campaign` commands
call; see docs/campaign.md.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from replicator.campaign.loader import CampaignError, load_campaign
from replicator.campaign.model import Campaign
from replicator.campaign.run import Cancelled, Progress, RunSummary, run_campaign
from replicator.campaign.store import CampaignStore, database_path
from replicator.topology.loader import load_edition

__all__ = ["Campaign", "CampaignError", "Cancelled", "Progress", "RunSummary", "run_file",
           "write_report"]


def run_file(root: Path, file: Path, *, cells: list[str] | None, scale: float,
             edition: str | None, progress: Progress) -> RunSummary:
    """Load, check and run a campaign file; the run is recorded under `.replicator/`."""
    if edition is not None:  # checked before the campaign: a name, then an existing topology
        load_edition(root, edition)
    campaign, _, schedule = load_campaign(file, root)
    store = CampaignStore(database_path(root))
    shown = str(file.resolve().relative_to(root)) if file.resolve().is_relative_to(root) \
        else str(file)
    return run_campaign(root, campaign, schedule, file=shown,
                        edition=edition or campaign.edition, cells=cells, scale=scale,
                        store=store, progress=progress)


def write_report(root: Path, output: Path, *, campaign: str | None = None,
                 target_hours: float | None = None) -> tuple[dict[str, Any], dict[str, Path]]:
    """The progress report of the recorded runs (of one campaign, or all) under `output`."""
    from replicator.campaign.model import ITL_TARGET_HOURS
    from replicator.campaign.progress import progress_data
    from replicator.campaign.render import write_campaign_report

    store = CampaignStore(database_path(root))
    data = progress_data(store, campaign=campaign,
                         target_hours=target_hours or ITL_TARGET_HOURS)
    latest_runs = {c["cell"]: c["run"] for c in data["cells"]}
    steps: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in store.steps(sorted(set(latest_runs.values()))):
        if latest_runs.get(s.cell) == s.run_id:
            steps[s.cell].append({"step": s.step, "passed": s.passed, "evidence": s.evidence,
                                  "seconds": s.ended_at - s.started_at})
    return data, write_campaign_report(data, steps, output)
