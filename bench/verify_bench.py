#!/usr/bin/env python3
"""Benchmark of `replicator verify`: a full verification of an edition, and what each check costs.

    .venv/bin/python bench/verify_bench.py [--edition paris2024] [--level full|structure]
                                           [--workers 1 2] [--repeat 1]

Read-only against the running replica (the checks only read, resolve names,
open TCP connections and, at level full, inject one test ODF message). Prints:

- the cost of one bare ``docker exec`` on this machine (median of 10), the unit
  every testinfra check pays;
- per worker count: wall time of the whole verification (pytest start to
  reports written) against the 60 s target, checks run, coverage;
- per check (test function): count, total and mean time. The network probes
  run in one batch (one exec per source container); their time is carried by
  the first link or isolation check.

The reports go to a temporary directory, never over reports/<edition>/verify.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0


def exec_cost(docker_host: str, container: str, n: int = 10) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(["docker", "-H", docker_host, "exec", container, "true"], check=False,
                       capture_output=True)
        times.append(time.perf_counter() - t)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", default="paris2024")
    parser.add_argument("--level", default="full", choices=("full", "structure"))
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    from replicator.paths import work_dir
    from replicator.stacks import edition_stacks
    from replicator.verification import run_verification
    from verify.expect import Expectation, Replica

    stacks = [s.name for s in edition_stacks(ROOT, args.edition)]
    exp = Expectation.build(Replica.load(ROOT, work_dir(ROOT), stacks))
    print(f"edition {args.edition}: {len(stacks)} stacks, {len(exp.services)} services, "
          f"{len(exp.containers)} containers, {len(exp.links)} links, "
          f"{len(exp.isolation_pairs())} undeclared cross-site pairs")
    first = exp.containers[0]
    costs = exec_cost(first.docker_host, first.name)
    print(f"one `docker exec {first.name} true`: median {1000 * statistics.median(costs):.0f} ms "
          f"(min {1000 * min(costs):.0f}, max {1000 * max(costs):.0f}); load average "
          f"{Path('/proc/loadavg').read_text().split()[0]}")

    last = None
    for workers in args.workers:
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory() as out:
                t = time.perf_counter()
                result = run_verification(ROOT, stacks, Path(out), level=args.level,
                                          workers=workers)
                wall = time.perf_counter() - t
            n = result.counts()
            verdict = "within" if wall <= TARGET_SECONDS else "OVER"
            print(f"\nworkers={workers} run {i + 1}: {wall:.1f} s wall ({verdict} the "
                  f"{TARGET_SECONDS:.0f} s target), {len(result.checks)} checks: {n['passed']} "
                  f"passed, {n['failed'] + n['error']} failed, {n['skipped']} skipped; "
                  f"{result.deselected} deselected; coverage {result.coverage['percent']:.0f}% "
                  f"({result.coverage['services']['covered']}/"
                  f"{result.coverage['services']['declared']} services, "
                  f"{result.coverage['links']['covered']}/{result.coverage['links']['declared']} "
                  f"links)")
            last = result
    if last is None:
        return 0
    print(f"\nper check ({args.level}, workers={args.workers[-1]}, last run):")
    print(f"  {'check':55} {'count':>6} {'total s':>8} {'mean ms':>8}")
    for name, c in last.per_check().items():
        print(f"  {name:55} {c['checks']:6d} {c['seconds']:8.2f} {c['ms_per_check']:8.1f}")
    print("per concept:")
    for name, c in last.per_concept().items():
        print(f"  {name:55} {c['checks']:6d} {c['seconds']:8.2f} {c['ms_per_check']:8.1f}")
    if last.latency:
        print(f"end to end ODF venue -> WRS, RMA, CIS: {last.latency.get('end_to_end_ms')} ms "
              f"(Paris 2024: {last.latency.get('reference_ms')} ms) {last.latency.get('latency_ms')}")
    if last.servers:
        print(f"physical servers: replica {last.servers['replica']} vs production "
              f"{last.servers['production']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
