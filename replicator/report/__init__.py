"""`replicator report`: the sustainability server-count report.

Servers by edition (public figures of past Games, this edition's modelled
production, the replica as measured), consolidation ratios, and energy and
CO2e a year for production and the replica, every number traceable to a
cited source, a model, a measurement or a labelled assumption.

- `params`: the inputs, their defaults and sources, overrides (--params/--set);
- `measure`: the running replica (hosts from the state, containers and their
  usage from the Docker engine);
- `model`: the calculations (pure functions);
- `render`: HTML (inline SVG charts), Markdown and JSON, via Jinja2 templates.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replicator.errors import InputError
from replicator.report.measure import DEFAULT_WORKERS, measure_replica
from replicator.report.model import ReportInput, build_report
from replicator.report.params import ResolvedParams, resolve_params
from replicator.stacks import resolve_targets


@dataclass
class ReportResult:
    data: dict[str, Any]
    files: dict[str, Path]
    output: Path


def default_output(project_root: Path, name: str) -> Path:
    """``reports/<edition>/`` (or ``reports/<stack>/``) under the project root."""
    return project_root / "reports" / name


def generate_report(
    project_root: Path,
    workdir: Path,
    *,
    stack: str | None = None,
    edition: str | None = None,
    params_file: Path | None = None,
    sets: Iterable[str] = (),
    output: Path | None = None,
    workers: int = DEFAULT_WORKERS,
    params: ResolvedParams | None = None,
) -> ReportResult:
    """Measure the replica of `edition` (or of one `stack`), compute and write the report."""
    from replicator.report.render import write_report

    targets = resolve_targets(project_root, stack, edition)
    # Inputs first: a bad parameter stops the command before anything is measured.
    if params is None:
        params = resolve_params(params_file, sets)
    editions = {t.settings.edition for t in targets}
    if len(editions) != 1:  # resolve_targets gives one stack or one edition's stacks
        raise InputError(f"stacks of several editions: {', '.join(sorted(editions))}",
                         fix="report on one edition at a time")
    edition_code = editions.pop()
    topology = targets[0].topology
    whole_edition = stack is None
    measurement = measure_replica(project_root, workdir, targets, edition=edition_code,
                                  whole_edition=whole_edition, workers=workers)
    data = build_report(ReportInput(
        topology=topology, measurement=measurement, params=params,
        stacks=[t.name for t in targets], sites=[t.settings.site for t in targets],
        whole_edition=whole_edition, venues=targets[0].settings.venues,
        generated_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")))
    out = output or default_output(project_root, stack or edition_code)
    files = write_report(data, out)
    return ReportResult(data, files, out)


__all__ = ["ReportResult", "default_output", "generate_report"]
