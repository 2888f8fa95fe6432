#!/usr/bin/env python3
"""Benchmark of the results chain on loopback: ovr -> odf-distributor -> cis, myinfo,
wrs, rma, each a real `python3 -m replicator_app` process with its own temp data dir.

    python3 apps/bench_chain.py [--seconds 60] [--rate 1000]
    python3 apps/bench_chain.py --knee [--seconds 20]     # rates up to the knee

The OVR generates its venue's realistic traffic at a constant arrival rate,
--rate for --seconds (POST /odf/generate): message i is due at start + i/rate
and carries that due time, each consumer records its commit time, so a sender
that falls behind counts in the latency. Prints what was sent and acknowledged,
how far the sender fell behind schedule, p50/p90/p99 venue-to-consumer latency,
messages lost (acknowledged by the distributor but missing at a consumer) and
the CPU and memory of each process, beside the figures of the hand-written
service this one replaced. --knee raises the rate step by step and prints the
highest one that still met the target (the knee). The bench itself uses the
standard library only; the roles run on the app's libraries (aiohttp,
prometheus-client, tenacity), no PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

APPS = Path(__file__).resolve().parent
CONSUMERS = ("wrs", "rma", "cis", "myinfo")
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The hand-written service (own HTTP, log segments, metrics) at 1,000 msg/s, as
# measured before the move to aiohttp/SQLite: RSS MB, % of one core.
OLD_FIGURES = {"odf-distributor": (90.0, 48.0)}
TARGET_P99_MS = 350.0
# The venues whose OVRs send (Paris 2024 codes and their disciplines). The Games-wide
# load comes from many venues at once; one venue alone has few units (AQC: 36), and the
# versions of one document are sent one after the other, so its concurrency, not the
# chain, would cap the rate. --venues 1 measures that single-venue case.
VENUES = (("AQC", ["DIV", "SWA", "WPO"]), ("LDA", ["SWM"]), ("STA", ["ATH"]),
          ("BCY", ["GAR", "TRI"]), ("BER", ["BKB", "HBL"]), ("CDM", ["FEN", "TKW"]))
KNEE_RATES = (500, 750, 900, 1000, 1250, 1500, 2000, 3000)


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports: all held open until all are chosen (one at
    a time, the kernel may hand the same port out twice, and two roles then collide)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def call(port: int, method: str, path: str, body=None, timeout: float = 10.0,
         headers: dict | None = None) -> tuple[int, dict | str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        conn.request(method, path, data, {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw.decode(errors="replace")
    finally:
        conn.close()


def call_json(port: int, method: str, path: str, body: object = None,
              timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    """`call` for the endpoints that answer a JSON object; anything else is an error here."""
    status, answer = call(port, method, path, body, timeout=timeout)
    if not isinstance(answer, dict):
        raise RuntimeError(f"{method} {path} on port {port} answered {status}, not a JSON "
                           f"object: {str(answer)[:200]}")
    return status, answer


class Chain:
    """The five roles of the chain as local processes (stopped by pid)."""

    def __init__(self, root: Path, python: str = sys.executable, connections: int = 64,
                 synchronous: str = "FULL", linger: float | None = None, venues: int = 1,
                 options: dict[str, Any] | None = None):
        self.root = root
        self.python = python
        self.key = secrets.token_hex(16)
        (root / "odf_api_key").write_text(self.key)
        self.venues = {f"ovr-{code.lower()}": (code, disciplines)
                       for code, disciplines in VENUES[:venues]}
        names = ("odf-distributor", *self.venues, *CONSUMERS)
        self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        self.procs: dict[str, subprocess.Popen] = {}
        self.connections = connections
        self.synchronous = synchronous
        self.linger = linger
        self.options = options or {}

    def config(self, role: str) -> Path:
        options: dict[str, Any] = {"ovr_connections": self.connections,
                                   "sqlite_synchronous": self.synchronous, **self.options}
        cfg: dict[str, Any] = {"edition": "paris2024", "competition_code": "OG2024", "site": "itl",
               "service": role, "role": "ovr" if role in self.venues else role,
               "version": "bench", "listen": {"host": "127.0.0.1", "port": self.ports[role]},
               "data_dir": str(self.root / role), "api_key_file": str(self.root / "odf_api_key"),
               "options": options}
        if role in self.venues:
            venue, disciplines = self.venues[role]
            cfg.update(venue=venue, disciplines=disciplines, peers={"odf-distributor":
                              f"http://127.0.0.1:{self.ports['odf-distributor']}"})
        if role == "odf-distributor":
            cfg["consumers"] = {c: f"http://127.0.0.1:{self.ports[c]}" for c in CONSUMERS}
            if self.linger is not None:
                options["deliver_linger"] = self.linger
        path = self.root / f"{role}.json"
        path.write_text(json.dumps(cfg, indent=1))
        return path

    def start(self, role: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(APPS)}
        with open(self.root / f"{role}.log", "ab") as log:
            self.procs[role] = subprocess.Popen([self.python, "-m", "replicator_app",
                                                 str(self.config(role))], env=env,
                                                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.procs[role].poll() is not None:
                raise RuntimeError(f"{role} exited: see {self.root / (role + '.log')}")
            try:
                if call(self.ports[role], "GET", "/health", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{role} did not become healthy")

    def start_all(self) -> None:
        for role in (*CONSUMERS, "odf-distributor", *self.venues):
            self.start(role)

    def stop(self, role: str, sig=signal.SIGTERM) -> None:
        proc = self.procs.pop(role, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def stop_all(self) -> None:
        for role in list(self.procs):
            self.stop(role)

    def cpu_seconds(self) -> dict[str, float]:
        out = {}
        for role, proc in self.procs.items():
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[role] = (int(fields[11]) + int(fields[12])) / CLK_TCK
            except (OSError, IndexError):
                out[role] = 0.0
        return out

    def rss_mb(self) -> dict[str, float]:
        out = {}
        for role, proc in self.procs.items():
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                kb = int(next(line for line in status.splitlines()
                              if line.startswith("VmRSS:")).split()[1])
                out[role] = round(kb / 1024, 1)
            except (OSError, StopIteration, ValueError):
                out[role] = 0.0
        return out

    def distinct(self) -> dict[str, int]:
        return {c: int(call_json(self.ports[c], "GET", "/odf/stats")[1]["distinct_messages"])
                for c in CONSUMERS}


def generate(chain: Chain, seconds: float, rate: float) -> tuple[int, dict[str, Any]]:
    """Every venue's OVR sends its share of `rate` for `seconds`, all at once; their
    answers summed (the slowest venue's times, the worst venue's lag)."""
    share = rate / len(chain.venues)
    count = int(seconds * share)

    def one(ovr: str) -> dict[str, Any]:
        status, answer = call_json(chain.ports[ovr], "POST", "/odf/generate",
                                   {"count": count, "rate": share}, timeout=seconds * 3 + 120)
        if status != 200:
            raise RuntimeError(f"{ovr}: generate answered {status}: {answer}")
        return answer

    with ThreadPoolExecutor(max_workers=len(chain.venues)) as pool:
        answers = list(pool.map(one, chain.venues))
    total = {"sent": sum(a["sent"] for a in answers), "failed": sum(a["failed"] for a in answers),
             "seconds": max(a["seconds"] for a in answers),
             "send_seconds": max(a["send_seconds"] for a in answers),
             "retries": sum(a["retries"] for a in answers),
             "requests": sum(a.get("requests", 0) for a in answers),
             "behind_schedule_ms": {k: max(a["behind_schedule_ms"][k] for a in answers)
                                    for k in ("p99", "max")}}
    total["rate"] = round(total["sent"] / total["seconds"], 1) if total["seconds"] else 0.0
    return count * len(chain.venues), total


def run(seconds: float, rate: float, python: str, connections: int, synchronous: str,
        keep: bool, linger: float | None = None, venues: int = 1,
        options: dict[str, Any] | None = None) -> dict:
    root = Path(tempfile.mkdtemp(prefix="bench-chain-"))
    chain = Chain(root, python, connections, synchronous, linger, venues, options)
    try:
        chain.start_all()
        before = chain.distinct()
        load_before = os.getloadavg()[0]
        cpu0 = chain.cpu_seconds()
        t0 = time.time()
        count, gen = generate(chain, seconds, rate)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            got = {c: n - before[c] for c, n in chain.distinct().items()}
            if all(n >= gen["sent"] for n in got.values()):
                break
            time.sleep(0.2)
        drained = time.time() - t0
        cpu1 = chain.cpu_seconds()
        rss = chain.rss_mb()
        latency = {}
        for c in CONSUMERS:
            _, body = call_json(chain.ports[c], "GET", f"/odf/latency?since={t0}", timeout=30)
            latency[c] = {k: body.get(k) for k in ("count", "p50_ms", "p90_ms", "p99_ms",
                                                  "max_ms", "mean_ms")}
        _, dstat = call_json(chain.ports["odf-distributor"], "GET", "/odf/status", timeout=30)
        return {
            "requested": {"count": count, "rate": rate, "seconds": seconds,
                          "venues": [code for code, _ in chain.venues.values()]},
            "sent": gen["sent"], "failed": gen["failed"], "seconds": gen["seconds"],
            "send_seconds": gen["send_seconds"], "msgs_per_s": gen["rate"],
            "behind_schedule_ms": gen["behind_schedule_ms"], "retries": gen["retries"],
            "requests": gen["requests"],
            "drained_after_s": round(drained, 2),
            "lost": {c: gen["sent"] - got[c] for c in CONSUMERS},
            "latency_ms": latency,
            "distributor_commits": dstat["log"]["commits"],
            "intake_latency_ms": {k: dstat["intake_latency"].get(k)
                                  for k in ("p50_ms", "p99_ms", "max_ms")},
            "cpu_percent": {r: round((cpu1[r] - cpu0.get(r, 0)) / drained * 100, 1)
                            for r in cpu1},
            "rss_mb": rss, "cores": os.cpu_count(), "data": str(root) if keep else None,
            "load_average_1m": {"before": round(load_before, 2),
                                "after": round(os.getloadavg()[0], 2)},
        }
    finally:
        chain.stop_all()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def met(result: dict) -> tuple[bool, bool]:
    """(the offered load was absorbed, and with p99 venue->WRS within target and 0 lost)."""
    kept_up = result["sent"] == result["requested"]["count"] and not result["failed"]
    p99 = result["latency_ms"]["wrs"]["p99_ms"]
    clean = p99 is not None and p99 <= TARGET_P99_MS and not any(result["lost"].values())
    return kept_up, kept_up and clean


def print_run(result: dict, rate: float, seconds: float) -> None:
    behind = result["behind_schedule_ms"]
    print(f"offered {rate:g} msgs/s for {seconds:g} s from "
          f"{len(result['requested']['venues'])} venue OVR(s) "
          f"({', '.join(result['requested']['venues'])}): sent {result['sent']} of "
          f"{result['requested']['count']} (failed {result['failed']}); last sent at "
          f"{result['send_seconds']} s, last acknowledged at {result['seconds']} s: "
          f"{result['msgs_per_s']} msgs/s acknowledged; sender behind schedule p99 "
          f"{behind['p99']} ms, max {behind['max']} ms; all delivered after "
          f"{result['drained_after_s']} s; retries {result['retries']}; requests to the "
          f"distributor {result['requests']} ("
          f"{result['sent'] / max(1, result['requests']):.1f} messages each)")
    print("  latency is measured from each message's due time (start + i/rate) to the "
          "consumer's commit")
    for c, lat in result["latency_ms"].items():
        print(f"  {c:7s} count {lat['count']}  p50 {lat['p50_ms']} ms  p90 {lat['p90_ms']} ms  "
              f"p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms  lost {result['lost'][c]}")
    print(f"  venue -> distributor (last 10,000): {result['intake_latency_ms']}; "
          f"distributor queue commits {result['distributor_commits']}")
    print_resources(result, rate)
    print(f"  machine: {result['cores']} cores, load average (1 min) "
          f"{result['load_average_1m']['before']} before, {result['load_average_1m']['after']} "
          "after (includes this benchmark's own processes)")


def print_resources(result: dict, rate: float) -> None:
    print(f"  {'process':16s} {'cpu % of a core':>16s} {'RSS MB':>8s}   before (1,000 msg/s)")
    for role, cpu in result["cpu_percent"].items():
        old = OLD_FIGURES.get(role)
        was = f"{old[1]:g} %, {old[0]:g} MB" if old else "-"
        print(f"  {role:16s} {cpu:>16} {result['rss_mb'][role]:>8}   {was}")
    if rate != 1000:
        print("  (the before figures are at 1,000 msg/s; this run offered "
              f"{rate:g} msg/s)")


def knee(args: argparse.Namespace) -> int:
    """Raise the rate until the target is missed; the last rate that met it is the knee."""
    rows, best = [], 0.0
    for rate in KNEE_RATES:
        result = run(args.seconds, rate, args.python, args.connections, args.synchronous,
                     False, args.linger, args.venues, options(args))
        absorbed, ok = met(result)
        wrs = result["latency_ms"]["wrs"]
        rows.append((rate, result["msgs_per_s"], wrs["p50_ms"], wrs["p99_ms"],
                     sum(result["lost"].values()), absorbed, ok,
                     result["cpu_percent"].get("odf-distributor"),
                     result["rss_mb"].get("odf-distributor")))
        print(f"  {rate:>6g} msg/s offered: {result['msgs_per_s']} acknowledged, p99 "
              f"venue->WRS {wrs['p99_ms']} ms, lost {rows[-1][4]}, distributor cpu "
              f"{rows[-1][7]} %, {'met' if ok else 'NOT met'}", flush=True)
        if not ok:
            break
        best = rate
    print(f"knee: {best:g} msg/s is the highest offered rate that met p99 venue->WRS <= "
          f"{TARGET_P99_MS:g} ms with 0 lost ({args.seconds:g} s per step; the next step "
          "missed it)" if best else "knee: not even the first step met the target")
    return 0 if best >= 1000 else 1


def options(args: argparse.Namespace) -> dict[str, Any]:
    """--option NAME=VALUE pairs (VALUE as JSON when it parses, else a string)."""
    out: dict[str, Any] = {}
    for pair in args.option:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--option wants NAME=VALUE, got {pair!r}")
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that runs the roles (default: this one)")
    parser.add_argument("--connections", type=int, default=64,
                        help="each OVR's concurrent connections to the distributor")
    parser.add_argument("--venues", type=int, default=4, choices=range(1, len(VENUES) + 1),
                        metavar=f"1..{len(VENUES)}",
                        help="venue OVRs sending at once, the rate shared among them "
                             "(default 4: " + ", ".join(c for c, _ in VENUES[:4]) + ")")
    parser.add_argument("--synchronous", default="FULL", choices=("FULL", "NORMAL"))
    parser.add_argument("--linger", type=float, default=None,
                        help="distributor deliver_linger, seconds (default: the role's)")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="an app option for every role (docs/app-contract.md), e.g. "
                             "ovr_batch=1 (one message per request); VALUE is read as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and logs")
    parser.add_argument("--knee", action="store_true",
                        help=f"step the rate through {', '.join(map(str, KNEE_RATES))} msg/s "
                             "until the target is missed (--seconds per step)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.knee:
        return knee(args)
    result = run(args.seconds, args.rate, args.python, args.connections, args.synchronous,
                 args.keep, args.linger, args.venues, options(args))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_run(result, args.rate, args.seconds)
    # Constant arrival rate (as k6's executor of that name): the load was sustained when
    # every due message went out and was acknowledged; lateness is in the latency.
    kept_up, ok = met(result)
    target = ok and args.rate >= 1000 and args.seconds >= 60
    print(f"offered load {'absorbed' if kept_up else 'NOT absorbed'}; "
          f"target (>= 1000 msgs/s for 60 s, p99 venue->WRS <= 350 ms, 0 lost) "
          f"{'met' if target else 'NOT met'}")
    return 0 if target else 1


if __name__ == "__main__":
    sys.exit(main())
