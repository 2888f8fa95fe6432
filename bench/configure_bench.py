#!/usr/bin/env python3
"""Benchmark of configuration management and of the ODF chain of a deployed edition.

    .venv/bin/python bench/configure_bench.py [--edition paris2024] [--duration 60]
                                              [--rate 1000] [--skip-configure]

1. `replicator configure --edition E` (first run as it comes: on a fresh
   replica everything changes, on a configured one nothing), then an
   idempotent re-run: wall time and changed counts of each.
2. The ODF chain through the real containers for a bounded time: the venue
   OVRs share --rate and all run `POST /odf/generate` (a constant arrival
   rate for --duration) at once; then the fan-out is drained and the figures
   read: messages acknowledged by the OVRs and per second over the OVRs' own
   window, how far the senders fell behind schedule, p50/p99 OVR->WRS and
   OVR->RMA latency (consumers' /odf/latency, from each message's due time to
   the consumer's commit), messages lost (sent minus the new distinct
   messages each consumer stored), and the CPU and memory of each chain
   process beside the figures of the hand-written service it replaced.

Traffic stays inside the project's containers (docker exec), as the platform
rules require. Prints the figures; `--json` prints them as JSON too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONSUMERS = ("wrs", "rma", "cis", "myinfo")
# The hand-written service (own HTTP, log segments, metrics) at 1,000 msg/s, as
# measured before the move to aiohttp/SQLite: RSS MB, % of one core.
OLD_FIGURES = {"odf-distributor": (90.0, 48.0)}
# container -> the Docker host of its stack (an edition may span several engines)
ENGINE_OF: dict[str, str] = {}


def replicator(*args: str, timeout: float = 3600) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "replicator", *args], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=dict(os.environ))
    return proc, time.monotonic() - started


def configure(edition: str) -> dict[str, Any]:
    proc, seconds = replicator("configure", "--edition", edition, "--json")
    if proc.returncode != 0:
        sys.exit(f"configure failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    doc = json.loads(proc.stdout)
    [only] = doc["passes"]
    return {"seconds": round(seconds, 1), "playbook_seconds": only["seconds"],
            "hosts": len(only["hosts"]), "changed": only["changed"],
            "hosts_changed": sum(1 for s in only["hosts"].values() if s["changed"])}


class Replica:
    """Containers of a deployed edition, from the stack outputs."""

    def __init__(self, edition: str, root: Path = ROOT) -> None:
        from replicator.engine import StackRunner
        from replicator.engine.properties import reveal
        from replicator.paths import work_dir
        from replicator.stacks import edition_stacks

        runner = StackRunner(root, work_dir(root))
        self.services: dict[str, dict] = {}
        for target in edition_stacks(root, edition):
            outputs = reveal(runner.load_state(target.name).outputs or {})
            self.services.update(outputs.get("services") or {})
            ENGINE_OF.update({c: outputs.get("dockerHost") or "" for svc in
                              (outputs.get("services") or {}).values()
                              for tier in svc["tiers"].values() for c in tier["containers"]})

    def container(self, service: str, tier: str = "app") -> str:
        return self.services[service]["tiers"][tier]["containers"][0]

    def ovrs(self) -> list[str]:
        return sorted(n for n, s in self.services.items() if s["service"] == "ovr")


def http(container: str, method: str, url: str, body: bytes | None = None,
         timeout: float = 600) -> tuple[int, Any]:
    script = (
        "import sys,urllib.request,urllib.error\n"
        "m,u=sys.argv[1:3]\n"
        "d=sys.stdin.buffer.read() if m!='GET' else None\n"
        "r=urllib.request.Request(u,data=d,method=m,headers={'Content-Type':'application/json'})\n"
        f"try:\n  x=urllib.request.urlopen(r,timeout={int(timeout)}); s,b=x.status,x.read()\n"
        "except urllib.error.HTTPError as e: s,b=e.code,e.read()\n"
        "sys.stdout.write('%d\\n'%s); sys.stdout.flush(); sys.stdout.buffer.write(b)\n")
    proc = subprocess.run(["docker", *engine_args(container), "exec", "-i", container, "python3", "-c", script, method,
                           url], input=body or b"", capture_output=True, timeout=timeout + 30,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{container}: {proc.stderr.decode()[-500:]}")
    head, _, rest = proc.stdout.partition(b"\n")
    try:
        return int(head), json.loads(rest)
    except ValueError:
        return int(head), rest.decode(errors="replace")


def engine_args(container: str) -> list[str]:
    """`-H <engine>` when the container's stack runs on another Docker engine."""
    return ["-H", ENGINE_OF[container]] if ENGINE_OF.get(container) else []


