"""The replica as a campaign sees it: the ITL's test-orchestrator (every
scenario runs there, against its declared peers) and the containers a fault
drill acts on.

Nothing here talks to a replica's service from this machine directly: HTTP
runs inside the test-orchestrator container (``docker exec``, as
`replicator odf` does), so the orchestrator reaches the OVRs, the replayer and
the consumers over the links the topology declares.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replicator.configure.odf import Located, deployed_outputs, exec_http, locate
from replicator.errors import InputError, ReplicatorError
from replicator.stacks import edition_stacks


class Interrupted(Exception):
    """The run was asked to stop (Ctrl-C, SIGTERM)."""


@dataclass(frozen=True)
class Target:
    container: str
    docker_host: str
    site: str
    service: str
    tier: str
    port: int


class Replica:
    def __init__(self, root: Path, edition: str, should_stop: Callable[[], bool]):
        self.root = root
        self.edition = edition
        self.should_stop = should_stop
        self.orchestrator = locate(root, edition, model_service="test-orchestrator", tier="app")

    # -- scenarios on the test-orchestrator

    def start(self, scenario: str, params: dict[str, Any]) -> int:
        body = json.dumps({"scenario": scenario, **params}).encode()
        answer = exec_http(self.orchestrator, "POST", "/runs", body=body)
        if answer.status != 202:
            raise ReplicatorError(f"test-orchestrator refused scenario {scenario}: "
                                  f"HTTP {answer.status} {answer.text[:300]}")
        return int(answer.json()["id"])

    def wait(self, run_id: int, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            if self.should_stop():
                raise Interrupted
            answer = exec_http(self.orchestrator, "GET", f"/runs/{run_id}")
            run = answer.json() if answer.status == 200 else {}
            if run.get("status") not in (None, "running"):
                return run
            if time.monotonic() > deadline:
                return {**run, "status": "failed",
                        "steps": [*run.get("steps", []),
                                  {"step": f"finished within {timeout:g} s", "ok": False}]}
            time.sleep(0.5)

    def scenario(self, scenario: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        return self.wait(self.start(scenario, params), timeout)

    def stop_load(self) -> None:
        """Stop a replay in progress (after an interruption); best effort."""
        try:
            replayer = locate(self.root, self.edition, model_service="odf-replayer", tier="app")
            exec_http(replayer, "POST", "/replay/stop", body=b"{}")
        except ReplicatorError:
            pass

    # -- containers, for drills

    def target(self, spec: str) -> Target:
        """`service[/tier][#instance]` (instance from 1) -> its container."""
        name, _, instance = spec.partition("#")
        service, _, tier = name.partition("/")
        tier = tier or "app"
        index = int(instance or 1) - 1
        for outputs in deployed_outputs(self.root, edition_stacks(self.root, self.edition)):
            for deployed, svc in sorted(outputs.services.items()):
                if service not in (deployed, svc.service) or tier not in svc.tiers:
                    continue
                info = svc.tiers[tier]
                if index < len(info.containers):
                    container = info.containers[index]
                    return Target(container, outputs.engine_of(container), outputs.site,
                                  deployed, tier, (info.ports or [8080])[0])
        raise InputError(f"edition {self.edition} has no container {spec}",
                         fix="use service[/tier][#instance] of a deployed service, e.g. "
                             "odf-distributor#2")

    def site_containers(self, site: str) -> list[Target]:
        out = []
        for outputs in deployed_outputs(self.root, edition_stacks(self.root, self.edition)):
            if outputs.site != site:
                continue
            for deployed, svc in sorted(outputs.services.items()):
                for tier, info in svc.tiers.items():
                    out += [Target(c, outputs.engine_of(c), site, deployed, tier,
                                   (info.ports or [0])[0]) for c in info.containers]
        return out

    def healthy(self, target: Target) -> bool:
        try:
            answer = exec_http(Located(target.container, target.docker_host, target.service,
                                       target.port), "GET", "/health")
        except ReplicatorError:
            return False
        return answer.status == 200

    def wait_healthy(self, target: Target, timeout: float) -> float | None:
        """Seconds until `target` answers /health 200, or None after `timeout`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.should_stop():
                raise Interrupted
            if self.healthy(target):
                return round(time.monotonic() - started, 2)
            time.sleep(0.25)
        return None
