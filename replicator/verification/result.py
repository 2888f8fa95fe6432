"""The result of a verification: what was checked, what failed and why, and the figures.

Built from the outcomes the `verify/` suite writes (``--verify-json``): each
check's outcome, its failure message (which names the service or link and what
differed) and its findings (the conformance diff items, the server counts, the
end-to-end latency).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from replicator.errors import ExitCode

# The suite's modules, one per concept, in report order.
CONCEPTS = {
    "test_services": "services",
    "test_links": "links",
    "test_isolation": "isolation",
    "test_conformance": "conformance",
    "test_servers": "servers",
    "test_end_to_end": "end to end",
}
EDITION_WIDE = ("edition", "-")


@dataclass
class Check:
    """One executed check (one pytest item)."""

    nodeid: str
    concept: str
    name: str  # the test function
    subject: str  # the parameter: a container, service, link, pair, network...
    outcome: str  # passed | failed | skipped | error
    seconds: float
    message: str = ""
    site: str = "edition"
    suite: str = "-"
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cost(self) -> float:
        """Seconds of work this check did itself: the `docker exec`s of an application
        check gathered in a thread (its `cost_s`), else its pytest duration."""
        costs = [f["cost_s"] for f in self.findings if isinstance(f.get("cost_s"), (int, float))]
        return float(sum(costs)) if costs else self.seconds

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GroupResult:
    """The checks of one site and suite (or the edition-wide ones)."""

    site: str
    suite: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # concept -> outcome -> n

    @property
    def failed(self) -> int:
        return sum(c.get("failed", 0) + c.get("error", 0) for c in self.counts.values())

    @property
    def passed(self) -> int:
        return sum(c.get("passed", 0) for c in self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site, "suite": self.suite, "passed": self.passed,
                "failed": self.failed, "counts": self.counts}


@dataclass
class VerificationResult:
    edition: str
    stacks: list[str]
    level: str
    seconds: float
    checks: list[Check]
    declared: dict[str, int]
    coverage: dict[str, Any]
    conformance: dict[str, Any]
    servers: dict[str, Any]
    latency: dict[str, Any]
    isolation: dict[str, Any] = field(default_factory=dict)  # pairs: total, probed, seed
    workers: int = 0
    deselected: int = 0
    reports: dict[str, str] = field(default_factory=dict)
    error: str = ""  # the suite could not run at all

    # -- outcomes ---------------------------------------------------------------
    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.outcome in ("failed", "error")]

    @property
    def passed(self) -> bool:
        return not self.error and not self.failures and bool(self.checks)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.passed else ExitCode.VERIFY_FAILED)

    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
        for c in self.checks:
            out[c.outcome] = out.get(c.outcome, 0) + 1
        return out

    def groups(self) -> list[GroupResult]:
        groups: dict[tuple[str, str], GroupResult] = {}
        for c in self.checks:
            g = groups.setdefault((c.site, c.suite), GroupResult(c.site, c.suite))
            per = g.counts.setdefault(c.concept, {})
            per[c.outcome] = per.get(c.outcome, 0) + 1
        return [groups[k] for k in sorted(groups, key=lambda k: (k[0] == "edition", k))]

    def per_concept(self) -> dict[str, dict[str, Any]]:
        """Checks and time per concept (the cost of each kind of check)."""
        out: dict[str, dict[str, Any]] = {}
        for concept in CONCEPTS.values():
            mine = [c for c in self.checks if c.concept == concept]
            if not mine:
                continue
            seconds = sum(c.seconds for c in mine)
            out[concept] = {"checks": len(mine), "failed": sum(c.outcome in ("failed", "error")
                                                               for c in mine),
                            "seconds": round(seconds, 3),
                            "ms_per_check": round(1000 * seconds / len(mine), 2)}
        return out

    def per_check(self) -> dict[str, dict[str, Any]]:
        """Checks and cost per test function (e.g. services::test_health).

        `seconds`: the checks' own work (an application check's execs, timed in the
        thread that ran them; otherwise the pytest duration, which for the first link
        or isolation check carries the whole probe batch); `ms_per_check` its mean.
        """
        acc: dict[str, list[float]] = defaultdict(list)
        for c in self.checks:
            acc[f"{c.concept}::{c.name}"].append(c.cost)
        return {k: {"checks": len(v), "seconds": round(sum(v), 3),
                    "ms_per_check": round(1000 * sum(v) / len(v), 2)}
                for k, v in sorted(acc.items())}

    def summary_line(self) -> str:
        n = self.counts()
        state = "PASSED" if self.passed else "FAILED"
        return (f"verification {state}: {self.edition} ({', '.join(self.stacks)}), "
                f"{n['passed']} passed, {n['failed'] + n['error']} failed, {n['skipped']} "
                f"skipped in {self.seconds:.1f} s; coverage {self.coverage.get('percent', 0):.0f}%")

    def to_json(self) -> dict[str, Any]:
        return {
            "edition": self.edition, "stacks": self.stacks, "level": self.level,
            "passed": self.passed, "exit_code": self.exit_code, "error": self.error,
            "seconds": round(self.seconds, 3), "workers": self.workers,
            "counts": self.counts(), "deselected": self.deselected, "declared": self.declared,
            "coverage": self.coverage, "conformance": self.conformance,
            "servers": self.servers, "latency": self.latency, "isolation": self.isolation,
            "groups": [g.to_json() for g in self.groups()],
            "per_concept": self.per_concept(), "per_check": self.per_check(),
            "failures": [{"check": f"{c.concept}::{c.name}", "subject": c.subject,
                          "site": c.site, "suite": c.suite, "message": c.message}
                         for c in self.failures],
            "checks": [c.to_json() for c in self.checks],
            "reports": self.reports,
        }


# --------------------------------------------------------------------------- building

_PARAM = re.compile(r"^(?P<path>[^:]+)::(?P<name>[^\[]+)(\[(?P<param>.*)\])?$")


def parse_nodeid(nodeid: str) -> tuple[str, str, str]:
    """(concept, test name, parameter) of a node id like verify/test_links.py::test_link[x]."""
    m = _PARAM.match(nodeid)
    if not m:
        return "other", nodeid, ""
    module = Path(m.group("path")).stem
    return CONCEPTS.get(module, module), m.group("name"), m.group("param") or ""


def placement(expectation: Any) -> dict[str, tuple[str, str]]:
    """subject -> (site, suite) for every parameter the suite uses."""
    out: dict[str, tuple[str, str]] = {}
    suites = {s.name: (s.site, s.suite) for s in expectation.services}
    all_suites = {c.service: (c.site, c.suite) for c in expectation.all_containers.values()}
    for c in expectation.containers:
        out[c.subject] = (c.site, c.suite)
        out[c.name] = (c.site, c.suite)
    for s in expectation.services:
        out[s.subject] = (s.site, s.suite)
    for link in expectation.links:
        out[link.name] = all_suites.get(link.source) or suites.get(link.source) or EDITION_WIDE
    for pair in expectation.isolation_pairs():
        out[pair.name] = all_suites.get(pair.source) or EDITION_WIDE
    for n in expectation.networks:
        parts = n.name.split("-")
        out[n.name] = (parts[1], "-") if n.kind in ("lan", "edge") and len(parts) > 2 else (
            "wan", "-")
    return out


def build_checks(outcomes: list[dict[str, Any]], expectation: Any) -> list[Check]:
    where = placement(expectation)
    checks = []
    for o in outcomes:
        concept, name, param = parse_nodeid(o["nodeid"])
        outcome = o["outcome"]
        if o.get("phase") == "setup" and outcome == "failed":
            outcome = "error"
        site, suite = where.get(param, EDITION_WIDE)
        checks.append(Check(nodeid=o["nodeid"], concept=concept, name=name, subject=param or name,
                            outcome=outcome, seconds=float(o.get("seconds", 0.0)),
                            message=o.get("message", ""), site=site, suite=suite,
                            findings=list(o.get("findings") or [])))
    return checks


def coverage(checks: list[Check], expectation: Any) -> dict[str, Any]:
    """Share of declared services and links that at least one executed check covered."""
    ran = [c for c in checks if c.outcome != "skipped"]
    by_subject: dict[str, set[str]] = defaultdict(set)
    for c in ran:
        by_subject[c.subject].add(c.concept)
    service_subjects = {s.name: {s.subject, *(c.subject for c in s.containers)}
                        for s in expectation.services}
    services = {name for name, subjects in service_subjects.items()
                if any(by_subject.get(x) for x in subjects)}
    links = {link.name for link in expectation.links if by_subject.get(link.name)}
    declared = len(expectation.services) + len(expectation.links)
    covered = len(services) + len(links)
    return {
        "services": {"declared": len(expectation.services), "covered": len(services),
                     "uncovered": sorted(set(service_subjects) - services)},
        "links": {"declared": len(expectation.links), "covered": len(links),
                  "uncovered": sorted({link.name for link in expectation.links} - links)},
        "percent": round(100.0 * covered / declared, 2) if declared else 100.0,
    }


def findings_of(checks: list[Check], kind: str) -> list[tuple[Check, dict[str, Any]]]:
    return [(c, f) for c in checks for f in c.findings if f.get("kind") == kind]


def conformance_of(checks: list[Check]) -> dict[str, Any]:
    summary = next((f for _, f in findings_of(checks, "conformance")), {})
    differences = []
    for check, f in findings_of(checks, "diff"):
        for item in [f.get("item") or {}, *(f.get("containers") or [])]:
            if item.get("status", "ok") != "ok":
                differences.append({**item, "check": check.name})
    return {"summary": {k: v for k, v in summary.items() if k not in ("kind", "subject")},
            "differences": differences}


def servers_of(checks: list[Check]) -> dict[str, Any]:
    found = [f for c, f in findings_of(checks, "servers") if f.get("subject") == "physical servers"]
    if not found:
        return {}
    return {k: v for k, v in found[0].items() if k not in ("kind", "subject")}


def isolation_scope_of(checks: list[Check]) -> dict[str, Any]:
    found = findings_of(checks, "isolation-scope")
    return {k: v for k, v in found[0][1].items() if k not in ("kind", "subject")} if found else {}


def latency_of(checks: list[Check]) -> dict[str, Any]:
    found = findings_of(checks, "e2e")
    if not found:
        return {}
    check, f = found[0]
    return {**{k: v for k, v in f.items() if k != "kind"}, "outcome": check.outcome}
