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
CTOC = "stacks/Pulumi.paris2024-ctoc.yaml"
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
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_bytes(data)
    return edit


def write(file: str, text: str) -> Callable[[Path], None]:
    return write_bytes(file, text.encode())


def both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        for one in edits:
            one(root)
    return edit


def big_yaml(file: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        line = b"# padding that makes the file 50 MB, valid YAML all the same\n"
        with (root / file).open("ab") as fh:
            for _ in range(BIG // len(line) + 1):
                fh.write(line)
    return edit


PREVIEW = ("preview", "--edition", "paris2024")
STATUS = ("status", "--edition", "paris2024")
CAMPAIGN = ("campaign: c\ntitle: t\nedition: paris2024\ncells:\n"
            "  - name: x\n    suite: oms\n    sport: ALL\n    venue: ALL\n"
            "    steps:\n      - {kind: functional, flow: health}\n")
def env_case(cid: str, name: str, value: str, argv: tuple[str, ...] = STATUS) -> Case:
    """A bad value of environment variable `name` ({root}: the case's project)."""
    return Case(cid, argv, where=name, env={name: value})


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
    env_case("env-docker-host", "DOCKER_HOST", "tcp://"),
    env_case("env-docker-timeout", "REPLICATOR_DOCKER_TIMEOUT", "soon"),
    env_case("env-home-is-a-file", "REPLICATOR_HOME", "{root}/Pulumi.yaml"),
    env_case("env-secrets-key", "REPLICATOR_SECRETS_KEY", "not-a-key"),
    # -- command-line options and arguments of the newer commands
    Case("docker-host-option-no-address", ("engine", "status", "-H", "tcp://"),
         where="--docker-host", says=("tcp://<host>:<port>",)),
    Case("docker-host-option-garbage", ("image", "list", "--docker-host", "garbage[/red]"),
         where="--docker-host", says=("garbage[/red]",)),
    Case("hosts-per-site-zero", ("hosts", "up", "--edition", "paris2024", "--per-site", "0"),
         where="--per-site"),
    Case("hosts-per-site-negative", ("hosts", "up", "--edition", "paris2024", "--per-site", "-1"),
         where="--per-site"),
    Case("hosts-per-site-huge", ("hosts", "up", "--edition", "paris2024", "--per-site",
                                 "9" * 30), where="--per-site"),
    Case("hosts-per-site-not-a-number", ("hosts", "up", "--edition", "paris2024",
                                         "--per-site", "two"), where="--per-site"),
    Case("hosts-up-unknown-edition", ("hosts", "up", "--edition", "nosuch"),
         where="stacks/topology/nosuch.yaml", says=("paris2024",)),
    Case("hosts-up-no-edition", ("hosts", "up"), where="--edition"),
    Case("hosts-up-dot-dot-edition", ("hosts", "up", "--edition", "../x"), where="--edition"),
    Case("hosts-down-dot-dot-edition", ("hosts", "down", "--edition", "../../etc"),
         where="--edition"),
    Case("hosts-down-unknown-edition", ("hosts", "down", "--edition", "nosuch"),
         where="--edition", says=("nosuch",)),
    Case("hosts-list-bad-record", ("hosts", "list"),
         write(".replicator/hosts/paris2024/hosts.json", "{not json"),
         where=".replicator/hosts/paris2024/hosts.json"),
    Case("config-unknown-key", ("config", "get", "replicator:nosuch", "--stack", "paris2024-itl"),
         where="KEY", says=("replicator:nosuch", "replicator:venues")),
    Case("config-bad-yaml-value", ("config", "set", "venues", "[AQC, ", "--stack",
                                   "paris2024-itl"), where="VALUE", says=("[AQC, ",)),
    Case("config-bad-value", ("config", "set", "venues", "[AQC, XYZ]", "--edition", "paris2024"),
         file=CTOC, marker="replicator:venues", says=("XYZ",)),
    Case("config-secret-on-plain-key", ("config", "set", "venues", "[AQC]", "--stack",
                                        "paris2024-itl", "--secret"), where="--secret"),
    Case("config-stack-and-edition", ("config", "get", "venues", "--stack", "paris2024-itl",
                                      "--edition", "paris2024"), where="--stack"),
    Case("config-neither-stack-nor-edition", ("config", "rm", "venues"), where="--stack"),
    Case("config-unknown-stack", ("config", "get", "venues", "--stack", "nosuch-itl[/red]"),
         where="--stack", says=("nosuch-itl[/red]",)),
    Case("config-edition-with-cwd", ("config", "get", "k", "--edition", "paris2024",
                                     "--cwd", "stacks"), where="--edition"),
    Case("campaign-missing-file", ("campaign", "run", "campaigns/nosuch.yaml"),
         where="campaigns/nosuch.yaml"),
    Case("campaign-a-directory", ("campaign", "run", "stacks"), where="stacks",
         says=("directory",)),
    Case("campaign-50-mb", ("campaign", "run", "c.yaml"), big_yaml("c.yaml"), where="c.yaml",
         says=("over the limit",)),
    Case("campaign-bad-cell", ("campaign", "run", "c.yaml"),
         write("c.yaml", CAMPAIGN.replace("    steps:\n      - {kind: functional, flow: health}",
                                          "    steps: 3")),
         file="c.yaml", marker="    steps: 3"),
    Case("campaign-bad-step-kind", ("campaign", "run", "c.yaml"),
         write("c.yaml", CAMPAIGN.replace("functional, flow: health", "teleport")),
         file="c.yaml", marker="{kind: teleport}", says=("teleport",)),
    Case("campaign-unknown-venue", ("campaign", "run", "c.yaml"),
         write("c.yaml", CAMPAIGN.replace("venue: ALL", "venue: XYZ")),
         file="c.yaml", marker="venue: XYZ", says=("XYZ",)),
    Case("campaign-negative-scale", ("campaign", "run", "c.yaml", "--scale", "-1"),
         write("c.yaml", CAMPAIGN), where="--scale"),
    Case("campaign-unknown-cell", ("campaign", "run", "c.yaml", "--cell", "nosuch[/red]"),
         write("c.yaml", CAMPAIGN), where="--cell", says=("nosuch[/red]",)),
    Case("campaign-dot-dot-edition", ("campaign", "run", "c.yaml", "--edition", "../x"),
         write("c.yaml", CAMPAIGN), where="--edition"),
    Case("campaign-report-output-a-file", ("campaign", "report", "--output", "Pulumi.yaml"),
         where="--output"),
    Case("campaign-report-negative-target", ("campaign", "report", "--target-hours", "-5"),
         where="--target-hours"),
    Case("cwd-missing", ("preview", "--cwd", "nowhere"), where="--cwd"),
    Case("cwd-without-pulumi-yaml", ("preview", "--cwd", "stacks"), where="--cwd"),
    Case("cwd-nodejs-runtime", ("preview", "--cwd", "p"),
         both(write("p/Pulumi.yaml", "name: p\nruntime: nodejs\n"),
              write("p/Pulumi.dev.yaml", "config: {}\n")),
         file="p/Pulumi.yaml", marker="runtime: nodejs", says=("python",)),
    Case("cwd-bad-secure-value", ("preview", "--cwd", "p", "dev"),
         both(write("p/Pulumi.yaml", "name: p\nruntime: python\n"),
              write("p/__main__.py", "\n"),
              write("p/Pulumi.dev.yaml", "config:\n  p:a: 1\n  p:pw:\n    secure: nonsense\n")),
         file="p/Pulumi.dev.yaml", marker="secure: nonsense"),
    Case("cwd-backend-url-not-file", ("preview", "--cwd", "p"),
         both(write("p/Pulumi.yaml", "name: p\nruntime: python\n"),
              write("p/Pulumi.dev.yaml", "config: {}\n")),
         where="PULUMI_BACKEND_URL", env={"PULUMI_BACKEND_URL": "s3://bucket"}),
    Case("stack-import-missing-file", ("stack", "import", "paris2024-itl", "--file", "no.json"),
         where="no.json"),
    Case("stack-import-garbage", ("stack", "import", "paris2024-itl", "--file", "g.json"),
         write("g.json", '{"version": 3,\n "deployment": nope}\n'), where="g.json:2"),
    Case("stack-import-50-mb", ("stack", "import", "paris2024-itl", "--file", "big.json"),
         big_yaml("big.json"), where="big.json", says=("over the limit",)),
    Case("stack-import-wrong-shape", ("stack", "import", "paris2024-itl", "--file", "w.json"),
         both(write("infra/__main__.py", "\n"), write("w.json", '{"version": 2}\n')),
         where="w.json"),
    Case("stack-import-a-directory", ("stack", "import", "paris2024-itl", "--file", "stacks"),
         where="stacks"),
    Case("stack-export-no-stack", ("stack", "export"), where="STACK"),
    Case("stack-export-dot-dot", ("stack", "export", "../x"), where="STACK"),
    Case("image-build-unknown-name", ("image", "build", "nosuch[/red]"), where="NAMES",
         says=("nosuch[/red]",)),
    Case("verify-unknown-level", ("verify", "--edition", "paris2024", "--level", "most"),
         where="--level"),
    Case("verify-workers-zero", ("verify", "--edition", "paris2024", "--workers", "0"),
         where="--workers"),
    Case("replicate-unknown-skip", ("replicate", "--edition", "paris2024", "--skip", "nap",
                                    "--yes"), where="--skip", says=("nap",)),
    Case("replicate-dot-dot-edition", ("replicate", "--edition", "../x", "--yes"),
         where="--edition"),
    Case("up-unknown-engine", ("up", "--edition", "paris2024", "--engine", "warp", "--yes"),
         where="--engine"),
    Case("odf-send-missing-file", ("odf", "send", "no.xml", "--venue", "AQC", "--edition",
                                   "paris2024"), where="no.xml"),
    Case("odf-get-unknown-consumer", ("odf", "get", "X", "--consumer", "nobody", "--edition",
                                      "paris2024"), where="--consumer"),
    # -- environment variables
    env_case("env-docker-timeout-negative", "REPLICATOR_DOCKER_TIMEOUT", "-5"),
    env_case("env-docker-timeout-nan", "REPLICATOR_DOCKER_TIMEOUT", "nan"),
    env_case("env-project-nowhere", "REPLICATOR_PROJECT", "/nonexistent/project"),
    env_case("env-docker-host-garbage", "DOCKER_HOST", "garbage", PREVIEW),
    env_case("env-profile-program-nowhere", "REPLICATOR_PROFILE_PROGRAM",
             "/nonexistent/dir/profile.out"),
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
