"""Run the unmodified Pulumi program (infra/__main__.py) under `pulumi.runtime.set_mocks`.

Pulumi's documented way to unit-test a program: the mocks stand in for the
engine and every resource registration reaches `Mocks.new_resource`, which
records it. Each run happens in a fresh `contextvars.Context` and event loop,
so that stacks run one after the other in one process do not share the SDK's
ambient state (root resource, config, outstanding RPCs).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import runpy
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from ruamel.yaml import YAML

PROJECT_ROOT = Path(__file__).resolve().parents[3]
INFRA = PROJECT_ROOT / "infra"
PROGRAM = INFRA / "__main__.py"
ORGANIZATION = "organization"
PROJECT = "replicator"

if str(INFRA) not in sys.path:  # as infra/__main__.py does, for `components`
    sys.path.insert(0, str(INFRA))

STACK_REFERENCE = "pulumi:pulumi:StackReference"
CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
PROVIDER = "pulumi:providers:docker"


@dataclass
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool | None
    provider: str | None
    resource_id: str | None


@dataclass
class Graph:
    """Every resource the program registered, in registration order."""

    stack: str
    config: dict[str, str]
    registrations: list[Registration] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)  # pulumi.export, resolved

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def by_name(self, type_: str) -> dict[str, dict[str, Any]]:
        """Docker object name (the `name` input) -> inputs."""
        return {r.inputs.get("name", r.name): r.inputs for r in self.of_type(type_)}


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, graph: Graph, wan_networks: dict[str, Any] | None) -> None:
        self.graph = graph
        self.wan_networks = wan_networks
        self._lock = threading.Lock()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        with self._lock:
            self.graph.registrations.append(Registration(
                args.typ, args.name, dict(args.inputs), args.custom, args.provider,
                args.resource_id))
        outputs = dict(args.inputs)
        if args.typ == STACK_REFERENCE:
            # What the engine answers for a StackReference: the other stack's outputs.
            return args.resource_id or args.name, {
                "name": args.resource_id or args.name,
                "outputs": {"wanNetworks": self.wan_networks or {}},
                "secretOutputNames": [],
            }
        if args.typ == REMOTE_IMAGE:
            outputs["imageId"] = f"sha256:{args.inputs['name']}"
            outputs["repoDigest"] = outputs["imageId"]
        if args.typ == CONTAINER:
            outputs["networkDatas"] = [{"networkName": n["name"]}
                                       for n in args.inputs.get("networksAdvanced", [])]
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


def wan_outputs(edition: str) -> dict[str, Any]:
    """What the WAN owner exports as `wanNetworks`: one circuit per pair of services that a
    cross-site link of the model joins (names as docs/ARCHITECTURE.md gives them)."""
    from replicator.topology import load_edition

    topo = load_edition(PROJECT_ROOT, edition)
    out: dict[str, Any] = {}
    for link in topo.links:
        a, b = topo.service(link.source_service), topo.service(link.target_service)
        if a.site != b.site:
            x, y = sorted((a.name, b.name))
            name = f"{edition}-wan-{x}--{y}"
            out[name] = {"name": name, "id": f"{name}-id", "services": [x, y]}
    return out


def stack_config(stack: str) -> dict[str, str]:
    """The stack file's config as Pulumi hands it to a program: strings, objects as JSON."""
    data = YAML(typ="safe").load((PROJECT_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return {key: value if isinstance(value, str) else json.dumps(value)
            for key, value in data["config"].items() if key.startswith("replicator:")}


def run_program(stack: str, *, wan_networks: dict[str, Any] | None = None,
                config: dict[str, str] | None = None, home: Path | None = None) -> Graph:
    """Run the program under mocks. `home` is REPLICATOR_HOME (default: an empty one, so
    a host override of the checkout, from `replicator hosts up`, never leaks in)."""
    graph = Graph(stack=stack, config=config if config is not None else stack_config(stack))
    mocks = RecordingMocks(graph, wan_networks)
    with tempfile.TemporaryDirectory() as empty:
        old = os.environ.get("REPLICATOR_HOME")
        os.environ["REPLICATOR_HOME"] = str(home or empty)
        try:
            _run(stack, graph, mocks)
        finally:
            if old is None:
                os.environ.pop("REPLICATOR_HOME", None)
            else:
                os.environ["REPLICATOR_HOME"] = old
    return graph


def _run(stack: str, graph: Graph, mocks: RecordingMocks) -> None:

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            # RPCs a failed earlier run left behind belong to its closed loop: forget them.
            pulumi_settings.SETTINGS.rpc_manager.clear()
            pulumi_settings.SETTINGS.outputs.clear()
            pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False,
                                     organization=ORGANIZATION)
            pulumi.runtime.set_all_config(graph.config)
            pulumi_settings.SETTINGS.root_directory = str(PROJECT_ROOT)
            loop.run_until_complete(run_pulumi_func(
                lambda: runpy.run_path(str(PROGRAM), run_name="__main__")))
        finally:
            loop.close()
            asyncio.set_event_loop(None)
            pulumi.export = real_export

    def export(name: str, value: Any) -> None:
        """Record what the program exports, once its outputs resolve (the SDK awaits them)."""
        pulumi.Output.from_input(value).apply(lambda v: graph.exports.__setitem__(name, v))
        real_export(name, value)

    real_export = pulumi.export
    pulumi.export = export

    contextvars.Context().run(run)
