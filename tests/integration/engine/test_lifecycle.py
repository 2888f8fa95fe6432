"""The embedded engine against the real Docker engine: the lifecycle of a replica.

Each test builds its own small Games project (see tests/integration/projects.py)
and drives the stacks through the same code paths the CLI uses.
"""

from __future__ import annotations

import json

import docker
import pytest

from replicator.engine import Mode
from replicator.engine.events import RecordingSink
from tests.integration.projects import TestProject

pytestmark = pytest.mark.integration
SITES_IN_ORDER = ("ctoc", "itl", "toc")  # ctoc owns the inter-site circuits


def up_all(project: TestProject, *, expect_ok: bool = True) -> dict[str, object]:
    runner = project.runner()
    results = {}
    for site in SITES_IN_ORDER:
        result = runner.run(project.stack(site), Mode.UP, RecordingSink())
        if expect_ok:
            assert result.succeeded, f"{site}: {result.error}"
        results[site] = result
    return results


def ours(client: docker.DockerClient, project: TestProject, kind: str = "containers") -> list:
    label = {"label": f"replicator.edition={project.edition}"}
    if kind == "containers":
        return client.containers.list(all=True, filters=label)
    if kind == "networks":
        return client.networks.list(filters=label)
    return client.volumes.list(filters=label)


def expected_containers(project: TestProject) -> dict[str, tuple[str, str, str, str]]:
    """container name -> (site, service, tier, suite), from the model."""
    from replicator.topology import load_edition

    topo = load_edition(project.root, project.edition)
    out = {}
    for d in topo.deployed_services(venues=["AQC", "STA"]):
        for tier in d.tiers:
            for i in range(1, tier.instances + 1):
                out[f"{project.edition}-{d.site}-{d.name}-{tier.kind}-{i}"] = (
                    d.site, d.name, tier.kind, d.suite)
    return out


def test_up_runs_every_declared_container_on_its_networks(project: TestProject,
                                                          docker_client: docker.DockerClient) -> None:
    up_all(project)
    expected = expected_containers(project)
    live = {c.name: c for c in ours(docker_client, project)}
    assert set(live) == set(expected)
    for name, (site, service, tier, suite) in expected.items():
        c = live[name]
        assert c.status == "running", name
        labels = c.labels
        assert labels["replicator.edition"] == project.edition
        assert labels["replicator.stack"] == project.stack(site)
        assert (labels["replicator.site"], labels["replicator.service"], labels["replicator.tier"],
                labels["replicator.suite"]) == (site, service, tier, suite)
        assert labels["replicator.instance"] == "1"
        nets = set(c.attrs["NetworkSettings"]["Networks"])
        assert f"{project.edition}-{site}-lan" in nets
        host_config = c.attrs["HostConfig"]
        assert host_config["Privileged"] is False
        assert host_config["Init"] is True
    e = project.edition
    # Cross-site circuits: only the containers serving a declared cross-site link.
    circuit = f"{e}-wan-odf-distributor--ovr"
    for name in (f"{e}-itl-odf-distributor-app-1", f"{e}-toc-ovr-aqc-app-1", f"{e}-toc-ovr-sta-app-1"):
        assert circuit in live[name].attrs["NetworkSettings"]["Networks"], name
    for name in (f"{e}-itl-wrs-app-1", f"{e}-itl-accreditation-db-1", f"{e}-ctoc-monitoring-app-1"):
        assert circuit not in live[name].attrs["NetworkSettings"]["Networks"], name
    wan_nets = {n.name for n in ours(docker_client, project, "networks") if "-wan-" in n.name}
    assert wan_nets == {f"{e}-wan-odf-distributor--ovr", f"{e}-wan-accreditation--monitoring",
                        f"{e}-wan-monitoring--ovr"}
    # The db tier keeps its data in a volume of its own.
    mounts = live[f"{e}-itl-accreditation-db-1"].attrs["Mounts"]
    assert [m["Name"] for m in mounts if m["Type"] == "volume"] == [f"{e}-itl-accreditation-db-1-data"]


def test_second_up_changes_nothing_even_after_export_and_import(
        project: TestProject, docker_client: docker.DockerClient) -> None:
    from replicator.engine.pulumi_state import UntypedDeployment
    from replicator.engine.stack_transfer import export_deployment, import_deployment

    up_all(project)
    before = {c.name: c.id for c in ours(docker_client, project)}
    runner = project.runner()
    exported = {}
    for site in SITES_IN_ORDER:
        stack = project.stack(site)
        exported[site] = export_deployment(runner, stack)
        UntypedDeployment.model_validate(exported[site])
        runner.store(stack).path.unlink()
        import_deployment(runner, stack, json.loads(json.dumps(exported[site])))
        assert export_deployment(runner, stack)["deployment"]["resources"] == \
            exported[site]["deployment"]["resources"], "imported back unchanged"
    again = up_all(project)
    for site, result in again.items():
        assert result.changes == 0, (site, result.counts)
    assert {c.name: c.id for c in ours(docker_client, project)} == before