def app_usage(container: str) -> tuple[float, float]:
    """(RSS MB, CPU seconds so far) of the container's application process."""
    proc = subprocess.run(["docker", *engine_args(container), "exec", container, "ps", "-eo",
                           "rss=,time=,args="],
                          capture_output=True, text=True, timeout=60, check=False)
    for line in proc.stdout.splitlines():
        if "replicator_app" in line:
            rss, cputime = line.split()[:2]
            days, _, clock = cputime.rpartition("-")
            h, m, sec = (int(x) for x in clock.split(":"))
            return round(int(rss) / 1024, 1), (int(days or 0) * 24 + h) * 3600 + m * 60 + sec
    return 0.0, 0.0


def odf_load(replica: Replica, duration: float, total_rate: float) -> dict[str, Any]:
    distributor = replica.container("odf-distributor")
    consumers = {c: replica.container(c) for c in CONSUMERS if c in replica.services}

    def distinct() -> dict[str, int]:
        return {c: int(http(name, "GET", "http://127.0.0.1:8080/odf/stats")[1]
                       ["distinct_messages"]) for c, name in consumers.items()}

    def drained() -> bool:
        status = http(distributor, "GET", "http://127.0.0.1:8080/odf/status")[1]
        return all(c["queue_depth"] == 0 for c in status["consumers"].values())

    before = distinct()
    chain = {"odf-distributor": distributor, **consumers,
             **{o: replica.container(o) for o in replica.ovrs()}}
    cpu_before = {name: app_usage(c)[1] for name, c in chain.items()}
    since = time.time()
    if not replica.ovrs():
        sys.exit("no venue OVR in the deployed stacks: deploy the edition first "
                 "(replicator up --edition E)")
    rate = total_rate / len(replica.ovrs())
    count = max(1, round(rate * duration))
    results: dict[str, Any] = {}

    def run(ovr: str) -> None:
        body = json.dumps({"count": count, "rate": rate}).encode()
        results[ovr] = http(replica.container(ovr), "POST", "http://127.0.0.1:8080/odf/generate",
                            body, timeout=duration * 5 + 120)

    threads = [threading.Thread(target=run, args=(o,)) for o in replica.ovrs()]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stream_seconds = time.monotonic() - started
    deadline = time.monotonic() + 300
    while not drained() and time.monotonic() < deadline:
        time.sleep(1)
    drain_seconds = time.monotonic() - started - stream_seconds
    usage = {name: app_usage(c) for name, c in chain.items()}
    busy = stream_seconds + drain_seconds
    after = distinct()
    sent = sum(r[1]["sent"] for r in results.values() if r[0] == 200)
    failed = sum(r[1]["failed"] for r in results.values() if r[0] == 200)
    latency = {}
    for c in ("wrs", "rma"):
        if c in consumers:
            body = http(consumers[c], "GET", f"http://127.0.0.1:8080/odf/latency?since={since}")[1]
            latency[c] = body
    reports = [r[1] for r in results.values() if r[0] == 200 and isinstance(r[1], dict)]
    # The OVRs' own clocks (one kernel clock for all containers): first due message to
    # last acknowledgement, without docker exec's start-up time.
    window = (max(r["finished_at"] for r in reports) - min(r["started_at"] for r in reports)
              if reports else 0.0)
    return {
        "venues": len(threads), "rate_per_venue": round(rate, 3), "offered_rate": total_rate,
        "duration": duration, "requested": count * len(threads),
        "sent": sent, "failed_at_ovr": failed,
        "messages_per_second": round(sent / window, 1) if window else None,
        "window_seconds": round(window, 2),
        "behind_schedule_ms": max((r["behind_schedule_ms"]["max"] for r in reports),
                                  default=None),
        "stream_seconds": round(stream_seconds, 1), "drain_seconds": round(drain_seconds, 1),
        "latency": latency,
        "lost": {c: sent - (after[c] - before[c]) for c in consumers},
        # ps counts whole CPU seconds: good enough over a 60 s load.
        "processes": {name: {"rss_mb": rss, "cpu_percent": round(
            (cpu - cpu_before[name]) / busy * 100, 1) if busy else None}
            for name, (rss, cpu) in usage.items()},
        "ovr_reports": {o: {k: v for k, v in r[1].items() if k != "document_codes"}
                        if isinstance(r[1], dict) else r[1] for o, r in results.items()},
    }


