"""The expectation the verifier builds from the model, settings and outputs (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replicator.images.recipes import deployed_image_ref
from tests.unit.verify.verify_cases import make_replica
from verify import expect
from verify.expect import Expectation


@pytest.fixture
def expectation(tmp_path: Path) -> Expectation:
    return Expectation.build(make_replica(tmp_path))


def test_names_match_the_program_naming_contract() -> None:
    from replicator import naming

    assert expect.container_name("e", "itl", "wrs", "app", 2) == naming.container_name(
        "e", "itl", "wrs", "app", 2)
    engines = [f"unix:///run/rh/e-itl{n}.sock" for n in range(1, 4)]
    for n in range(50):
        assert expect.placement(f"e-itl-s{n}-app-1", engines) == naming.place(
            f"e-itl-s{n}-app-1", engines)
    assert expect.lan_network("e", "itl") == naming.lan_network("e", "itl")
    assert expect.edge_network("e", "itl") == naming.edge_network("e", "itl")
    assert expect.circuit_name("e", "ovr", "cis") == naming.circuit_name("e", "ovr", "cis")
    assert expect.alias("ovr-aqc", "app") == naming.alias("ovr-aqc", "app")
    labels = {d["label"]: d["value"] for d in naming.labels(
        edition="e", stack="e-itl", site="itl", suite="ods", service="wrs", tier="app",
        instance=1, version="1.0", venue=None, image="replicator/app:latest",
        model_service="wrs")}
    c = expect.ExpectedContainer(
        name="e-itl-wrs-app-1", edition="e", stack="e-itl", site="itl", suite="ods",
        service="wrs", model_service="wrs", tier="app", instance=1, version="1.0", venue=None,
        image="replicator/app:latest", docker_host="unix:///x", ports=(8080,),
        networks=frozenset())
    assert c.labels == labels


def test_every_declared_container_service_and_link(expectation: Expectation) -> None:
    ed = expectation.replica.edition
    assert {s.subject for s in expectation.services} == {
        "itl/accreditation", "itl/odf-distributor", "itl/wrs", "toc/ovr-aqc", "toc/ovr-sta",
        "ctoc/monitoring"}
    assert len(expectation.containers) == 9
    assert expectation.problems == []
    names = {link.name for link in expectation.links}
    # ovr fans out to each venue copy; 7 model links -> 9 deployed ones
    assert "ovr-aqc/app->odf-distributor/app:8080" in names
    assert "ovr-sta/app->odf-distributor/app:8080" in names
    assert len(names) == 9
    cross = {link.name: link.network for link in expectation.links if link.cross_site}
    assert cross["monitoring/app->ovr-sta/app:8080"] == f"{ed}-wan-monitoring--ovr"
    local = next(link for link in expectation.links if link.name.startswith("wrs/web"))
    assert local.network == f"{ed}-itl-lan" and local.target_alias == "wrs-app"


def test_container_networks_follow_the_links(expectation: Expectation) -> None:
    ed = expectation.replica.edition
    by_name = expectation.all_containers
    ovr = by_name[f"{ed}-toc-ovr-aqc-app-1"]
    assert ovr.networks == {f"{ed}-toc-lan", f"{ed}-wan-monitoring--ovr",
                            f"{ed}-wan-odf-distributor--ovr"}
    assert by_name[f"{ed}-itl-wrs-app-1"].networks == {f"{ed}-itl-lan"}
    assert ovr.labels["replicator.venue"] == "AQC"
    assert ovr.labels["replicator.model-service"] == "ovr"
    assert by_name[f"{ed}-itl-accreditation-db-1"].image == deployed_image_ref("db", "latest")


def test_one_stack_selects_its_services_and_links_touching_it(tmp_path: Path) -> None:
    exp = Expectation.build(make_replica(tmp_path, stacks=("toc",)))
    assert {s.site for s in exp.services} == {"toc"}
    assert all("toc" in (link.source_site, link.target_site) for link in exp.links)
    assert {n.kind for n in exp.networks} == {"lan"}  # the circuits belong to ctoc
    assert len(exp.all_containers) == 9  # other stacks' containers: link ends


def test_isolation_pairs_are_undeclared_cross_site_and_deterministic(
        expectation: Expectation) -> None:
    pairs = expectation.isolation_pairs()
    declared = expectation.declared_pairs
    assert pairs
    for p in pairs:
        assert p.source_site != p.target_site
        assert frozenset({(p.source, p.source_tier), (p.target, p.target_tier)}) not in declared
    names = {p.name for p in pairs}
    assert "itl/wrs/app-x-toc/ovr-aqc/app" in names
    # declared either way: not a pair
    assert not any("odf-distributor/app" in n and "ovr-aqc/app" in n for n in names)
    # each unordered pair once
    keys = [frozenset({(p.source, p.source_tier), (p.target, p.target_tier)}) for p in pairs]
    assert len(keys) == len(set(keys))
    sample = expectation.isolation_pairs(sample=5, seed=7)
    assert len(sample) == 5 and sample == expectation.isolation_pairs(sample=5, seed=7)
    assert {p.name for p in sample} <= names
    assert expectation.isolation_pairs(sample=10_000) == pairs


def test_outputs_out_of_date_are_reported(tmp_path: Path) -> None:
    replica = make_replica(tmp_path)
    stack = replica.stacks[replica.selected[1]]
    stack.outputs["containers"].pop(next(iter(stack.outputs["containers"])))
    exp = Expectation.build(replica)
    assert len(exp.problems) == 1 and "not in outputs" in exp.problems[0]
    replica.stacks[replica.selected[0]].outputs.clear()
    exp = Expectation.build(replica)
    assert any("never deployed" in p for p in exp.problems)


def test_reprs_name_the_thing(expectation: Expectation) -> None:
    assert repr(expectation.containers[0]).startswith("ExpectedContainer('it")
    assert "->" in repr(expectation.links[0])
    assert repr(expectation.isolation_pairs()[0]).startswith("IsolationPair(")
    assert repr(expectation.services[0]).startswith("ExpectedService(")
