#!/usr/bin/env python3
"""Benchmark of the embedded engine against a bare docker-py loop (prints figures).

In one run, on the local Docker engine, with the images already built:

1. cold `up` of the three stacks of an edition (the paris2024 topology, copied
   under a throw-away edition name with its own subnets, so a replica that is
   running is not touched);
2. no-op `up` of the three stacks (must report zero changes);
3. `destroy` of the three stacks;
4. the same networks, volumes and containers (read back from the engine's
   state) created by a plain docker-py loop, then removed;
5. the ratio engine / bare, and the security checks (ports on 0.0.0.0,
   privileged containers) of what the engine created.

Usage: .venv/bin/python bench/engine_bench.py [--keep-project DIR] [--baseline FIGURES.json]
Targets (issue 2): cold up <= 1.5 x bare loop; no-op up of 3 stacks reports 0 changes in <= 5 s.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import docker
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicator.engine import Mode, StackRunner  # noqa: E402 (after the path set-up)
from replicator.engine.events import RecordingSink  # noqa: E402
from replicator.engine.multistack import run_stacks  # noqa: E402
from replicator.engine.properties import reveal  # noqa: E402
from tests.integration.projects import free_address_block  # noqa: E402

SOURCE_EDITION = "paris2024"
SITES = ("ctoc", "itl", "toc")  # the WAN owner first


def _free_blocks(client: docker.DockerClient) -> tuple[str, str]:
    used = [c["Subnet"] for n in client.api.networks()
            for c in ((n.get("IPAM") or {}).get("Config") or []) if c.get("Subnet")]
    try:
        return free_address_block(used)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


def make_project(root: Path, edition: str, client: docker.DockerClient) -> Path:
    """A copy of the paris2024 project under another edition name and free subnets."""
    yaml = YAML()
    root.mkdir(parents=True)
    (root / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    (root / "infra").symlink_to(REPO / "infra")
    (root / "stacks" / "topology").mkdir(parents=True)
    topo = yaml.load((REPO / "stacks" / "topology" / f"{SOURCE_EDITION}.yaml").read_text())
    prefix, wan = _free_blocks(client)
    topo["edition"]["code"] = edition
    topo["wan"]["supernet"] = wan
    with (root / "stacks" / "topology" / f"{edition}.yaml").open("w") as fh:
        yaml.dump(topo, fh)
    for index, site in enumerate(("itl", "ctoc", "toc"), start=1):
        src = yaml.load((REPO / "stacks" / f"Pulumi.{SOURCE_EDITION}-{site}.yaml").read_text())
        cfg = src["config"]
        cfg["replicator:edition"] = edition
        cfg["replicator:subnets"] = {"lan": f"{prefix}.{index}.0/24", "edge": f"{prefix}.{100 + index}.0/24"}
        # Same published ports, moved out of the way of a running replica.
        cfg["replicator:publish"] = {k: v + 20000 for k, v in (cfg.get("replicator:publish") or {}).items()}
        with (root / "stacks" / f"Pulumi.{edition}-{site}.yaml").open("w") as fh:
            yaml.dump(src, fh)
    return root


def timed_edition(runner: StackRunner, stacks: list[str], verb: Mode) -> tuple[float, list]:
    start = time.monotonic()
    results = run_stacks(runner, stacks, verb, lambda s: RecordingSink())
    seconds = time.monotonic() - start
    failed = [r for r in results if not r.succeeded]
    if failed:
        raise SystemExit(f"{verb.value} failed: {failed[0].stack}: {failed[0].error}")
    return seconds, results


def security_figures(client: docker.DockerClient, edition: str) -> dict[str, int]:
    public_ports = privileged = 0
    containers = client.api.containers(all=True, filters={"label": f"replicator.edition={edition}"})
    for c in containers:
        info = client.api.inspect_container(c["Id"])
        privileged += bool(info["HostConfig"].get("Privileged"))
        for bindings in (info["HostConfig"].get("PortBindings") or {}).values():
            for b in bindings or []:
                ip = b.get("HostIp") or "0.0.0.0"
                public_ports += not ipaddress.ip_address(ip).is_loopback
    return {"containers": len(containers), "ports_on_non_loopback": public_ports,
            "privileged_containers": privileged}


def captured_objects(runner: StackRunner, stacks: list[str]) -> dict[str, list[dict]]:
    """What the engine created, as inputs a bare loop can replay."""
    objects: dict[str, list[dict]] = {"networks": [], "volumes": [], "containers": []}
    kinds = {"docker:index/network:Network": "networks", "docker:index/volume:Volume": "volumes",
             "docker:index/container:Container": "containers"}
    for stack in stacks:
        for r in runner.load_state(stack).resources:
            if r.type in kinds:
                objects[kinds[r.type]].append(reveal(r.inputs))
    return objects


def bare_loop(client: docker.DockerClient, objects: dict[str, list[dict]], image_ids: dict[str, str]) -> float:
    """The plain way: one call after the other, no state, no diff."""
    api = client.api
    start = time.monotonic()
    for net in objects["networks"]:
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=c["subnet"])
                                                     for c in net.get("ipamConfigs") or []])
        api.create_network(net["name"], driver="bridge", internal=bool(net.get("internal")),
                           ipam=ipam, check_duplicate=True,
                           labels={lab["label"]: lab["value"] for lab in net.get("labels") or []})
    for vol in objects["volumes"]:
        api.create_volume(name=vol["name"], labels={lab["label"]: lab["value"] for lab in vol.get("labels") or []})
    for c in objects["containers"]:
        nets = c.get("networksAdvanced") or []
        host_config = api.create_host_config(
            init=True, restart_policy={"Name": c.get("restart", "no")},
            port_bindings={f"{p['internal']}/tcp": (p.get("ip", "127.0.0.1"), p["external"])
                           for p in c.get("ports") or []} or None,
            binds={v["volumeName"]: {"bind": v["containerPath"], "mode": "rw"}
                   for v in c.get("volumes") or []} or None,
            dns_opt=c.get("dnsOpts"), network_mode=nets[0]["name"])
        created = api.create_container(
            image_ids.get(c["image"], c["image"]), name=c["name"], hostname=c.get("hostname"),
            environment=c.get("envs"), labels={lab["label"]: lab["value"] for lab in c.get("labels") or []},
            ports=[p["internal"] for p in c.get("ports") or []] or None, host_config=host_config,
            networking_config=api.create_networking_config(
                {nets[0]["name"]: api.create_endpoint_config(aliases=nets[0].get("aliases"))}))
        for net in nets[1:]:
            api.connect_container_to_network(created["Id"], net["name"], aliases=net.get("aliases"))
        api.start(created["Id"])
    return time.monotonic() - start


def bare_cleanup(client: docker.DockerClient, objects: dict[str, list[dict]]) -> float:
    api = client.api
    start = time.monotonic()
    for c in objects["containers"]:
        api.remove_container(c["name"], force=True, v=True)
    for net in objects["networks"]:
        api.remove_network(net["name"])
    for vol in objects["volumes"]:
        api.remove_volume(vol["name"], force=True)
    return time.monotonic() - start


def print_against_baseline(now: dict[str, object], before: dict[str, object]) -> None:
    """This run against an earlier one (both measured on the same, possibly busy, machine)."""
    for key, what in (("cold_up_seconds", "cold up"), ("noop_up_seconds", "no-op up")):
        b, n = float(before[key]), float(now[key])  # type: ignore[arg-type]
        print(f"{what}: {n} s now vs {b} s baseline, ratio now/baseline {n / b:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep-project", type=Path, help="Build the project here and keep it.")
    ap.add_argument("--baseline", type=Path,
                    help="The JSON figures of an earlier run (e.g. before a change): print the ratios.")
    args = ap.parse_args()

    client = docker.from_env(timeout=300)
    for kind in ("app", "web", "db"):
        try:
            client.api.inspect_image(f"replicator/{kind}:latest")
        except docker.errors.ImageNotFound:
            raise SystemExit("images missing: run `replicator image build` first") from None
    edition = "bench" + secrets.token_hex(2)
    base = args.keep_project or Path(tempfile.mkdtemp(prefix="replicator-bench-"))
    root = make_project(base / edition, edition, client)
    runner = StackRunner(root, root / ".replicator")
    stacks = [f"{edition}-{s}" for s in SITES]
    figures: dict[str, object] = {"edition": edition, "project": str(root)}
    try:
        cold, results = timed_edition(runner, stacks, Mode.UP)
        figures["cold_up_seconds"] = round(cold, 2)
        figures["cold_up_counts"] = {r.stack: r.counts for r in results}
        figures["security"] = security_figures(client, edition)
        noop, results = timed_edition(runner, stacks, Mode.UP)
        figures["noop_up_seconds"] = round(noop, 2)
        figures["noop_up_changes"] = sum(r.changes for r in results)
        objects = captured_objects(runner, stacks)
        image_ids = {}
        destroy, _ = timed_edition(runner, stacks, Mode.DESTROY)
        figures["destroy_seconds"] = round(destroy, 2)
        figures["objects"] = {k: len(v) for k, v in objects.items()}
        bare = bare_loop(client, objects, image_ids)
        figures["bare_create_seconds"] = round(bare, 2)
        figures["bare_remove_seconds"] = round(bare_cleanup(client, objects), 2)
        figures["ratio_cold_up_to_bare"] = round(cold / bare, 2)
        figures["ratio_destroy_to_bare_remove"] = round(destroy / figures["bare_remove_seconds"], 2)
    finally:
        label = {"label": f"replicator.edition={edition}"}
        for c in client.api.containers(all=True, filters=label):
            client.api.remove_container(c["Id"], force=True, v=True)
        for n in client.api.networks(filters=label):
            client.api.remove_network(n["Id"])
        for v in (client.api.volumes(filters=label).get("Volumes") or []):
            client.api.remove_volume(v["Name"], force=True)
        if not args.keep_project:
            shutil.rmtree(base, ignore_errors=True)

    print(json.dumps(figures, indent=2))
    print(f"\ncold up of {len(stacks)} stacks: {figures['cold_up_seconds']} s "
          f"(bare docker-py loop: {figures['bare_create_seconds']} s, ratio "
          f"{figures['ratio_cold_up_to_bare']}; target <= 1.5)")
    print(f"no-op up: {figures['noop_up_seconds']} s, {figures['noop_up_changes']} changes "
          "(target 0 changes in <= 5 s)")
    print(f"destroy: {figures['destroy_seconds']} s (bare removal {figures['bare_remove_seconds']} s)")
    if args.baseline:
        print_against_baseline(figures, json.loads(args.baseline.read_text()))
    sec = figures["security"]
    print(f"{sec['containers']} containers: {sec['ports_on_non_loopback']} ports on a non-loopback "
          f"address, {sec['privileged_containers']} privileged (targets 0 and 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
