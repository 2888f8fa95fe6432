#!/usr/bin/env python3
"""Benchmark of configuration management at two scales, and of the ODF chain.

    flock /tmp/replicator-paris2024.lock .venv/bin/python bench/configure_bench.py \
        [--edition paris2024] [--scales default,all] [--odf] [--duration 60] [--rate 1000]

For each scale (`default`: the venues of the checkout's stack files; `all`:
`replicator:venues: all`), in a throw-away copy of the project (its own state
and secrets; the same edition name, so the edition's containers must not be
running and the paris2024 lock must be held), with the images cached:

1. `replicator replicate --edition E --yes` end to end (build, cold up,
   configure pass 1, the idempotence pass, verify, report): wall time, and
   each step's figures read from its output;
2. a no-op `replicator up --edition E --yes`;
3. with --odf (first scale only): the ODF chain under load (below);
4. `replicator down --edition E --yes`.

It prints, per scale, the ratios of the issue: configure pass 1 / cold up
(target <= 3), idempotence pass / no-op up (target <= 5), replicate end to end
(targets: <= 2 min with the default venues, <= 4 min with all 43), and the
changed count of the idempotence pass (must be 0). On a machine shared with
other work the figures are inflated: the load average is printed with them.

The ODF chain (--odf): the venue OVRs share --rate and all run
`POST /odf/generate` (a constant arrival rate for --duration) at once; then
the fan-out is drained and the figures read: messages acknowledged and per
second over the OVRs' own window, how far the senders fell behind schedule,
p50/p99 OVR->WRS and OVR->RMA latency (from each message's due time to the
consumer's commit), messages lost, and the CPU and memory of each chain
process. Traffic stays inside the project's
containers (docker exec), as the platform rules require.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# What a scale's project links from the checkout (its stacks are copied, to edit them).
LINKED = ("Pulumi.yaml", "infra", "roles", "collections", "playbooks", "ansible.cfg", "apps",
          "verify")
TARGETS = {"configure_over_cold_up": 3.0, "idempotence_over_noop_up": 5.0}
REPLICATE_TARGET = {"default": 120.0, "all": 240.0}
PASS_RE = re.compile(r"Pass (\d)[^:]*: (\d+) hosts in ([\d.]+) s: ok=(\d+) changed=(\d+)")
VERIFY_RE = re.compile(r"verification (PASSED|FAILED)[^\n]*?(\d+) passed, (\d+) failed[^\n]*coverage (\d+%)")
COVERAGE_RE = re.compile(r"Venue coverage: (\d+)/(\d+) venues")
REPLICATED_RE = re.compile(r"replicated \S+ in (\d+) s \(([^)]*)\)")


class ScaleProject:
    """A copy of the project whose stacks select the venues of one scale."""

    def __init__(self, edition: str, venues: str, workdir: Path) -> None:
        self.edition = edition
        self.root = workdir / f"project-{venues}"
        self.root.mkdir(parents=True)
        for name in LINKED:
            (self.root / name).symlink_to(ROOT / name)
        shutil.copytree(ROOT / "stacks", self.root / "stacks")
        if venues != "default":
            self.cli("config", "set", "replicator:venues", venues, "--edition", edition,
                     check=True)

    def cli(self, *args: str, timeout: float = 3600,
            check: bool = False) -> tuple[subprocess.CompletedProcess[str], float]:
        env = dict(os.environ, REPLICATOR_PROJECT=str(self.root),
                   REPLICATOR_HOME=str(self.root / ".replicator"), NO_COLOR="1", COLUMNS="200")
        env.pop("REPLICATOR_SECRETS_KEY", None)
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "replicator", *args], cwd=self.root,
                              env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
        seconds = time.monotonic() - started
        if check and proc.returncode != 0:
            sys.exit(f"replicator {' '.join(args)} exited {proc.returncode}:\n"
                     f"{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}")
        return proc, seconds


def parse_replicate(text: str) -> dict[str, Any]:
    """Step times and the two configure passes from `replicator replicate`'s output."""
    out: dict[str, Any] = {"passes": {}}
    for number, hosts, seconds, ok, changed in PASS_RE.findall(text):
        out["passes"][int(number)] = {"hosts": int(hosts), "seconds": float(seconds),
                                      "ok": int(ok), "changed": int(changed)}
    verified = VERIFY_RE.search(text)
    if verified:
        out["verify"] = {"result": verified.group(1), "passed": int(verified.group(2)),
                         "failed": int(verified.group(3)), "coverage": verified.group(4)}
    venues = COVERAGE_RE.search(text)
    if venues:
        out["venue_coverage"] = f"{venues.group(1)}/{venues.group(2)}"
    match = REPLICATED_RE.search(text)
    if match:
        out["total"] = float(match.group(1))
        out["steps"] = {name: float(sec) for name, sec in
                        re.findall(r"(\w+) (\d+) s", match.group(2))}
    return out


