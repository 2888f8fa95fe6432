"""The report of a real replica: it counts the containers and hosts really running.

A small test project (tests/integration/projects.py) is deployed on the local
Docker engine, its three stacks in order, then reported on through the Python
API and the command line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import docker
import pytest

from replicator.engine import Mode
from replicator.engine.events import RecordingSink
from replicator.report import generate_report
from tests.integration import projects
from tests.integration.report.browser import CHROMIUM, chromium

pytestmark = pytest.mark.integration
SITES_IN_ORDER = ("ctoc", "itl", "toc")  # ctoc owns the inter-site circuits


def up_all(project: projects.TestProject) -> None:
    runner = project.runner()
    for site in SITES_IN_ORDER:
        result = runner.run(project.stack(site), Mode.UP, RecordingSink())
        assert result.succeeded, f"{site}: {result.error}"


def running(client: docker.DockerClient, label: str) -> list:
    """What `docker ps --filter label=<label>` lists."""
    return client.containers.list(filters={"label": label})


def test_report_counts_the_running_containers_and_hosts(
        project_factory: object, docker_client: docker.DockerClient, tmp_path: Path) -> None:
    project: projects.TestProject = project_factory()  # type: ignore[operator]
    up_all(project)
    ours = running(docker_client, f"replicator.edition={project.edition}")
    assert ours, "the deployment runs no container"
    engine_id = docker_client.info()["ID"]

    result = generate_report(project.root, project.workdir, edition=project.edition,
                             output=tmp_path / "edition", workers=4)
    data = result.data
    replica = data["replica"]
    assert replica["containers"]["running"] == len(ours)
    assert sorted(c["name"] for c in replica["containers"]["items"]) == sorted(
        c.name for c in ours)
    assert replica["physical_hosts"] == 1
    assert [h["engine_id"] for h in replica["hosts"]] == [engine_id]
    assert replica["hosts"][0]["stacks"] == [project.stack(s) for s in SITES_IN_ORDER]
    assert replica["containers"]["by_stack"] == {
        project.stack(s): len(running(docker_client, f"replicator.stack={project.stack(s)}"))
        for s in sorted(SITES_IN_ORDER)}
    # Every container was sampled: CPU from two readings, memory above zero.
    assert replica["containers"]["sampled"] == len(ours), data["warnings"]
    assert all(c["memory_bytes"] > 0 for c in replica["containers"]["items"])
    assert replica["memory"]["value"] > 0
    assert 0 <= replica["cpu_utilisation"]["value"] <= 1
    assert data["servers_by_edition"][-1]["physical_servers"] == 1
    # The test topology: 4 central services x 1 server + ovr x 2 venues = 6 modelled servers.
    assert data["footprint"]["production"]["servers"]["value"] == 6
    assert data["footprint"]["replica"]["servers"]["value"] == 1
    assert result.files["html"].is_file() and result.files["markdown"].is_file()

    # One stack: only its containers, on the same one host.
    toc = project.stack("toc")
    stack_result = generate_report(project.root, project.workdir, stack=toc,
                                   output=tmp_path / "toc")
    assert stack_result.data["replica"]["containers"]["running"] == len(
        running(docker_client, f"replicator.stack={toc}"))
    assert stack_result.data["replica"]["physical_hosts"] == 1
    assert stack_result.data["report"]["scope"] == "stack"

    # The command line, with --json and a parameter override.
    proc = project.cli("report", "--edition", project.edition, "--json", "--output",
                       str(tmp_path / "cli"), "--set", "production.pue=1.1", timeout=300)
    assert proc.returncode == 0, proc.stderr
    cli_data = json.loads(proc.stdout)
    assert cli_data["replica"]["containers"]["running"] == len(
        running(docker_client, f"replicator.edition={project.edition}"))
    assert cli_data["replica"]["physical_hosts"] == 1
    assert cli_data["footprint"]["production"]["pue"] == 1.1
    assert (tmp_path / "cli" / "report.html").is_file()
    assert (tmp_path / "cli" / "charts" / "co2e-breakdown.svg").is_file()

    # The real report renders in a browser: its three charts are in the DOM Chromium built.
    if CHROMIUM.exists():
        dom = chromium(tmp_path, "--dump-dom", (tmp_path / "cli" / "report.html").as_uri())
        assert dom.returncode == 0, dom.stderr[-2000:]
        assert len(re.findall(r'<figure id="chart-[a-z0-9-]+" class="chart"><svg', dom.stdout)) == 3
        assert f"<td>{toc}</td>" in dom.stdout  # the containers table lists the toc stack
