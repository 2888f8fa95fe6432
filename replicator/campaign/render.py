"""The campaign progress report as files: HTML (charts inline, no external
resource), Markdown (charts beside it), JSON and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from replicator.campaign.store import write_atomically
from replicator.errors import InputError
from replicator.report.render import _matplotlib, _style_axes, _svg, inline_svg

TEMPLATES = Path(__file__).parent / "templates"
COLOURS = {"passed": "#009e73", "failed": "#d62728", "line": "#1f5fa8", "target": "#e69f00",
           "p50": "#56b4e9", "p99": "#6a3d9a", "recovery": "#b15928"}
TITLES = {"cells": "Pass rate by cell (latest execution)",
          "pass-rate": "Pass rate over time, per run",
          "test-hours": "Accumulated test hours against the target",
          "peaks": "Latency at each peak (venue to consumer)",
          "drills": "Recovery time of drills and interface faults"}


def _figure(height: float = 3.6):
    _, Figure = _matplotlib()
    fig = Figure(figsize=(7.2, height))
    return fig, fig.add_subplot()


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def chart_cells(data: dict[str, Any]):
    rows = data["cells"]
    fig, ax = _figure(max(2.4, 0.35 * len(rows) + 1.2))
    if not rows:
        _empty(ax, "no cell run yet")
        return fig
    names = [r["cell"] for r in rows]
    rates = [r["pass_rate"] for r in rows]
    ax.barh(names, rates, color=[COLOURS["passed"] if r["failed"] == 0 else COLOURS["failed"]
                                 for r in rows])
    for y, r in enumerate(rows):
        ax.text(min(r["pass_rate"], 88) + 1, y, f"{r['passed']}/{r['steps']}", va="center",
                fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("steps passed, %")
    ax.invert_yaxis()
    _style_axes(ax)
    return fig


def chart_pass_rate(data: dict[str, Any]):
    rows = data["pass_rate_over_time"]
    fig, ax = _figure()
    if not rows:
        _empty(ax, "no run yet")
        return fig
    ax.plot([r["run"] for r in rows], [r["pass_rate"] for r in rows], marker="o",
            color=COLOURS["line"])
    ax.set_ylim(0, 105)
    ax.set_xlabel("run")
    ax.set_ylabel("steps passed, %")
    _style_axes(ax)
    return fig


def chart_test_hours(data: dict[str, Any]):
    hours = data["test_hours"]
    rows = hours["cumulative"]
    fig, ax = _figure()
    if not rows:
        _empty(ax, "no test hours yet")
        return fig
    ax.plot([r["run"] for r in rows], [max(r["hours"], 1e-4) for r in rows], marker="o",
            color=COLOURS["line"], label="accumulated")
    if hours["target"]:
        ax.axhline(hours["target"], color=COLOURS["target"], linestyle="--",
                   label=f"target {hours['target']:,.0f} h")
    ax.set_yscale("log")
    ax.set_xlabel("run")
    ax.set_ylabel("test hours (log)")
    ax.legend(fontsize=8, frameon=False)
    _style_axes(ax)
    return fig


def chart_peaks(data: dict[str, Any]):
    rows = [r for r in data["peaks"] if r.get("p99_ms") is not None]
    fig, ax = _figure()
    if not rows:
        _empty(ax, "no peak measured yet")
        return fig
    labels = [f"{r['cell']}\n{r.get('rate')}/s" for r in rows]
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r.get("p50_ms") or 0 for r in rows], 0.4,
           color=COLOURS["p50"], label="p50")
    ax.bar([x + 0.2 for x in xs], [r.get("p99_ms") or 0 for r in rows], 0.4,
           color=COLOURS["p99"], label="p99")
    ax.set_xticks(list(xs), labels, fontsize=8)
    ax.set_ylabel("ms, venue send to consumer commit")
    ax.legend(fontsize=8, frameon=False)
    _style_axes(ax)
    return fig


def chart_drills(data: dict[str, Any]):
    rows = [r for r in data["drills"] if r.get("recovery_s") is not None]
    fig, ax = _figure()
    if not rows:
        _empty(ax, "no drill run yet")
        return fig
    labels = [r["step"].replace(": ", "\n", 1) for r in rows]
    ax.bar(labels, [r["recovery_s"] for r in rows], color=COLOURS["recovery"])
    for x, r in enumerate(rows):
        ax.annotate(f"{r['recovery_s']} s, lost {r.get('lost')}", (x, r["recovery_s"]),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                    textcoords="offset points")
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel("seconds to recover")
    _style_axes(ax)
    return fig


MAKERS = {"cells": chart_cells, "pass-rate": chart_pass_rate, "test-hours": chart_test_hours,
          "peaks": chart_peaks, "drills": chart_drills}


def junit_xml(data: dict[str, Any], steps_by_cell: dict[str, list[dict[str, Any]]]) -> bytes:
    """One testsuite per cell (its latest execution), one testcase per step."""
    root = ET.Element("testsuites", name=f"campaign {data['campaign']}")
    for cell in data["cells"]:
        suite = ET.SubElement(root, "testsuite", name=cell["cell"], tests=str(cell["steps"]),
                              failures=str(cell["failed"]), errors="0")
        for step in steps_by_cell.get(cell["cell"], []):
            case = ET.SubElement(suite, "testcase", classname=f"{cell['suite']}.{cell['cell']}",
                                 name=step["step"], time=f"{step['seconds']:.3f}")
            if not step["passed"]:
                failure = ET.SubElement(case, "failure", message=f"{step['step']} failed")
                failure.text = "\n".join(step["evidence"])
            else:
                ET.SubElement(case, "system-out").text = "\n".join(step["evidence"])
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=lambda name: bool(name and name.endswith(".html.j2")),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["md"] = lambda v: str(v if v is not None else "").replace("|", "\\|").replace(
        "\n", " ")
    return env


def write_campaign_report(data: dict[str, Any], steps_by_cell: dict[str, list[dict[str, Any]]],
                          output: Path) -> dict[str, Path]:
    charts = {name: _svg(make(data)) for name, make in MAKERS.items()}
    inline = {name: Markup(inline_svg(svg, f"k{i}", TITLES[name]))
              for i, (name, svg) in enumerate(charts.items(), start=1)}
    paths = {"html": output / "campaign.html", "markdown": output / "campaign.md",
             "json": output / "campaign.json", "junit": output / "campaign-junit.xml"}
    try:
        for name, svg in charts.items():
            write_atomically(output / "charts" / f"campaign-{name}.svg", svg.encode())
        files = {name: f"charts/campaign-{name}.svg" for name in charts}
        env = _env()
        write_atomically(paths["html"], env.get_template("campaign.html.j2").render(
            r=data, charts=inline, titles=TITLES).encode())
        write_atomically(paths["markdown"], env.get_template("campaign.md.j2").render(
            r=data, charts=files, titles=TITLES).encode())
        write_atomically(paths["json"], (json.dumps(data, indent=2) + "\n").encode())
        write_atomically(paths["junit"], junit_xml(data, steps_by_cell))
    except OSError as exc:
        raise InputError(f"cannot write the campaign report: {exc}", file=output,
                         fix="choose a writable directory with --output DIR") from None
    return paths
