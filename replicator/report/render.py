"""The report as files: self-contained HTML, Markdown and JSON, charts by matplotlib.

The charts are drawn with matplotlib's SVG backend (no pyplot, no GUI), text
as paths so that they look the same without any font; the SVG is inlined in
the HTML (no external file, URL or script) and also written beside the
Markdown under ``charts/``. Templates: ``replicator/report/templates/*.j2``.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from replicator.errors import EngineUnavailableError, InputError
from replicator.report.model import fmt

TEMPLATES = Path(__file__).parent / "templates"

# Chart colours (the HTML test looks for them in the rendered page).
COLOURS = {
    "public": "#1f5fa8",  # past editions, public figures
    "modelled": "#e69f00",  # this edition's production, modelled
    "measured": "#009e73",  # the replica, measured
    "operational": "#d62728",
    "embodied": "#56b4e9",
}
STACK_COLOURS = ("#6a3d9a", "#b15928", "#cc79a7", "#8c564b", "#17becf", "#bcbd22")
KIND_LABELS = {"public": "public figure (cited)", "modelled": "modelled",
               "measured": "measured (replica hosts)"}

CHARTS = ("servers-by-edition", "containers-per-host", "co2e-breakdown")


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise EngineUnavailableError(
            f"the report's charts need matplotlib, which is not installed ({exc})",
            fix="install the report extra: pip install -e '.[report]'") from None
    return matplotlib, Figure


# --------------------------------------------------------------------------- charts


def _svg(fig: Any) -> str:
    matplotlib, _ = _matplotlib()
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "replicator-report"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def inline_svg(svg: str, prefix: str, title: str) -> str:
    """An SVG document made fit to inline in HTML.

    Drops the XML prolog, DOCTYPE and RDF metadata, makes every id unique to
    this chart (several charts share one page), and lets the chart scale to
    its container.
    """
    start = svg.find("<svg")
    svg = svg[start:]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'(\sid=")([^"]+)(")', rf"\g<1>{prefix}-\g<2>\g<3>", svg)
    svg = re.sub(r"(url\(#)([^)]+)(\))", rf"\g<1>{prefix}-\g<2>\g<3>", svg)
    svg = re.sub(r'(href="#)([^"]+)(")', rf"\g<1>{prefix}-\g<2>\g<3>", svg)
    head_end = svg.find(">")
    head = svg[:head_end]
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    head += f' role="img" aria-label="{_attr(title)}" class="chart-svg"'
    return head + svg[head_end:]


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def _style_axes(ax: Any) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)


def chart_servers_by_edition(data: dict[str, Any]) -> Any:
    _, Figure = _matplotlib()
    rows = data["servers_by_edition"]
    fig = Figure(figsize=(7.2, 4.2))
    ax = fig.add_subplot()
    names = [textwrap.fill(r["name"], 12) for r in rows]
    values = [r["physical_servers"] for r in rows]
    colours = [COLOURS[r["kind"]] for r in rows]
    bars = ax.bar(names, values, color=colours, edgecolor="#333333", linewidth=0.6)
    for bar, row in zip(bars, rows, strict=True):
        if row["kind"] == "modelled":
            bar.set_hatch("//")
        ax.annotate(fmt(row["physical_servers"]), (bar.get_x() + bar.get_width() / 2,
                                                   bar.get_height()),
                    ha="center", va="bottom", xytext=(0, 3), textcoords="offset points",
                    fontsize=9)
    _style_axes(ax)
    ax.set_ylabel("physical servers / hosts")
    ax.set_title("Physical servers by edition")
    ax.tick_params(axis="x", labelsize=8)
    ax.set_ylim(0, max(values + [1]) * 1.15)
    from matplotlib.patches import Patch

    kinds = [k for k in ("public", "modelled", "measured") if any(r["kind"] == k for r in rows)]
    ax.legend(handles=[Patch(facecolor=COLOURS[k], edgecolor="#333333",
                             hatch="//" if k == "modelled" else None, label=KIND_LABELS[k])
                       for k in kinds], fontsize=8, frameon=False)
    return fig


def chart_containers_per_host(data: dict[str, Any]) -> Any:
    _, Figure = _matplotlib()
    replica = data["replica"]
    by_host = replica["containers"]["by_host"]
    hosts = replica["hosts"]
    fig = Figure(figsize=(7.2, 4.2))
    ax = fig.add_subplot()
    labels = [f"{h['name'] or h['engine_id'][:14]}\n{h['cpus']} CPUs, "
              f"{fmt(h['memory_bytes'] / 2**30, 1)} GiB" for h in hosts]
    stacks = sorted({s for counts in by_host.values() for s in counts})
    bottoms = [0.0] * len(hosts)
    for i, stack in enumerate(stacks):
        counts = [by_host.get(h["engine_id"], {}).get(stack, 0) for h in hosts]
        ax.bar(labels, counts, bottom=bottoms, label=stack,
               color=STACK_COLOURS[i % len(STACK_COLOURS)], edgecolor="white", linewidth=0.8,
               width=0.45)
        for x, (b, n) in enumerate(zip(bottoms, counts, strict=True)):
            if n:
                ax.text(x, b + n / 2, str(n), ha="center", va="center", fontsize=9,
                        color="white")
        bottoms = [b + n for b, n in zip(bottoms, counts, strict=True)]
    for x, total in enumerate(bottoms):
        ax.annotate(f"{fmt(total)} containers", (x, total), ha="center", va="bottom",
                    xytext=(0, 3), textcoords="offset points", fontsize=9)
    _style_axes(ax)
    ax.set_ylabel("running containers")
    ax.set_title("Containers per physical host (measured)")
    ax.set_ylim(0, max(bottoms + [1]) * 1.18)
    ax.set_xlim(-0.7, len(hosts) - 0.3)
    if stacks:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  title="stack", title_fontsize=8)
    if not hosts:
        ax.text(0.5, 0.5, "no host recorded", ha="center", transform=ax.transAxes)
    return fig


def chart_co2e_breakdown(data: dict[str, Any]) -> Any:
    _, Figure = _matplotlib()
    fp = data["footprint"]
    fig = Figure(figsize=(7.2, 4.2))
    axes = fig.subplots(1, 2)
    for ax, side, title in ((axes[0], "production", "Production (modelled)"),
                            (axes[1], "replica", "Replica (measured)")):
        op = fp[side]["operational_kgco2e"]["value"] / 1000.0
        emb = fp[side]["embodied_kgco2e"]["value"] / 1000.0
        ax.bar(["CO2e"], [op], color=COLOURS["operational"], label="operational", width=0.5)
        ax.bar(["CO2e"], [emb], bottom=[op], color=COLOURS["embodied"], label="embodied",
               width=0.5)
        for value, base in ((op, 0.0), (emb, op)):
            if value:
                ax.text(0, base + value / 2, f"{fmt(value, 2)} t", ha="center", va="center",
                        fontsize=9)
        total = fp[side]["total_kgco2e"]["value"] / 1000.0
        ax.annotate(f"total {fmt(total, 2)} t", (0, op + emb), ha="center", va="bottom",
                    xytext=(0, 3), textcoords="offset points", fontsize=9)
        _style_axes(ax)
        ax.set_xlim(-0.8, 0.8)
        ax.set_ylim(0, max(op + emb, 1e-6) * 1.18)
        ax.set_xticks([])
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("tCO2e per year")
    axes[1].legend(fontsize=8, frameon=False, loc="upper right")
    fig.suptitle("CO2e per year: operational vs embodied", fontsize=11)
    fig.tight_layout()
    return fig


def render_charts(data: dict[str, Any]) -> dict[str, str]:
    """name -> SVG document, for each chart."""
    makers = {"servers-by-edition": chart_servers_by_edition,
              "containers-per-host": chart_containers_per_host,
              "co2e-breakdown": chart_co2e_breakdown}
    return {name: _svg(make(data)) for name, make in makers.items()}


# --------------------------------------------------------------------------- templates


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=lambda name: bool(name and name.endswith(".html.j2")),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["num"] = lambda v, d=2: fmt(v, d)
    env.filters["pct"] = lambda v, d=1: "n/a" if v is None else f"{fmt(v * 100, d)} %"
    env.filters["mib"] = lambda v: "n/a" if v is None else f"{fmt(v / 2**20, 1)} MiB"
    env.filters["gib"] = lambda v: "n/a" if v is None else f"{fmt(v / 2**30, 1)} GiB"
    env.filters["t"] = lambda kg: fmt(kg / 1000.0, 2)
    env.filters["md"] = lambda v: str(v if v is not None else "").replace("|", "\\|").replace(
        "\n", " ")
    return env


def render_html(data: dict[str, Any], charts: dict[str, str]) -> str:
    titles = {"servers-by-edition": "Physical servers by edition",
              "containers-per-host": "Containers per physical host",
              "co2e-breakdown": "CO2e per year, operational vs embodied"}
    inline = {name: Markup(inline_svg(svg, f"c{i}", titles[name]))
              for i, (name, svg) in enumerate(charts.items(), start=1)}
    return _env().get_template("report.html.j2").render(r=data, charts=inline, colours=COLOURS,
                                                         kind_labels=KIND_LABELS)


def render_markdown(data: dict[str, Any], chart_files: dict[str, str]) -> str:
    return _env().get_template("report.md.j2").render(r=data, charts=chart_files,
                                                       kind_labels=KIND_LABELS)


def write_report(data: dict[str, Any], output: Path) -> dict[str, Path]:
    """Write report.html, report.md, report.json and charts/*.svg under `output`."""
    charts = render_charts(data)
    try:
        output.mkdir(parents=True, exist_ok=True)
        (output / "charts").mkdir(exist_ok=True)
        chart_files = {}
        for name, svg in charts.items():
            (output / "charts" / f"{name}.svg").write_text(svg, encoding="utf-8")
            chart_files[name] = f"charts/{name}.svg"
        paths = {"html": output / "report.html", "markdown": output / "report.md",
                 "json": output / "report.json"}
        paths["html"].write_text(render_html(data, charts), encoding="utf-8")
        paths["markdown"].write_text(render_markdown(data, chart_files), encoding="utf-8")
        paths["json"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc}", file=output,
                         fix="choose a writable directory with --output DIR") from None
    return paths
