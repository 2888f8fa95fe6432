"""Reading campaign files with the input checks and the topology loader's
machinery (`replicator.inputs`: size, encoding, YAML limits, a line for every
node), pydantic errors and cross-reference problems turned into a
`CampaignError` that names the file, the path, the line and a fix (exit 2)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError

from replicator.campaign.model import Campaign, Cell, DrillStep, ProcedureStep, ReplayStep
from replicator.campaign.programme import PARALYMPIC
from replicator.campaign.schedule import Schedule, load_schedule
from replicator.topology import Topology
from replicator.topology.errors import Problem, TopologyError
from replicator.inputs import load_yaml
from replicator.inputs.paths import line_of
from replicator.topology.loader import load_edition, problems_from_validation

SITES = ("itl", "ctoc", "toc")
# pydantic puts the union member (the step's kind) in an error's location: not a key.
_STEP_TAG = re.compile(r"(steps\[\d+\])\.(functional|replay|peak|drill|procedure|interface)\b")


class CampaignError(TopologyError):
    """A malformed campaign file (exit code 2)."""


def load_campaign(path: Path, root: Path) -> tuple[Campaign, Topology, Schedule]:
    """The campaign in `path`, checked against its edition's topology and schedule."""
    path = Path(path)
    if path.is_dir():
        raise CampaignError("this is a directory, not a campaign file", file=path,
                            fix="name a file in it, e.g. campaigns/paris2024/smoke.yaml")
    if not path.is_file():
        raise CampaignError("the campaign file does not exist", file=path,
                            fix="give a file such as campaigns/paris2024/smoke.yaml")
    document = load_yaml(path, error=CampaignError, what="campaign file")
    if not isinstance(document, dict):
        raise CampaignError("a campaign file is a mapping with campaign, title, edition and "
                            "cells", file=path, line=1,
                            fix="start from campaigns/paris2024/smoke.yaml")
    try:
        campaign = Campaign.model_validate(document)
    except ValidationError as exc:
        problems = [replace(p, path=_STEP_TAG.sub(r"\1", p.path or "") or None)
                    for p in problems_from_validation(exc, Campaign)]
        raise CampaignError.from_problems(problems).located(
            path, lambda p: line_of(document, p)) from None
    except TopologyError as exc:
        raise CampaignError.from_problems(exc.problems).located(
            path, lambda p: line_of(document, p)) from None
    topology = load_edition(root, campaign.edition)
    schedule = load_schedule(root, campaign.edition)
    problems = cross_check(campaign, topology, schedule, root)
    if problems:
        raise CampaignError.from_problems(problems).located(
            path, lambda p: line_of(document, p))
    return campaign, topology, schedule


def cross_check(campaign: Campaign, topology: Topology, schedule: Schedule,
                root: Path) -> list[Problem]:
    venues = {v.code: set(v.disciplines) for v in topology.venues if v.code is not None}
    for discipline in PARALYMPIC:
        for code in discipline.venues:
            venues.setdefault(code, set()).add(discipline.code)
    problems: list[Problem] = []
    for i, cell in enumerate(campaign.cells):
        here = f"cells[{i}]"
        if cell.venue != "ALL" and cell.venue not in venues:
            problems.append(Problem(f"venue {cell.venue} is not a venue of {campaign.edition}",
                                    f"{here}.venue", "use a venue code of the topology: "
                                    + ", ".join(sorted(venues))))
        elif cell.sport != "ALL" and cell.venue != "ALL" and cell.sport not in venues[cell.venue]:
            problems.append(Problem(
                f"sport {cell.sport} is not competed at venue {cell.venue}", f"{here}.sport",
                f"use one of {', '.join(sorted(venues[cell.venue]))}, or another venue"))
        problems += _check_steps(cell, here, topology, schedule, root)
    return problems


def _check_steps(cell: Cell, here: str, topology: Topology, schedule: Schedule,
                 root: Path) -> list[Problem]:
    problems: list[Problem] = []
    units = {u.code: u for u in schedule.units()}
    services = {s.name for s in topology.services}
    # A per-venue service is also named by its copies: ovr-aqc.
    services |= {f"{s.name}-{v.code.lower()}" for s in topology.services if s.per_venue
                 for v in topology.venues if v.code}
    for j, step in enumerate(cell.steps):
        where = f"{here}.steps[{j}]"
        if isinstance(step, ReplayStep):
            if cell.venue == "ALL" or cell.sport == "ALL":
                problems.append(Problem("a replay step needs a cell with one sport and one venue",
                                        f"{where}.kind", "give the cell a sport and a venue"))
            elif step.unit and (step.unit not in units or units[step.unit].venue != cell.venue):
                problems.append(Problem(f"no unit {step.unit} at venue {cell.venue} in the "
                                        "schedule", f"{where}.unit",
                                        f"pick a unit of stacks/schedule/{schedule.edition}.yaml "
                                        "at that venue, or leave `unit` out"))
        elif isinstance(step, DrillStep):
            name = step.target.split("#")[0].split("/")[0]
            known = SITES if step.fault == "stop-site" else services
            if step.fault == "stop-site" and name == "itl":
                problems.append(Problem("the ITL cannot be stopped: the test tooling runs "
                                        "there", f"{where}.target", "stop toc or ctoc"))
            if name not in known:
                problems.append(Problem(f"no {'site' if step.fault == 'stop-site' else 'service'}"
                                        f" {name!r} in {topology.edition.code}",
                                        f"{where}.target", "use one of: "
                                        + ", ".join(sorted(known))))
        elif isinstance(step, ProcedureStep) and not (root / step.playbook).is_file():
            problems.append(Problem(f"no playbook {step.playbook}", f"{where}.playbook",
                                    "give a path from the project root, e.g. "
                                    "playbooks/campaign/odf-failover.yml"))
    return problems
