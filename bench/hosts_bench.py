#!/usr/bin/env python3
"""Benchmark: the edition on 3 simulated hosts (Docker Swarm) against 1 engine (prints figures).

    .venv/bin/python bench/hosts_bench.py [--duration 20] [--rate 50] [--skip-odf]
                                          [--per-site 2]

For each layout, on a copy of the paris2024 project under a throw-away edition
name (so a running replica is never touched):

1. hosts only: `replicator hosts up` (namespaces, dockerds, image load, swarm);
   3 hosts (one per site), and with --per-site N > 1 also 3N hosts, each site
   spread over N engines (its LAN an overlay);
2. cold `replicator up --edition E --yes`;
3. unless --skip-odf: `replicator configure`, then ODF load from the venue OVRs
   (toc) for --duration s at --rate msg/s in all, and the OVR->WRS latency
   p50/p99 read from WRS (itl): on 3 hosts every message crosses two hosts
   over overlay circuits (OVR on toc -> distributor on itl -> WRS);
4. `replicator down`, then `hosts down`.

Run as root (network namespaces). Figures depend on the machine's load: a
shared machine inflates them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import docker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from configure_bench import Replica, odf_load  # noqa: E402
from engine_bench import make_project  # noqa: E402


def cli(root: Path, *args: str, timeout: float = 3600) -> float:
    """Run `replicator ARGS` on the bench project; exit with its output if it fails."""
    env = dict(os.environ, REPLICATOR_PROJECT=str(root), REPLICATOR_HOME=str(root / ".replicator"))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "replicator", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"replicator {' '.join(args)} exited {proc.returncode}:\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return time.monotonic() - started


def layout(per_site: int, args: argparse.Namespace, client: docker.DockerClient) -> dict[str, Any]:
    """One layout: `per_site` simulated hosts per site, or the main engine alone (0)."""
    hosts = per_site > 0
    edition = "bh" + secrets.token_hex(3)
    root = Path(tempfile.mkdtemp(prefix="hosts-bench-")) / edition
    make_project(root, edition, client)
    for part in ("roles", "playbooks", "collections", "ansible.cfg", "apps"):  # for configure
        (root / part).symlink_to(REPO / part)
    figures: dict[str, Any] = {"edition": edition}
    try:
        if hosts:
            figures["hosts_up_s"] = cli(root, "hosts", "up", "--edition", edition,
                                        "--per-site", str(per_site))
        figures["cold_up_s"] = cli(root, "up", "--edition", edition, "--yes")
        if not args.skip_odf:
            figures["configure_s"] = cli(root, "configure", "--edition", edition)
            os.environ["REPLICATOR_HOME"] = str(root / ".replicator")
            odf = odf_load(Replica(edition, root), args.duration, args.rate)
            figures["odf"] = {"sent": odf["sent"], "wrs": odf["latency"].get("wrs", {})}
    finally:
        cli(root, "down", "--edition", edition, "--yes")
        if hosts:
            cli(root, "hosts", "down", "--edition", edition)
    return figures


def _ms(body: dict, key: str) -> str:
    value = body.get(f"{key}_ms", body.get(key))
    return "?" if value is None else f"{value:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of ODF load")
    parser.add_argument("--rate", type=float, default=50.0, help="messages/s offered in all")
    parser.add_argument("--skip-odf", action="store_true", help="cold up only")
    parser.add_argument("--per-site", type=int, default=1,
                        help="also measure each site spread over this many hosts (> 1)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: simulated hosts need network namespaces")
    client = docker.from_env(timeout=120)
    results = {"1 host": layout(0, args, client), "3 hosts": layout(1, args, client)}
    if args.per_site > 1:
        results[f"{3 * args.per_site} hosts"] = layout(args.per_site, args, client)
    for name, f in results.items():
        line = f"{name:>8}: cold up {f['cold_up_s']:6.1f} s"
        if "hosts_up_s" in f:
            line += f" (after hosts up {f['hosts_up_s']:.1f} s)"
        if "odf" in f:
            wrs = f["odf"]["wrs"]
            line += (f"; ODF OVR->WRS p50 {_ms(wrs, 'p50')} p99 {_ms(wrs, 'p99')} "
                     f"(n={wrs.get('count', '?')}, {f['odf']['sent']} sent)")
        print(line)
    one, three = results["1 host"]["cold_up_s"], results["3 hosts"]["cold_up_s"]
    print(f"   ratio: cold up on 3 hosts / on 1 = {three / one:.2f}")
    if args.per_site > 1:
        spread = results[f"{3 * args.per_site} hosts"]["cold_up_s"]
        print(f"   ratio: cold up on {3 * args.per_site} hosts / on 1 = {spread / one:.2f}")
    print("(figures on a shared machine are inflated by the others' load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