def run_scale(edition: str, venues: str, workdir: Path, odf: dict[str, Any] | None,
              ) -> dict[str, Any]:
    project = ScaleProject(edition, venues, workdir)
    load = os.getloadavg()[0]
    try:
        proc, seconds = project.cli("replicate", "--edition", edition, "--yes")
        text = proc.stdout + proc.stderr
        if proc.returncode != 0:
            sys.exit(f"replicate ({venues}) exited {proc.returncode}:\n{text[-6000:]}")
        figures = parse_replicate(text)
        noop, noop_seconds = project.cli("up", "--edition", edition, "--yes", check=True)
        if odf is not None:
            odf["figures"] = odf_load(Replica(edition, project.root), odf["duration"],
                                      odf["rate"])
    finally:
        down, _ = project.cli("down", "--edition", edition, "--yes")
        if down.returncode != 0:  # say so: what it left would stand in the next run's way
            print(f"warning: down ({venues}) exited {down.returncode}; objects may be left:\n"
                  f"{(down.stdout + down.stderr)[-2000:]}", file=sys.stderr)
    passes = figures["passes"]
    cold_up = figures["steps"]["up"]
    result = {
        "venues": venues, "replicate_seconds": round(seconds, 1),
        "steps": figures["steps"], "cold_up_seconds": cold_up,
        "verify": figures.get("verify"), "venue_coverage": figures.get("venue_coverage"),
        "noop_up_seconds": round(noop_seconds, 1), "pass1": passes.get(1), "pass2": passes.get(2),
        "configure_over_cold_up": round(passes[1]["seconds"] / cold_up, 2),
        "idempotence_over_noop_up": round(passes[2]["seconds"] / noop_seconds, 2),
        "load_average_before": round(load, 1), "load_average_after": round(os.getloadavg()[0], 1),
    }
    return result


def print_scale(r: dict[str, Any]) -> None:
    p1, p2 = r["pass1"], r["pass2"]
    target = REPLICATE_TARGET.get(r["venues"], REPLICATE_TARGET["all"])

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print(f"venues {r['venues']}: {p1['hosts']} containers (load average "
          f"{r['load_average_before']} -> {r['load_average_after']} on "
          f"{os.cpu_count()} cores)")
    print(f"  replicate end to end      {r['replicate_seconds']:7.1f} s  (target <= "
          f"{target:.0f} s: {verdict(r['replicate_seconds'] <= target)}); steps "
          + ", ".join(f"{k} {v:.0f} s" for k, v in r["steps"].items()))
    print(f"  cold up {r['cold_up_seconds']:.1f} s, configure pass 1 {p1['seconds']:.1f} s "
          f"(changed={p1['changed']}): ratio {r['configure_over_cold_up']:.2f} (target <= 3: "
          f"{verdict(r['configure_over_cold_up'] <= TARGETS['configure_over_cold_up'])})")
    print(f"  no-op up {r['noop_up_seconds']:.1f} s, idempotence pass {p2['seconds']:.1f} s "
          f"(changed={p2['changed']}: {verdict(p2['changed'] == 0)}): ratio "
          f"{r['idempotence_over_noop_up']:.2f} (target <= 5: "
          f"{verdict(r['idempotence_over_noop_up'] <= TARGETS['idempotence_over_noop_up'])})")
    check = r.get("verify") or {}
    print(f"  verify {check.get('result', '?')} ({check.get('passed', '?')} passed, "
          f"{check.get('failed', '?')} failed, coverage {check.get('coverage', '?')}); "
          f"report venue coverage {r.get('venue_coverage') or '?'}", flush=True)


CONSUMERS = ("wrs", "rma", "cis", "myinfo")
# The hand-written service (own HTTP, log segments, metrics) at 1,000 msg/s, as
# measured before the move to aiohttp/SQLite: RSS MB, % of one core.
OLD_FIGURES = {"odf-distributor": (90.0, 48.0)}
# container -> the Docker host of its stack (an edition may span several engines)
ENGINE_OF: dict[str, str] = {}


class Replica:
    """Containers of a deployed edition, from the stack outputs."""

    def __init__(self, edition: str, root: Path = ROOT) -> None:
        from replicator.configure.odf import deployed_outputs
        from replicator.stacks import edition_stacks

        self.services: dict[str, dict] = {}
        for outputs in deployed_outputs(root, edition_stacks(root, edition)):
            self.services.update({n: s.model_dump(by_alias=True)
                                  for n, s in outputs.services.items()})
            ENGINE_OF.update({c: outputs.engine_of(c) for c in outputs.containers})

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


def print_odf(odf: dict[str, Any]) -> None:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", default="paris2024")
    parser.add_argument("--scales", default="default,all",
                        help="comma-separated: default (the stack files' venues), all, or a "
                             "venue list like [AQC,STA]")
    parser.add_argument("--odf", action="store_true", help="also load the ODF chain (first scale)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of ODF load")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="messages/s offered in all, shared by the venue OVRs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, Any] = {"edition": args.edition, "cores": os.cpu_count(), "scales": []}
    odf = {"duration": args.duration, "rate": args.rate} if args.odf else None
    with tempfile.TemporaryDirectory(prefix="configure-bench-") as tmp:
        for number, venues in enumerate(v.strip() for v in args.scales.split(",") if v.strip()):
            result = run_scale(args.edition, venues, Path(tmp), odf if number == 0 else None)
            figures["scales"].append(result)
            print_scale(result)
            if odf is not None and number == 0:
                figures["odf"] = odf["figures"]
                print_odf(odf["figures"])
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
