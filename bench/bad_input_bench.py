#!/usr/bin/env python3
"""Benchmark: how fast, and in how much memory, bad input is refused.

    .venv/bin/python bench/bad_input_bench.py [--repeat 3] [--only TEXT]

Runs the real CLI (`python -m replicator ...`) in a subprocess on a
temporary copy of the project with one input broken, and prints for each case
the exit code, the median wall time, its CPU time (user + system: what the
refusal costs when others load the machine) and the child's peak RSS (wait4),
against the targets: refused in < 2 s and < 200 MB. The cases: a 50 MB
topology and stack file (refused by size before reading), a topology
just under the size limit whose every added entry is wrong (the slowest refusal the
limit allows), 1000-deep nesting, a YAML bomb, the other commands' inputs (a
50 MB campaign file and `stack import` file, a 50 MB Pulumi.yaml of a `--cwd`
project, a bad `config set` value, which validates the whole edition, a bad
`hosts up` edition, `-H` and environment values), and for scale a whole preview
of the valid paris2024 file (no Docker call is needed for it). `--only TEXT`
runs the cases whose name holds TEXT (a quick check that the bench works).
Figures are inflated when others load the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from replicator.inputs import MAX_FILE_BYTES  # noqa: E402 - after the path is set
TOPOLOGY = Path("stacks/topology/paris2024.yaml")
ITL = Path("stacks/Pulumi.paris2024-itl.yaml")
MB = 1024 * 1024
TARGET_SECONDS, TARGET_MB = 2.0, 200


def pad(file: Path, size: int) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        line = b"# padding, valid YAML all the same\n"
        with (root / file).open("ab") as fh:
            fh.write(line * (size // len(line) + 1))
    return edit


def wrong_entries(root: Path) -> None:
    """Sources up to just under the size limit, each with an unknown key and a bad date."""
    path = root / TOPOLOGY
    text = path.read_text()
    entry = "  bad-{i}: {{title: Bad, publisher: Nobody, date: 'soon', oops: 1}}\n"
    block, i = [], 0
    size = len(text.encode())
    while size < MAX_FILE_BYTES - 200:
        line = entry.format(i=i)
        block.append(line)
        size += len(line)
        i += 1
    path.write_text(text.replace("sources:\n", "sources:\n" + "".join(block), 1))


def deep(root: Path) -> None:
    with (root / TOPOLOGY).open("a") as fh:
        fh.write("deep: " + "[" * 1000 + "]" * 1000 + "\n")


def bomb(root: Path) -> None:
    lines = ["lol: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(9)]
    with (root / TOPOLOGY).open("a") as fh:
        fh.write("\n".join(lines) + "\n")


def cwd_project(root: Path) -> None:
    (root / "p").mkdir()
    (root / "p" / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    pad(Path("p/Pulumi.yaml"), 50 * MB)(root)


PREVIEW = ("preview", "--edition", "paris2024")
# name, argv, edit, environment
CASES: list[tuple[str, tuple[str, ...], Callable[[Path], None] | None, dict[str, str]]] = [
    ("topology file of 50 MB", PREVIEW, pad(TOPOLOGY, 50 * MB), {}),
    ("stack file of 50 MB", ("preview", "paris2024-itl"), pad(ITL, 50 * MB), {}),
    (f"topology of {MAX_FILE_BYTES // 1024} KiB, every entry wrong", PREVIEW, wrong_entries, {}),
    ("nesting 1000 deep", PREVIEW, deep, {}),
    ("YAML bomb (10^9 values)", PREVIEW, bomb, {}),
    ("campaign file of 50 MB", ("campaign", "run", "c.yaml"), pad(Path("c.yaml"), 50 * MB), {}),
    ("stack import file of 50 MB", ("stack", "import", "paris2024-itl", "--file", "d.json"),
     pad(Path("d.json"), 50 * MB), {}),
    ("--cwd project, Pulumi.yaml of 50 MB", ("preview", "--cwd", "p"), cwd_project, {}),
    ("config set, a venue not in the edition",
     ("config", "set", "venues", "[AQC, XYZ]", "--edition", "paris2024"), None, {}),
    ("hosts up, unknown edition", ("hosts", "up", "--edition", "nosuch"), None, {}),
    ("-H garbage", ("engine", "status", "-H", "garbage"), None, {}),
    ("REPLICATOR_DOCKER_TIMEOUT=-5", PREVIEW, None, {"REPLICATOR_DOCKER_TIMEOUT": "-5"}),
    ("valid paris2024 (whole preview, for scale)", PREVIEW, None, {}),
]


def run_once(root: Path, argv: tuple[str, ...],
             extra_env: dict[str, str]) -> tuple[int, float, float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATOR_", "DOCKER_"))}
    env.update(REPLICATOR_PROJECT=str(root), REPLICATOR_HOME=str(root / ".replicator"),
               DOCKER_HOST=f"unix://{root}/nobody.sock", REPLICATOR_DOCKER_TIMEOUT="5")
    env.update(extra_env)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "replicator", *argv], cwd=root,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime  # what the refusal costs, whatever the load
    return proc.returncode, seconds, cpu, usage.ru_maxrss / 1024  # KiB -> MiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="Only the cases whose name holds this text.")
    args = parser.parse_args()
    print(f"{'case':45} {'exit':>4} {'median s':>9} {'CPU s':>6} {'peak RSS MiB':>13}  target < "
          f"{TARGET_SECONDS:g} s, < {TARGET_MB} MB")
    with tempfile.TemporaryDirectory(prefix="bad-input-bench-") as tmp:
        for index, (name, argv, edit, extra_env) in enumerate(CASES):
            if args.only not in name:
                continue
            root = Path(tmp) / str(index)
            root.mkdir()
            shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
            shutil.copytree(REPO / "stacks", root / "stacks")
            (root / "infra").symlink_to(REPO / "infra")
            if edit is not None:
                edit(root)
            runs = [run_once(root, argv, extra_env) for _ in range(args.repeat)]
            codes = {code for code, _, _, _ in runs}
            seconds = statistics.median(s for _, s, _, _ in runs)
            cpu = statistics.median(c for _, _, c, _ in runs)
            rss = max(r for _, _, _, r in runs)
            ok = seconds < TARGET_SECONDS and rss < TARGET_MB
            print(f"{name:45} {','.join(map(str, sorted(codes))):>4} {seconds:9.2f} {cpu:6.2f} "
                  f"{rss:13.0f}"
                  f"  {'ok' if ok else 'OVER'}")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
