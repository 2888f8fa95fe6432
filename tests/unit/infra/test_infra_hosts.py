"""The program on several engines: the host override makes the circuits overlay networks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from infra_mocks import NETWORK, PROJECT_ROOT, PROVIDER, run_program

EDITION = "paris2024"
OWNER = f"{EDITION}-ctoc"


def _override(home: Path, hosts: dict[str, str], encrypted: bool) -> None:
    path = home / "hosts" / EDITION / "override.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"edition": EDITION, "stacks": {
        f"{EDITION}-{site}": {"dockerHost": host, "wanEncrypted": encrypted}
        for site, host in hosts.items()}}))


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
