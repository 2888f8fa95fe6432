"""The program on several engines: overlay circuits across sites, a site spread over engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from infra_mocks import (
    CONTAINER,
    NETWORK,
    PROJECT_ROOT,
    PROVIDER,
    REMOTE_IMAGE,
    VOLUME,
    Graph,
    Registration,
    run_program,
    wan_outputs,
)

from replicator.naming import place

EDITION = "paris2024"
OWNER = f"{EDITION}-ctoc"


def _override(home: Path, hosts: dict[str, str | list[str]], encrypted: bool) -> None:
    """The override `hosts up` writes: a site's engine, or its list of engines."""
    path = home / "hosts" / EDITION / "override.json"
    path.parent.mkdir(parents=True)
    stacks: dict[str, dict[str, object]] = {}
    for site, host in hosts.items():
        entry: dict[str, object] = {"wanEncrypted": encrypted}
        if isinstance(host, list):
            entry.update(dockerHost=host[0], dockerHosts=host)
        else:
            entry["dockerHost"] = host
        stacks[f"{EDITION}-{site}"] = entry
    path.write_text(json.dumps({"edition": EDITION, "stacks": stacks}))


def _circuits(graph) -> dict[str, dict]:
    return {n: i for n, i in graph.by_name(NETWORK).items() if f"{EDITION}-wan-" in n}


@pytest.mark.parametrize("encrypted", [True, False])
def test_circuits_are_attachable_internal_overlays_across_engines(tmp_path: Path,
                                                                  encrypted: bool) -> None:
    hosts = {s: f"unix:///run/rh/{EDITION}-{s}.sock" for s in ("ctoc", "itl", "toc")}
    _override(tmp_path, hosts, encrypted)
    graph = run_program(OWNER, home=tmp_path)
    circuits = _circuits(graph)
    assert circuits
    for name, inputs in circuits.items():
        assert (inputs["driver"], inputs["attachable"], inputs["internal"]) == (
            "overlay", True, True), name
        assert ("encrypted" in (inputs.get("options") or {})) is encrypted, name
        assert any(lab["label"] == "replicator.circuit" for lab in inputs["labels"])
    # The site's own networks stay local bridges on the site's engine.
    assert graph.by_name(NETWORK)[f"{EDITION}-ctoc-lan"]["driver"] == "bridge"
    assert {r.inputs.get("host") for r in graph.of_type(PROVIDER)} == {hosts["ctoc"]}


def test_on_one_engine_the_circuits_stay_bridges_with_unchanged_inputs(tmp_path: Path) -> None:
    graph = run_program(OWNER, home=tmp_path)  # no override: every stack on its file's engine
    for name, inputs in _circuits(graph).items():
        assert inputs["driver"] == "bridge", name
        assert "attachable" not in inputs and "options" not in inputs, name


def test_the_checkout_override_is_not_read_by_default() -> None:
    assert (PROJECT_ROOT / "Pulumi.yaml").is_file()  # run_program's default home is empty


# ---------------------------------------------------------------------------- a site on 2 engines

ITL_ENGINES = [f"unix:///run/rh/{EDITION}-itl{n}.sock" for n in (1, 2)]


def _spread_itl(home: Path) -> Graph:
    _override(home, {"ctoc": f"unix:///run/rh/{EDITION}-ctoc.sock", "itl": ITL_ENGINES,
                     "toc": f"unix:///run/rh/{EDITION}-toc.sock"}, encrypted=False)
    return run_program(f"{EDITION}-itl", home=home, wan_networks=wan_outputs(EDITION))


def _engine_of(graph: Graph, reg: Registration) -> str:
    """The host of the provider a resource was registered with."""
    hosts = {r.name: r.inputs["host"] for r in graph.of_type(PROVIDER)}
    assert reg.provider, reg.name
    return hosts[reg.provider.split("::")[3]]


def test_a_site_on_two_engines_places_each_container_by_its_name(tmp_path: Path) -> None:
    graph = _spread_itl(tmp_path)
    assert sorted(r.inputs["host"] for r in graph.of_type(PROVIDER)) == sorted(ITL_ENGINES)
    containers = graph.of_type(CONTAINER)
    placed = {c.name: _engine_of(graph, c) for c in containers}
    assert placed == {c.name: place(c.name, ITL_ENGINES) for c in containers}
    assert set(placed.values()) == set(ITL_ENGINES)  # both engines run some
    # A db's volume lives on the engine of its container.
    for volume in graph.of_type(VOLUME):
        assert _engine_of(graph, volume) == placed[volume.name.removesuffix("-data")], volume.name


def test_a_spread_site_lan_is_an_overlay_on_its_first_engine(tmp_path: Path) -> None:
    graph = _spread_itl(tmp_path)
    [lan] = [r for r in graph.of_type(NETWORK) if r.inputs["name"] == f"{EDITION}-itl-lan"]
    assert (lan.inputs["driver"], lan.inputs["attachable"], lan.inputs["internal"]) == (
        "overlay", True, True)
    assert _engine_of(graph, lan) == ITL_ENGINES[0]


def test_a_spread_site_has_its_images_on_every_engine_and_edges_where_ports_publish(
        tmp_path: Path) -> None:
    graph = _spread_itl(tmp_path)
    images: dict[str, set[str]] = {}
    for image in graph.of_type(REMOTE_IMAGE):
        images.setdefault(_engine_of(graph, image), set()).add(image.inputs["name"])
    assert set(images) == set(ITL_ENGINES) and images[ITL_ENGINES[0]] == images[ITL_ENGINES[1]]
    edges = {_engine_of(graph, r) for r in graph.of_type(NETWORK)
             if r.inputs["name"] == f"{EDITION}-itl-edge"}
    publishers = {c.name: _engine_of(graph, c) for c in graph.of_type(CONTAINER)
                  if c.inputs.get("ports")}
    assert publishers and edges == set(publishers.values())
    for c in graph.of_type(CONTAINER):
        on_edge = f"{EDITION}-itl-edge" in [n["name"] for n in c.inputs["networksAdvanced"]]
        assert on_edge == (c.name in publishers), c.name


def test_a_spread_site_exports_each_container_engine(tmp_path: Path) -> None:
    from replicator.outputs import StackOutputs

    graph = _spread_itl(tmp_path)
    outputs = StackOutputs.read(f"{EDITION}-itl", graph.exports)
    assert outputs.engines == ITL_ENGINES
    assert {c: outputs.engine_of(c) for c in outputs.containers} == {
        c.name: _engine_of(graph, c) for c in graph.of_type(CONTAINER)}