def test_changed_value_replaces_only_the_affected_containers(
        project: TestProject, docker_client: docker.DockerClient) -> None:
    up_all(project)
    before = {c.name: c.id for c in ours(docker_client, project)}
    topo = project.edit_topology()
    wrs = topo["suites"][1]["services"][1]
    assert wrs["name"] == "wrs"
    wrs["version"] = "2.0.0"
    project.write_topology(topo)
    results = up_all(project)
    after = {c.name: c.id for c in ours(docker_client, project)}
    e = project.edition
    changed = {n for n in before if after.get(n) != before[n]}
    assert changed == {f"{e}-itl-wrs-web-1", f"{e}-itl-wrs-app-1"}
    assert results["itl"].counts.get("replace") == 2
    assert results["ctoc"].changes == 0 and results["toc"].changes == 0
    wrs_app = docker_client.containers.get(f"{e}-itl-wrs-app-1")
    assert wrs_app.labels["replicator.version"] == "2.0.0"


def test_service_removed_from_the_model_is_deleted(project: TestProject,
                                                   docker_client: docker.DockerClient) -> None:
    up_all(project)
    topo = project.edit_topology()
    topo["suites"][1]["services"] = [s for s in topo["suites"][1]["services"] if s["name"] != "wrs"]
    topo["links"] = [link for link in topo["links"] if "wrs" not in link["from"] + link["to"]]
    project.write_topology(topo)
    results = up_all(project)
    names = {c.name for c in ours(docker_client, project)}
    e = project.edition
    assert f"{e}-itl-wrs-app-1" not in names and f"{e}-itl-wrs-web-1" not in names
    assert f"{e}-itl-accreditation-app-1" in names
    assert results["itl"].counts.get("delete", 0) >= 2
    state = project.runner().load_state(project.stack("itl"))
    assert not [r for r in state.resources if "wrs" in r.urn]


def test_container_removed_by_hand_comes_back_after_refresh_and_up(
        project: TestProject, docker_client: docker.DockerClient) -> None:
    up_all(project)
    e = project.edition
    victim = f"{e}-itl-accreditation-app-1"
    stopped = f"{e}-toc-ovr-aqc-app-1"
    docker_client.containers.get(victim).remove(force=True)
    docker_client.containers.get(stopped).stop(timeout=1)
    runner = project.runner()
    refreshed = runner.run(project.stack("itl"), Mode.REFRESH, RecordingSink())
    assert refreshed.succeeded
    gone = [s for s in refreshed.steps if s.name == victim]
    assert gone and gone[0].op.value == "delete"
    runner.run(project.stack("toc"), Mode.REFRESH, RecordingSink())
    results = up_all(project)
    assert docker_client.containers.get(victim).status == "running"
    assert docker_client.containers.get(stopped).status == "running"
    assert results["itl"].counts.get("create") == 1
    assert results["toc"].counts.get("replace") == 1


def test_destroy_leaves_no_object_with_the_project_labels(
        project: TestProject, docker_client: docker.DockerClient) -> None:
    up_all(project)
    assert ours(docker_client, project)
    runner = project.runner()
    for site in reversed(SITES_IN_ORDER):
        result = runner.run(project.stack(site), Mode.DESTROY, RecordingSink())
        assert result.succeeded, result.error
    assert ours(docker_client, project) == []
    assert ours(docker_client, project, "networks") == []
    assert ours(docker_client, project, "volumes") == []
    state = runner.load_state(project.stack("itl"))
    assert [r for r in state.resources if r.custom and r.type.startswith("docker:")] == []


def test_preview_changes_nothing_and_plans_every_resource(
        project: TestProject, docker_client: docker.DockerClient) -> None:
    runner = project.runner()
    result = runner.run(project.stack("ctoc"), Mode.PREVIEW, RecordingSink())
    assert result.succeeded, result.error
    assert result.counts["create"] > 0
    assert ours(docker_client, project) == [] and ours(docker_client, project, "networks") == []
    assert not project.runner().store(project.stack("ctoc")).path.exists()


def test_outputs_carry_containers_networks_and_links(project: TestProject) -> None:
    up_all(project)
    proc = project.cli("outputs", project.stack("itl"), "--json", check=True)
    outputs = json.loads(proc.stdout)
    e = project.edition
    assert outputs["site"] == "itl" and outputs["edition"] == e
    assert f"{e}-itl-accreditation-db-1" in outputs["containers"]
    assert outputs["networks"]["lan"]["subnet"].endswith(".1.0/24")
    cross = [link for link in outputs["links"] if link["crossSite"]]
    assert {link["network"] for link in cross} >= {f"{e}-wan-odf-distributor--ovr"}
    ctoc = json.loads(project.cli("outputs", project.stack("ctoc"), "--json", check=True).stdout)
    assert set(ctoc["wanNetworks"]) == {f"{e}-wan-odf-distributor--ovr",
                                        f"{e}-wan-accreditation--monitoring", f"{e}-wan-monitoring--ovr"}
