"""The verification report as one self-contained HTML page (Jinja2, inline CSS, no script)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from replicator.verification.result import CONCEPTS, VerificationResult

TEMPLATES = Path(__file__).parent / "templates"


def render_html(result: VerificationResult) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    template = env.get_template("verification.html.j2")
    data = result.to_json()
    return template.render(r=data, concepts=list(CONCEPTS.values()),
                           summary=result.summary_line(), passed=result.passed)