def print_processes(processes: dict[str, dict], rate: float) -> None:
    print(f"            {'process':16s} {'cpu % of a core':>16s} {'RSS MB':>8s}   "
          "before (1,000 msg/s)")
    for name, p in processes.items():
        old = OLD_FIGURES.get(name)
        was = f"{old[1]:g} %, {old[0]:g} MB" if old else "-"
        print(f"            {name:16s} {p['cpu_percent']!s:>16s} {p['rss_mb']:>8}   {was}")
    if rate != 1000:
        print(f"            (the before figures are at 1,000 msg/s; this run offered {rate:g})")


def _ms(body: dict, key: str) -> str:
    for k in (f"{key}_ms", key):
        if k in body and body[k] is not None:
            value = body[k]
            return f"{value:.1f} ms" if k.endswith("_ms") else f"{value * 1000:.1f} ms"
    return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", default="paris2024")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of ODF load")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="messages/s offered in all, shared by the venue OVRs "
                             "(default: the target, 1000)")
    parser.add_argument("--skip-configure", action="store_true")
    parser.add_argument("--skip-odf", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, Any] = {"edition": args.edition}
    if not args.skip_configure:
        figures["configure"] = configure(args.edition)
        figures["rerun"] = configure(args.edition)
        for name in ("configure", "rerun"):
            f = figures[name]
            print(f"{name:>10}: {f['seconds']:7.1f} s for {f['hosts']} hosts, "
                  f"changed={f['changed']} on {f['hosts_changed']} hosts", flush=True)
    if not args.skip_odf:
        odf = odf_load(Replica(args.edition), args.duration, args.rate)
        figures["odf"] = odf
        print(f"       odf: {odf['venues']} OVRs x {odf['rate_per_venue']:g}/s = "
              f"{odf['offered_rate']:g}/s offered for {odf['duration']:g} s: "
              f"{odf['sent']} of {odf['requested']} acknowledged "
              f"({odf['messages_per_second']}/s over {odf['window_seconds']} s, "
              f"{odf['failed_at_ovr']} failed; senders at most {odf['behind_schedule_ms']} ms "
              f"behind schedule), fan-out drained {odf['drain_seconds']} s later")
        for c, body in odf["latency"].items():
            print(f"            OVR->{c}: p50 {_ms(body, 'p50')}  p99 {_ms(body, 'p99')}  "
                  f"(n={body.get('count', '?')})")
        print(f"            lost: {odf['lost']}")
        print_processes(odf["processes"], odf["offered_rate"])
        print("            (latency from each message's due time to the consumer's commit)")
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
