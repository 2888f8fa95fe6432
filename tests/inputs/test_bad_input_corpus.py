"""Bad input of every kind, through the real CLI: exit 2, no traceback, the place named.

Each case copies the project's own Pulumi.yaml and stacks/ into a temp
project, breaks one thing and runs `python -m replicator ...` in a
subprocess. Every case must exit 2 (bad input), print no traceback, name the
file and line (or the argument or variable) and a fix, and never connect to
Docker: the stack files and DOCKER_HOST point at a spy socket that counts
connections. The cases run concurrently in a module fixture; each
parametrized test then checks its own result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.inputs.fake_docker import FakeDocker

REPO = Path(__file__).resolve().parents[2]
TOPOLOGY = "stacks/topology/paris2024.yaml"
ITL = "stacks/Pulumi.paris2024-itl.yaml"
BIG = 50 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    edit: Callable[[Path], None] | None = None
    # Where the message must point: "<file>:<line of marker>" when `marker` is set,
    # else the literal `where` (an argument, a variable, a file name).
    file: str | None = None
    marker: str | None = None
    where: str | None = None
    says: tuple[str, ...] = ()  # text the message must also hold
    env: dict[str, str] = field(default_factory=dict)


def replace(file: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / file
        text = path.read_text()
        assert text.count(old) >= 1, f"{old!r} not in {file}"
        # surrogateescape: a lone surrogate in `new` becomes that raw (non-UTF-8) byte
        path.write_text(text.replace(old, new, 1), errors="surrogateescape")
    return edit


def append(file: str, text: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        with (root / file).open("a") as fh:
            fh.write(text)
    return edit


def write_bytes(file: str, data: bytes) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / file).write_bytes(data)
    return edit


def big_yaml(file: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        line = b"# padding that makes the file 50 MB, valid YAML all the same\n"
        with (root / file).open("ab") as fh:
            for _ in range(BIG // len(line) + 1):
                fh.write(line)
    return edit


PREVIEW = ("preview", "--edition", "paris2024")
BOMB = ("lol: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"l{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)))

CASES = [
    # -- crashes with a traceback before
    Case("markup-in-stack-name", ("preview", "x[/red]"), where="STACK", says=("x[/red]",)),
    Case("markup-in-edition", ("up", "--edition", "[bold]x[/]", "--yes"), where="--edition",
         says=("[bold]x[/]",)),
    Case("markup-in-service-name", PREVIEW, replace(TOPOLOGY, "- name: cis\n", "- name: cis[/red]\n"),
         file=TOPOLOGY, marker="cis[/red]", says=("cis[/red]", "[a-z]")),
    Case("date-that-does-not-exist", PREVIEW,
         replace(TOPOLOGY, "date: 2023-04-25", "date: 2023-02-30"),
         file=TOPOLOGY, marker="2023-02-30", says=("2023-02-30",)),
    Case("deep-nesting", PREVIEW, append(TOPOLOGY, "deep: " + "[" * 20000 + "]" * 20000 + "\n"),
         file=TOPOLOGY, marker="deep: ", says=("deeper than",)),
    Case("nesting-over-the-limit", PREVIEW, append(TOPOLOGY, "deep: " + "[" * 70 + "]" * 70 + "\n"),
         file=TOPOLOGY, marker="deep: ", says=("deeper than",)),
    Case("binary-pulumi-yaml", PREVIEW, write_bytes("Pulumi.yaml", bytes(range(256)) * 8),
         file="Pulumi.yaml", marker=None, where="Pulumi.yaml:1", says=("binary",)),
    Case("latin1-pulumi-yaml", PREVIEW,
         write_bytes("Pulumi.yaml", b"name: r\xe9plicator\nruntime: python\n"),
         where="Pulumi.yaml:1", says=("UTF-8",)),
    # -- accepted before, exit 0
    Case("instances-true", PREVIEW, replace(TOPOLOGY, "{kind: app, instances: 2,",
                                            "{kind: app, instances: true,"),
         file=TOPOLOGY, marker="instances: true", says=("instances",)),
    Case("link-to-itself", PREVIEW,
         replace(TOPOLOGY, "{from: accreditation/web, to: accreditation/app,",
                 "{from: accreditation/app, to: accreditation/app,"),
         file=TOPOLOGY, marker="{from: accreditation/app, to: accreditation/app",
         says=("itself",)),
    Case("docker-host-without-address", PREVIEW,
         replace(ITL, "dockerHost: unix:///var/run/docker.sock", "dockerHost: tcp://"),
         file=ITL, marker="dockerHost: tcp://", says=("tcp://<host>:<port>",)),
    Case("docker-host-unix-without-path", PREVIEW,
         replace(ITL, "dockerHost: unix:///var/run/docker.sock", "dockerHost: unix://"),
         file=ITL, marker="dockerHost: unix://"),
    # -- refused with an unclear message before
    Case("regex-class-kept-in-message", PREVIEW, replace(TOPOLOGY, "code: AQC,", "code: aqc,"),
         file=TOPOLOGY, marker="code: aqc", says=("[A-Z][A-Z0-9]{2}",)),
    Case("null-key", PREVIEW, replace(TOPOLOGY, "  host_city: Paris\n", "  host_city: Paris\n  ~: x\n"),
         file=TOPOLOGY, marker="  ~: x", says=("null key",)),
    Case("complex-key", PREVIEW, append(TOPOLOGY, "? [a, b]\n: x\n"),
         file=TOPOLOGY, marker="? [a, b]", says=("complex key",)),
    Case("control-character", PREVIEW,
         replace(TOPOLOGY, "title: Commentator Information System",
                 "title: Commentator\x07Information System"),
         file=TOPOLOGY, marker="Commentator\x07", says=("U+0007", "column")),
    Case("dot-dot-edition", ("preview", "--edition", "../Pulumi.paris2024-itl"),
         where="--edition", says=("../Pulumi.paris2024-itl",)),
    Case("dot-dot-graph-edition", ("graph", "--edition", "../../etc/passwd"), where="--edition"),
    Case("dot-dot-stack", ("up", "../topology/paris2024-itl", "--yes"), where="STACK"),
    # -- size and expansion limits
    Case("topology-50-mb", PREVIEW, big_yaml(TOPOLOGY), where=TOPOLOGY, says=("over the limit",)),
    Case("stack-file-50-mb", ("preview", "paris2024-itl"), big_yaml(ITL), where=ITL,
         says=("over the limit",)),
    Case("pulumi-yaml-50-mb", ("status", "--edition", "paris2024"), big_yaml("Pulumi.yaml"),
         where="Pulumi.yaml", says=("over the limit",)),
    Case("report-params-50-mb", ("report", "--edition", "paris2024", "--params", "big.yaml"),
         big_yaml("big.yaml"), where="big.yaml", says=("over the limit",)),
    Case("report-set-deep-value", ("report", "--edition", "paris2024", "--set",
                                   "production.pue=" + "[" * 500),
         where="--set production.pue"),
    Case("yaml-bomb", PREVIEW, append(TOPOLOGY, BOMB), file=TOPOLOGY, marker="l4: ",
         says=("expands to more than",)),
    Case("recursive-alias", PREVIEW, append(TOPOLOGY, "loop: &loop [*loop]\n"),
         file=TOPOLOGY, marker="loop: "),
    # -- other classes
    Case("duplicate-key", PREVIEW, replace(TOPOLOGY, "  host_city: Paris\n",
                                           "  host_city: Paris\n  host_city: Lyon\n"),
         file=TOPOLOGY, marker="host_city: Lyon", says=("duplicate key",)),
    Case("typo-in-key", PREVIEW, replace(TOPOLOGY, "  host_city: Paris\n", "  host_ctiy: Paris\n"),
         file=TOPOLOGY, marker="host_ctiy", says=("host_city",)),
    Case("port-out-of-range", PREVIEW, replace(TOPOLOGY, "{port: 5432, protocol: postgres}",
                                               "{port: 70000, protocol: postgres}"),
         file=TOPOLOGY, marker="port: 70000", says=("65535",)),
    Case("year-as-text", PREVIEW, replace(TOPOLOGY, "  year: 2024\n", "  year: '2024'\n"),
         file=TOPOLOGY, marker="year: '2024'"),
    Case("empty-topology", PREVIEW, write_bytes(TOPOLOGY, b""), where=f"{TOPOLOGY}:1"),
    Case("tab-indentation", PREVIEW, replace(TOPOLOGY, "  host_city: Paris\n", "\thost_city: Paris\n"),
         file=TOPOLOGY, marker="\thost_city", says=("invalid YAML",)),
    Case("stack-file-a-list", ("preview", "paris2024-itl"), write_bytes(ITL, b"- a\n- b\n"),
         where=ITL, says=("config",)),
    Case("stack-file-bad-utf8", ("preview", "paris2024-itl"),
         replace(ITL, "replicator:site: itl", "replicator:site: it\udcfe"),
         file=ITL, marker="replicator:site", says=("UTF-8",)),
    Case("stack-venue-not-in-topology", ("up", "paris2024-itl", "--yes"),
         replace(ITL, "[AQC, STA, BER]", "[AQC, STA, XYZ]"), file=ITL,
         marker="replicator:venues", says=("XYZ",)),
    Case("pulumi-yaml-name-a-list", PREVIEW, replace("Pulumi.yaml", "name: replicator",
                                                     "name: [a, b]"),
         file="Pulumi.yaml", marker="name: [a, b]"),
    Case("unknown-stack", ("preview", "nosuch-itl"), where="Pulumi.nosuch-itl.yaml"),
    Case("edition-too-long", ("preview", "--edition", "a" * 200), where="--edition"),
    Case("parallel-zero", ("preview", "--edition", "paris2024", "--parallel", "0"),
         where="--parallel"),
    Case("env-docker-host", ("status", "--edition", "paris2024"), where="DOCKER_HOST",
         env={"DOCKER_HOST": "tcp://"}),
    Case("env-docker-timeout", ("status", "--edition", "paris2024"),
         where="REPLICATOR_DOCKER_TIMEOUT", env={"REPLICATOR_DOCKER_TIMEOUT": "soon"}),
    Case("env-home-is-a-file", ("status", "--edition", "paris2024"), where="REPLICATOR_HOME",
         env={"REPLICATOR_HOME": "{root}/Pulumi.yaml"}),
    Case("env-secrets-key", ("status", "--edition", "paris2024"), where="REPLICATOR_SECRETS_KEY",
         env={"REPLICATOR_SECRETS_KEY": "not-a-key"}),
]


def _project(root: Path, case: Case, spy: str) -> None:
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(REPO / "stacks", root / "stacks")
    if case.edit is not None:
        case.edit(root)
    for stack in (root / "stacks").glob("Pulumi.*.yaml"):
        text = stack.read_text(errors="surrogateescape")
        stack.write_text(text.replace("unix:///var/run/docker.sock", spy),
                         errors="surrogateescape")


def _run(case: Case, root: Path, spy: str) -> subprocess.CompletedProcess[str]:
    _project(root, case, spy)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATOR_", "DOCKER_"))}
    env.update(REPLICATOR_PROJECT=str(root), REPLICATOR_HOME=str(root / ".replicator"),
               DOCKER_HOST=spy, NO_COLOR="1", COLUMNS="200")
    env.update({k: v.format(root=root) for k, v in case.env.items()})
    return subprocess.run([sys.executable, "-m", "replicator", *case.argv], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    base = tmp_path_factory.mktemp("corpus")
    with FakeDocker(base / "spy.sock") as spy:
        roots = {case.id: base / case.id for case in CASES}
        for root in roots.values():
            root.mkdir()
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {c.id: pool.submit(_run, c, roots[c.id], spy.url) for c in CASES}
            out = {cid: (roots[cid], f.result()) for cid, f in futures.items()}
        assert spy.connections == 0, f"a bad input reached Docker: {spy.requests}"
    return out


def _expected_place(case: Case, root: Path) -> str:
    if case.marker is None:
        assert case.where is not None
        return case.where
    assert case.file is not None
    text = (root / case.file).read_text(errors="surrogateescape")
    line = text[: text.index(case.marker)].count("\n") + 1
    return f"{case.file}:{line}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_clearly(case: Case, results: dict) -> None:
    root, proc = results[case.id]
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, f"exit {proc.returncode}\n{text[-3000:]}"
    assert "Traceback" not in text, text[-3000:]
    place = _expected_place(case, root)
    assert place in text, f"{place!r} not named in:\n{text[-3000:]}"
    assert "fix:" in text or "Usage:" in text, f"no fix in:\n{text[-3000:]}"
    for needle in case.says:
        assert needle in text, f"{needle!r} not in:\n{text[-3000:]}"
    assert len(text.splitlines()) <= 12, f"not a short message:\n{text[-3000:]}"
