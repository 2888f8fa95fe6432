"""The CLI on a real engine: a whole edition at once, and the errors a user meets."""

from __future__ import annotations

import docker
import pytest
from ruamel.yaml import YAML

from tests.integration.projects import TestProject

pytestmark = pytest.mark.integration


def _edit_stack(project: TestProject, site: str, **changes: object) -> None:
    path = project.root / "stacks" / f"Pulumi.{project.stack(site)}.yaml"
    yaml = YAML(typ="safe")
    data = yaml.load(path.read_text())
    data["config"].update({f"replicator:{k}": v for k, v in changes.items()})
    with path.open("w") as fh:
        yaml.dump(data, fh)


def _labelled(client: docker.DockerClient, project: TestProject) -> int:
    label = {"label": f"replicator.edition={project.edition}"}
    return len(client.api.containers(all=True, filters=label)) + len(client.api.networks(filters=label))


def test_edition_up_then_down_through_the_cli(project: TestProject,
                                              docker_client: docker.DockerClient) -> None:
    up = project.cli("up", "--edition", project.edition, "--yes", check=True)
    assert "Updating (" in up.stdout and "created" in up.stdout
    status = project.cli("status", "--edition", project.edition, "--json", check=True)
    assert '"state": "running"' in status.stdout and '"missing"' not in status.stdout
    noop = project.cli("up", "--edition", project.edition, "--yes", "--json", check=True)
    assert '"changes": 0' in noop.stdout and '"changes": 1' not in noop.stdout
    down = project.cli("down", "--edition", project.edition, "--yes", check=True)
    assert "deleted" in down.stdout
    assert _labelled(docker_client, project) == 0


def test_missing_image_is_a_clear_error_not_a_pull(project: TestProject,
                                                   docker_client: docker.DockerClient) -> None:
    _edit_stack(project, "ctoc", imageTag="no-such-tag")
    proc = project.cli("up", project.stack("ctoc"), "--yes")
    assert proc.returncode == 1
    text = proc.stdout + proc.stderr
    assert "image replicator/app:no-such-tag is not on the Docker engine" in text
    assert "replicator image build" in text
    label = {"label": f"replicator.edition={project.edition}"}
    assert docker_client.api.containers(all=True, filters=label) == []


def test_unreachable_docker_host_is_named_in_the_error(project: TestProject) -> None:
    _edit_stack(project, "ctoc", dockerHost="unix:///tmp/replicator-no-such-engine.sock")
    proc = project.cli("up", project.stack("ctoc"), "--yes")
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "unix:///tmp/replicator-no-such-engine.sock" in text


def test_wrong_stack_name_lists_the_stacks(project: TestProject) -> None:
    proc = project.cli("up", "nosuch-stack", "--yes")
    assert proc.returncode == 2
    assert "no stack named 'nosuch-stack'" in proc.stderr
    assert project.stack("itl") in proc.stderr


def test_malformed_topology_stops_before_docker(project: TestProject,
                                                docker_client: docker.DockerClient) -> None:
    topo = project.edit_topology()
    topo["links"].append({"from": "ovr/app", "to": "nowhere/app", "port": 8080,
                          "protocol": "http", "purpose": "dangling"})
    project.write_topology(topo)
    proc = project.cli("up", "--edition", project.edition, "--yes")
    assert proc.returncode == 2
    assert f"{project.edition}.yaml" in proc.stderr and "nowhere" in proc.stderr
    assert "line" in proc.stderr or ":" in proc.stderr
    assert _labelled(docker_client, project) == 0
    state_dir = project.runner().store(project.stack("itl")).dir
    assert not state_dir.exists() or not any(state_dir.glob("*.json"))
