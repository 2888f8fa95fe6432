"""A richer test edition for the configure tests: the whole results chain.

Three sites like production: at the ITL accreditation (web/app/db), the ODF
distributor and its four consumers (wrs with a web tier, rma, cis, myinfo);
at the TOC one OVR per venue (AQC, STA); at the CTOC monitoring with a health
check of every application tier. Service names are those of paris2024, so the
project's roles apply unchanged. At the ITL also the test tooling
(test-orchestrator, odf-replayer) a campaign drives. The project links the
checkout's roles, playbooks, ansible.cfg, campaigns and paris2024's topology and
schedule (campaign files are checked against them), copies apps/, and gets its
own edition name and subnets (see projects.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.integration.projects import (
    TestProject,
    _dump,
    free_address_block,
    stack_config,
)
from tests.topology_builders import edition_skeleton, service, venue

VENUES = {"AQC": ["SWM", "DIV"], "STA": ["ATH"]}
LINKED = ("roles", "collections", "playbooks", "ansible.cfg", "infra")


def _svc(name: str, site: str, tiers: list[tuple[str, int, int]], *, per_venue: bool = False,
         version: str = "24.7.0") -> dict[str, Any]:
    return service(name, site, tiers, per_venue=per_venue, version=version)


def games_topology(edition: str, wan_supernet: str) -> dict[str, Any]:
    app = [("app", 1, 8080)]
    web_app = [("web", 1, 80), ("app", 1, 8080)]
    http = {"port": 8080, "protocol": "http"}
    links = [
        {"from": "accreditation/web", "to": "accreditation/app", **http, "purpose": "ui"},
        {"from": "accreditation/app", "to": "accreditation/db", "port": 5432,
         "protocol": "postgres", "purpose": "records"},
        {"from": "wrs/web", "to": "wrs/app", **http, "purpose": "public results pages"},
        {"from": "ovr/app", "to": "odf-distributor/app", **http, "purpose": "ODF into ODS"},
        {"from": "accreditation/app", "to": "odf-distributor/app", **http,
         "purpose": "initial download"},
    ]
    links += [{"from": "odf-distributor/app", "to": f"{c}/app", **http,
               "purpose": f"ODF messages to {c}"} for c in ("cis", "myinfo", "wrs", "rma")]
    # The ITL's test tooling, as in paris2024 (what `replicator campaign run` drives).
    links += [{"from": "odf-replayer/app", "to": "ovr/app", **http, "purpose": "test load"},
              {"from": "test-orchestrator/app", "to": "odf-replayer/app", **http,
               "purpose": "replay scenarios"},
              {"from": "test-orchestrator/app", "to": "ovr/app", **http,
               "purpose": "venue scenarios"},
              {"from": "test-orchestrator/app", "to": "accreditation/app", **http,
               "purpose": "functional test runs"},
              {"from": "test-orchestrator/app", "to": "wrs/web", "port": 80,
               "protocol": "http", "purpose": "published results"}]
    links += [{"from": "test-orchestrator/app", "to": f"{c}/app", **http,
               "purpose": "delivered results"} for c in ("cis", "myinfo", "rma")]
    links += [{"from": "monitoring/app", "to": f"{s}/app", **http, "purpose": "health check"}
              for s in ("accreditation", "odf-distributor", "cis", "myinfo", "wrs", "rma",
                        "ovr")]
    return {
        **edition_skeleton(edition, wan_supernet,
                           [venue(code, f"Venue {code}", disciplines)
                            for code, disciplines in VENUES.items()]),
        "suites": [
            {"name": "oms", "title": "OMS", "services": [
                _svc("accreditation", "itl", [("web", 1, 80), ("app", 1, 8080), ("db", 1, 5432)],
                     version="24.7.2")]},
            {"name": "ods", "title": "ODS", "services": [
                _svc("odf-distributor", "itl", app, version="24.7.4"),
                _svc("cis", "itl", app, version="24.7.1"),
                _svc("myinfo", "itl", app, version="24.7.1"),
                _svc("wrs", "itl", web_app, version="24.7.3"),
                _svc("rma", "itl", app, version="24.7.3")]},
            {"name": "ovr", "title": "OVR", "services": [
                _svc("ovr", "toc", app, per_venue=True)]},
            {"name": "itl-tools", "title": "ITL test tooling", "services": [
                _svc("test-orchestrator", "itl", app, version="24.1.0"),
                _svc("odf-replayer", "itl", app, version="24.1.0")]},
            {"name": "ctoc", "title": "Supervision", "services": [
                _svc("monitoring", "ctoc", app, version="24.3.0")]},
        ],
        "links": links,
    }


def make_games_project(root: Path, repo: Path, edition: str,
                       used_subnets: list[str] | None = None) -> TestProject:
    root.mkdir(parents=True)
    (root / "Pulumi.yaml").write_text((repo / "Pulumi.yaml").read_text())
    for name in LINKED:
        (root / name).symlink_to(repo / name)
    # A copy of apps/ for the project's own tools; the containers run the app
    # baked into the app image from the checkout (docs/images.md).
    shutil.copytree(repo / "apps", root / "apps",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    stacks = root / "stacks"
    stacks.mkdir()
    prefix, wan = free_address_block(used_subnets or [])
    for index, site in enumerate(("itl", "ctoc", "toc"), start=1):
        config = stack_config(edition, site, index, prefix)
        config["config"]["replicator:venues"] = list(VENUES)
        (stacks / f"Pulumi.{edition}-{site}.yaml").write_text(_dump(config))
    # The campaign files are paris2024's: they are checked against its topology and
    # schedule, and run against this edition (`campaign run --edition`).
    for name in ("topology/paris2024.yaml", "schedule/paris2024.json"):
        (stacks / name).parent.mkdir(parents=True, exist_ok=True)
        (stacks / name).symlink_to(repo / "stacks" / name)
    (root / "campaigns").symlink_to(repo / "campaigns")
    project = TestProject(root=root, edition=edition, topology=games_topology(edition, wan))
    project.write_topology()
    return project


def dt_result(document_code: str, version: int, *, competition: str = "OG2099",
              status: str = "LIVE", source: str = "SWMAQC1", rank1: str = "52.10") -> bytes:
    """A minimal valid ODF DT_RESULT (Foundation Principles header attributes)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OdfBody CompetitionCode="{competition}" DocumentCode="{document_code}" DocumentType="DT_RESULT"
 Version="{version}" ResultStatus="{status}" Language="ENG" FeedFlag="T" Date="2099-07-28"
 Time="201500123" LogicalDate="2099-07-28" Source="{source}">
 <Competition>
  <Result Rank="1" Result="{rank1}" SortOrder="1">
   <Competitor Code="1000001" Type="A" Organisation="FRA">
    <Composition><Athlete Code="1000001" Order="1">
     <Description GivenName="Lea" FamilyName="Martin" Gender="W" Organisation="FRA"/>
    </Athlete></Composition>
   </Competitor>
  </Result>
 </Competition>
</OdfBody>
""".encode()
