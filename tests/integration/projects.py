"""A small but complete Games topology, written as a Pulumi project in a temp dir.

Three sites like production (ctoc owns the inter-site circuits), a web/app/db
service, an ODF path from two venue OVRs across sites, and monitoring across
sites: enough to exercise every kind of object the program creates.
"""

from __future__ import annotations

import copy
import io
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.topology_builders import edition_skeleton, service, venue


def base_topology(edition: str, wan_supernet: str = "10.252.0.0/16") -> dict[str, Any]:
    return {
        **edition_skeleton(edition, wan_supernet, [venue("AQC", "Aquatics", ["SWM"]),
                                                    venue("STA", "Stadium", ["ATH"])]),
        "suites": [
            {"name": "oms", "title": "OMS", "services": [
                service("accreditation", "itl", [("web", 1, 80), ("app", 1, 8080), ("db", 1, 5432)])]},
            {"name": "ods", "title": "ODS", "services": [
                service("odf-distributor", "itl", [("app", 1, 8080)]),
                service("wrs", "itl", [("web", 1, 80), ("app", 1, 8080)])]},
            {"name": "ovr", "title": "OVR", "services": [
                service("ovr", "toc", [("app", 1, 8080)], per_venue=True)]},
            {"name": "ctoc", "title": "Supervision", "services": [
                service("monitoring", "ctoc", [("app", 1, 8080)])]},
        ],
        "links": [
            {"from": "accreditation/web", "to": "accreditation/app", "port": 8080,
             "protocol": "http", "purpose": "web to app"},
            {"from": "accreditation/app", "to": "accreditation/db", "port": 5432,
             "protocol": "postgres", "purpose": "app to db"},
            {"from": "ovr/app", "to": "odf-distributor/app", "port": 8080, "protocol": "http",
             "purpose": "ODF messages"},
            {"from": "odf-distributor/app", "to": "wrs/app", "port": 8080, "protocol": "http",
             "purpose": "results to the web"},
            {"from": "wrs/web", "to": "wrs/app", "port": 8080, "protocol": "http",
             "purpose": "web to app"},
            {"from": "monitoring/app", "to": "accreditation/app", "port": 8080,
             "protocol": "http", "purpose": "health"},
            {"from": "monitoring/app", "to": "ovr/app", "port": 8080, "protocol": "http",
             "purpose": "health"},
        ],
    }


def stack_config(edition: str, site: str, index: int, prefix: str) -> dict[str, Any]:
    return {"config": {
        "replicator:edition": edition,
        "replicator:site": site,
        "replicator:dockerHost": os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"),
        "replicator:subnets": {"lan": f"{prefix}.{index}.0/24", "edge": f"{prefix}.{100 + index}.0/24"},
        "replicator:venues": ["AQC", "STA"],
        "replicator:imageTag": "latest",
    }}


def _dump(data: Any) -> str:
    buf = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.dump(data, buf)
    return buf.getvalue()


@dataclass
class TestProject:
    __test__ = False  # a helper, not a test class for pytest to collect
    root: Path
    edition: str
    topology: dict[str, Any] = field(default_factory=dict)

    @property
    def workdir(self) -> Path:
        return self.root / ".replicator"

    def stack(self, site: str) -> str:
        return f"{self.edition}-{site}"

    def write_topology(self, topology: dict[str, Any] | None = None) -> None:
        if topology is not None:
            self.topology = topology
        path = self.root / "stacks" / "topology" / f"{self.edition}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(self.topology))

    def edit_topology(self) -> dict[str, Any]:
        """A deep copy to change and pass back to `write_topology`."""
        return copy.deepcopy(self.topology)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(REPLICATOR_PROJECT=str(self.root), REPLICATOR_HOME=str(self.workdir))
        return env

    def cli(self, *args: str, timeout: float = 300, check: bool = False) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "replicator", *args], cwd=self.root,
                              env=self.env(), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"replicator {' '.join(args)} exited {proc.returncode}\n"
                                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "replicator", *args], cwd=self.root,
                                env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, stdin=subprocess.DEVNULL, start_new_session=True)

    def runner(self):
        from replicator.engine import StackRunner

        return StackRunner(self.root, self.workdir)


def free_address_block(used: list[str]) -> tuple[str, str]:
    """Two /16 blocks no Docker network uses yet: one for the sites, one for the WAN.

    Test projects pick their own, so that leftovers of another run or a real
    replica on the same engine never make a test fail with "Pool overlaps".
    """
    import ipaddress

    taken = [ipaddress.ip_network(s) for s in used]
    for k in range(20):
        site_block = ipaddress.ip_network(f"10.{200 + k}.0.0/16")
        wan_block = ipaddress.ip_network(f"10.{220 + k}.0.0/16")
        if not any(site_block.overlaps(t) or wan_block.overlaps(t) for t in taken):
            return f"10.{200 + k}", str(wan_block)
    raise RuntimeError("no free 10.2xx.0.0/16 block for a test project")


def make_project(root: Path, repo: Path, edition: str, used_subnets: list[str] | None = None) -> TestProject:
    root.mkdir(parents=True)
    (root / "Pulumi.yaml").write_text((repo / "Pulumi.yaml").read_text())
    (root / "infra").symlink_to(repo / "infra")
    stacks = root / "stacks"
    stacks.mkdir()
    prefix, wan = free_address_block(used_subnets or [])
    for index, site in enumerate(("itl", "ctoc", "toc"), start=1):
        (stacks / f"Pulumi.{edition}-{site}.yaml").write_text(
            _dump(stack_config(edition, site, index, prefix)))
    project = TestProject(root=root, edition=edition, topology=base_topology(edition, wan))
    project.write_topology()
    return project
