"""replicator.outputs: the stack outputs as one typed model, with clear errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from replicator.errors import ReplicatorError
from replicator.outputs import StackOutputs

OUTPUTS: dict[str, Any] = {
    "edition": "paris2024", "site": "itl", "stack": "paris2024-itl",
    "dockerHost": "unix:///run/rh/paris2024-itl1.sock",
    "dockerHosts": ["unix:///run/rh/paris2024-itl1.sock", "unix:///run/rh/paris2024-itl2.sock"],
    "networks": {"lan": {"name": "paris2024-itl-lan", "id": "n1", "subnet": "10.241.1.0/24"}},
    "services": {"wrs": {"suite": "ods", "service": "wrs", "version": "1.0", "venue": None,
                         "tiers": {"app": {"ports": [8080], "containers": [
                             "paris2024-itl-wrs-app-1", "paris2024-itl-wrs-app-2"]}}}},
    "containers": {
        "paris2024-itl-wrs-app-1": {"id": "c1", "service": "wrs", "networks": [],
                                    "dockerHost": "unix:///run/rh/paris2024-itl2.sock"},
        "paris2024-itl-wrs-app-2": {"id": "c2", "service": "wrs", "networks": []},
    },
    "endpoints": {}, "links": [], "aNewerKey": 1,
}


def test_each_container_has_its_engine_and_an_older_one_its_stack_s() -> None:
    outputs = StackOutputs.read("paris2024-itl", OUTPUTS)
    assert outputs.engine_of("paris2024-itl-wrs-app-1") == "unix:///run/rh/paris2024-itl2.sock"
    assert outputs.engine_of("paris2024-itl-wrs-app-2") == "unix:///run/rh/paris2024-itl1.sock"
    assert outputs.services["wrs"].tiers["app"].ports == [8080]
    assert outputs.engines == OUTPUTS["dockerHosts"]


@pytest.mark.parametrize("raw", [{}, None, {"edition": "paris2024", "containers": {}}])
def test_an_undeployed_stack_says_to_deploy_it(raw: dict[str, Any] | None) -> None:
    with pytest.raises(ReplicatorError, match="has not been deployed") as info:
        StackOutputs.read("paris2024-itl", raw)
    assert info.value.fix == "run `replicator up paris2024-itl` first"


def test_a_malformed_output_names_the_stack_and_the_key() -> None:
    raw = copy.deepcopy(OUTPUTS)
    raw["services"]["wrs"]["tiers"]["app"]["ports"] = ["http"]
    with pytest.raises(ReplicatorError, match=r"stack paris2024-itl: output "
                                              r"services\.wrs\.tiers\.app\.ports\.0: ") as info:
        StackOutputs.read("paris2024-itl", raw)
    assert info.value.fix and "replicator up paris2024-itl" in info.value.fix
