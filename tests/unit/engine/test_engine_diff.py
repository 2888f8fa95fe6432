"""The pure diff rules of the embedded engine (replicator/engine/diff.py)."""

from __future__ import annotations

import pytest

from replicator.engine.diff import (
    Op,
    Schema,
    apply_ignore_changes,
    changed_keys,
    deletion_order,
    diff_inputs,
    parse_path,
)
from replicator.engine.properties import UNKNOWN, make_secret
from replicator.engine.providers.docker import _SCHEMAS, CONTAINER, NETWORK

CONTAINER_SCHEMA = _SCHEMAS[CONTAINER]
NETWORK_SCHEMA = _SCHEMAS[NETWORK]


def container(**overrides: object) -> dict[str, object]:
    inputs: dict[str, object] = {
        "name": "paris2024-itl-cis-app-1",
        "image": "sha256:aaa",
        "envs": ["REPLICATOR_SITE=itl", "REPLICATOR_TIER=app"],
        "labels": [{"label": "replicator.stack", "value": "paris2024-itl"}],
        "networksAdvanced": [{"name": "paris2024-itl-lan", "aliases": ["cis-app"]}],
        "ports": [{"internal": 8080, "external": 18080, "ip": "127.0.0.1"}],
        "restart": "unless-stopped",
        "memory": 256,
        "init": True,
    }
    inputs.update(overrides)
    return inputs


# ---------------------------------------------------------------------------- create / same


def test_no_old_inputs_is_a_create() -> None:
    result = diff_inputs(None, container(), CONTAINER_SCHEMA)
    assert result.op == Op.CREATE
    assert result.changed == () and result.replace_keys == ()


def test_equal_inputs_are_same() -> None:
    result = diff_inputs(container(), container(), CONTAINER_SCHEMA)
    assert result.op == Op.SAME
    assert result.changed == ()


def test_int_and_float_of_same_value_are_same() -> None:
    # The SDK sends every number as a double; the state may hold ints.
    old = container(ports=[{"internal": 8080, "external": 18080, "ip": "127.0.0.1"}], memory=256)
    new = container(ports=[{"internal": 8080.0, "external": 18080.0, "ip": "127.0.0.1"}],
                    memory=256.0)
    assert diff_inputs(old, new, CONTAINER_SCHEMA).op == Op.SAME


def test_non_integral_float_differs_from_int() -> None:
    result = diff_inputs(container(memory=256), container(memory=256.5), CONTAINER_SCHEMA)
    assert result.op == Op.UPDATE
    assert result.changed == ("memory",)


@pytest.mark.parametrize("empty", [[], {}, None])
def test_missing_and_empty_values_are_same(empty: object) -> None:
    old = container()
    new = container(volumes=empty, dnsOpts=empty)
    assert "volumes" not in old
    assert diff_inputs(old, new, CONTAINER_SCHEMA).op == Op.SAME
    assert diff_inputs(new, old, CONTAINER_SCHEMA).op == Op.SAME


def test_empty_values_nested_in_maps_are_ignored() -> None:
    old = container(healthcheck={"tests": ["CMD", "true"]})
    new = container(healthcheck={"tests": ["CMD", "true"], "startPeriod": None, "x": []})
    assert diff_inputs(old, new, CONTAINER_SCHEMA).op == Op.SAME


def test_a_value_against_an_empty_list_is_a_change() -> None:
    result = diff_inputs(container(volumes=[]), container(volumes=[{"volumeName": "v"}]),
                         CONTAINER_SCHEMA)
    assert result.op == Op.REPLACE
    assert result.replace_keys == ("volumes",)


def test_list_order_matters() -> None:
    old = container(envs=["A=1", "B=2"])
    new = container(envs=["B=2", "A=1"])
    assert diff_inputs(old, new, CONTAINER_SCHEMA).op == Op.REPLACE


# ---------------------------------------------------------------------------- update / replace


@pytest.mark.parametrize("key,value", [("restart", "always"), ("memory", 512)])
def test_updatable_property_change_is_an_update(key: str, value: object) -> None:
    result = diff_inputs(container(), container(**{key: value}), CONTAINER_SCHEMA)
    assert result.op == Op.UPDATE
    assert result.changed == (key,)
    assert result.replace_keys == ()


def test_two_updatable_changes_are_one_update_listing_both() -> None:
    result = diff_inputs(container(), container(restart="always", memory=512), CONTAINER_SCHEMA)
    assert result.op == Op.UPDATE
    assert result.changed == ("memory", "restart")


@pytest.mark.parametrize(
    "key,value",
    [
        ("image", "sha256:bbb"),
        ("envs", ["REPLICATOR_SITE=itl", "REPLICATOR_TIER=db"]),
        ("labels", [{"label": "replicator.stack", "value": "other"}]),
        ("networksAdvanced", [{"name": "paris2024-itl-lan", "aliases": ["cis-web"]}]),
    ],
)
def test_force_new_property_change_is_a_replace(key: str, value: object) -> None:
    result = diff_inputs(container(), container(**{key: value}), CONTAINER_SCHEMA)
    assert result.op == Op.REPLACE
    assert result.replace_keys == (key,)
    assert key in result.changed


def test_replace_lists_only_the_force_new_keys_but_reports_all_changes() -> None:
    result = diff_inputs(container(), container(image="sha256:bbb", restart="always"),
                         CONTAINER_SCHEMA)
    assert result.op == Op.REPLACE
    assert result.replace_keys == ("image",)
    assert set(result.changed) == {"image", "restart"}
    assert result.describe() == "replace: image"


def test_any_network_change_is_a_replace() -> None:
    old = {"name": "n", "driver": "bridge", "internal": True,
           "ipamConfigs": [{"subnet": "10.0.0.0/24"}]}
    new = dict(old, ipamConfigs=[{"subnet": "10.0.1.0/24"}])
    assert diff_inputs(old, new, NETWORK_SCHEMA).op == Op.REPLACE


def test_delete_before_replace_is_carried_on_replace() -> None:
    result = diff_inputs(container(), container(image="x"), CONTAINER_SCHEMA,
                         delete_before_replace=True)
    assert result.op == Op.REPLACE and result.delete_before_replace


def test_replace_on_changes_forces_replace_of_an_updatable_property() -> None:
    result = diff_inputs(container(), container(restart="always"), CONTAINER_SCHEMA,
                         replace_on_changes=["restart"])
    assert result.op == Op.REPLACE
    assert result.replace_keys == ("restart",)


def test_replace_on_changes_does_nothing_when_that_property_is_unchanged() -> None:
    result = diff_inputs(container(), container(memory=512), CONTAINER_SCHEMA,
                         replace_on_changes=["restart"])
    assert result.op == Op.UPDATE


def test_replace_on_changes_with_a_nested_path_uses_its_top_level_property() -> None:
    schema = Schema(updatable=frozenset({"spec"}))
    result = diff_inputs({"spec": {"input": "a"}}, {"spec": {"input": "b"}}, schema,
                         replace_on_changes=["spec.input"])
    assert result.op == Op.REPLACE
    assert result.replace_keys == ("spec",)


def test_replace_on_changes_nested_path_ignores_sibling_changes() -> None:
    schema = Schema(updatable=frozenset({"spec"}))
    result = diff_inputs({"spec": {"input": "a", "other": 1}}, {"spec": {"input": "a", "other": 2}},
                         schema, replace_on_changes=["spec.input"])
    assert result.op == Op.UPDATE


def test_provider_change_replaces_even_without_input_changes() -> None:
    result = diff_inputs(container(), container(), CONTAINER_SCHEMA, provider_changed=True)
    assert result.op == Op.REPLACE
    assert result.replace_keys == ("provider",)
    assert result.reason == "provider changed"


def test_provider_change_with_input_changes_lists_them() -> None:
    result = diff_inputs(container(), container(image="x", restart="always"), CONTAINER_SCHEMA,
                         provider_changed=True, delete_before_replace=True)
    assert result.op == Op.REPLACE
    assert result.replace_keys == ("image",)
    assert result.delete_before_replace


def test_drift_alone_forces_replace_with_its_reason() -> None:
    reason = "container is not running (status exited, exit code 1)"
    result = diff_inputs(container(), container(), CONTAINER_SCHEMA, drift=reason)
    assert result.op == Op.REPLACE
    assert result.reason == reason
    assert reason in result.describe()


def test_drift_turns_an_update_into_a_replace() -> None:
    result = diff_inputs(container(), container(restart="always"), CONTAINER_SCHEMA,
                         drift="container is not running")
    assert result.op == Op.REPLACE
    assert result.changed == ("restart",)


def test_drift_a_provider_repairs_in_place_is_an_update_with_its_reason() -> None:
    reason = "service runs 5 replicas, declared 2"
    result = diff_inputs(container(), container(), CONTAINER_SCHEMA, drift=reason,
                         drift_update=True)
    assert result.op == Op.UPDATE and result.reason == reason
    assert reason in result.describe()
    # A key only a replacement can change still replaces, drift or not.
    assert diff_inputs(container(), container(image="b"), CONTAINER_SCHEMA, drift=reason,
                       drift_update=True).op == Op.REPLACE


def test_unknown_in_new_inputs_counts_as_changed() -> None:
    # Preview: an image id not known yet must not show the container as unchanged.
    result = diff_inputs(container(), container(image=UNKNOWN), CONTAINER_SCHEMA)
    assert result.op == Op.REPLACE
    assert result.replace_keys == ("image",)


def test_nested_unknown_in_an_updatable_property_is_an_update() -> None:
    result = diff_inputs(container(memory=256), container(memory=UNKNOWN), CONTAINER_SCHEMA)
    assert result.op == Op.UPDATE
    nested = container(networksAdvanced=[{"name": UNKNOWN, "aliases": ["cis-app"]}])
    assert diff_inputs(container(), nested, CONTAINER_SCHEMA).op == Op.REPLACE


def test_secret_values_compare_by_their_value() -> None:
    old = container(envs=[make_secret("PW=a")])
    assert diff_inputs(old, container(envs=[make_secret("PW=a")]), CONTAINER_SCHEMA).op == Op.SAME
    assert diff_inputs(old, container(envs=[make_secret("PW=b")]), CONTAINER_SCHEMA).op == Op.REPLACE


def test_engine_only_keys_never_count() -> None:
    schema = Schema(engine_only=frozenset({"hint"}))
    assert changed_keys({"a": 1, "hint": 1}, {"a": 1, "hint": 2}, schema) == []
    assert changed_keys({"a": 1}, {"a": 2}, schema) == ["a"]


# ---------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    "path,tokens",
    [
        ("restart", ["restart"]),
        ("ports[0].external", ["ports", 0, "external"]),
        ("a.b.c", ["a", "b", "c"]),
        ("matrix[1][2]", ["matrix", 1, 2]),
        ('labels["replicator.stack"]', ["labels", "replicator.stack"]),
        ('["a.b"].c', ["a.b", "c"]),
        ("networksAdvanced[10].aliases[0]", ["networksAdvanced", 10, "aliases", 0]),
    ],
)
def test_parse_path(path: str, tokens: list[object]) -> None:
    assert parse_path(path) == tokens


def test_parse_path_gives_ints_for_indices_and_strings_for_quoted_digits() -> None:
    assert parse_path('m["0"]') == ["m", "0"]
    assert isinstance(parse_path("l[3]")[1], int)


# ---------------------------------------------------------------------------- ignoreChanges


def test_ignore_top_level_keeps_the_old_value() -> None:
    old = container(image="sha256:old")
    new = container(image="sha256:new")
    result = apply_ignore_changes(old, new, ["image"])
    assert result["image"] == "sha256:old"
    assert new["image"] == "sha256:new", "the program's inputs must not be modified"
    assert diff_inputs(old, result, CONTAINER_SCHEMA).op == Op.SAME


def test_ignore_top_level_brings_back_a_property_the_program_dropped() -> None:
    old = container(memory=256)
    new = container()
    del new["memory"]
    result = apply_ignore_changes(old, new, ["memory"])
    assert result["memory"] == 256


def test_ignore_nested_list_element_property() -> None:
    old = container(ports=[{"internal": 80, "external": 18080, "ip": "127.0.0.1"},
                           {"internal": 443, "external": 18443, "ip": "127.0.0.1"}])
    new = container(ports=[{"internal": 80, "external": 28080, "ip": "127.0.0.1"},
                           {"internal": 443, "external": 28443, "ip": "127.0.0.1"}])
    result = apply_ignore_changes(old, new, ["ports[0].external"])
    assert result["ports"][0]["external"] == 18080
    assert result["ports"][1]["external"] == 28443, "only the named element is kept"
    assert diff_inputs(old, result, CONTAINER_SCHEMA).op == Op.REPLACE


def test_ignore_nested_key_missing_in_new_element_is_brought_back() -> None:
    old = container(ports=[{"internal": 80, "external": 18080}])
    new = container(ports=[{"internal": 80}])
    result = apply_ignore_changes(old, new, ["ports[0].external"])
    assert result["ports"] == [{"internal": 80, "external": 18080}]


@pytest.mark.parametrize("path", ["memorySwap", "ports[5].external", "healthcheck.retries",
                                  "ports[0].nothing"])
def test_ignore_path_missing_in_old_leaves_the_program_value(path: str) -> None:
    old = container(ports=[{"internal": 80}])
    new = container(ports=[{"internal": 80, "nothing": 1}], memorySwap=512,
                    healthcheck={"retries": 3})
    result = apply_ignore_changes(old, new, [path])
    assert result == new


def test_ignore_quoted_key_with_dots() -> None:
    old = {"options": {"com.docker.network.mtu": "1500", "other": "a"}}
    new = {"options": {"com.docker.network.mtu": "9000", "other": "b"}}
    result = apply_ignore_changes(old, new, ['options["com.docker.network.mtu"]'])
    assert result == {"options": {"com.docker.network.mtu": "1500", "other": "b"}}


def test_ignore_several_paths_and_an_empty_one() -> None:
    old = container(image="a", restart="no")
    new = container(image="b", restart="always", memory=1)
    result = apply_ignore_changes(old, new, ["image", "", "restart"])
    assert (result["image"], result["restart"], result["memory"]) == ("a", "no", 1)


def test_ignore_copies_old_values_deeply() -> None:
    old = container()
    result = apply_ignore_changes(old, container(labels=[]), ["labels"])
    result["labels"].append({"label": "x", "value": "y"})
    assert len(old["labels"]) == 1


# ---------------------------------------------------------------------------- deletion order


def test_deletion_order_dependents_first() -> None:
    deps = {"container": {"network", "volume"}, "network": {"provider"}, "volume": {"provider"}}
    waves = deletion_order(["container", "network", "volume", "provider"], deps)
    assert waves == [["container"], ["network", "volume"], ["provider"]]


def test_deletion_order_groups_independent_resources_in_one_wave() -> None:
    waves = deletion_order(["c", "a", "b"], {})
    assert waves == [["a", "b", "c"]]


def test_deletion_order_ignores_dependencies_not_being_deleted() -> None:
    waves = deletion_order(["container"], {"container": {"network-kept"}})
    assert waves == [["container"]]


def test_deletion_order_chain() -> None:
    deps = {"c": {"b"}, "b": {"a"}}
    assert deletion_order(["a", "b", "c"], deps) == [["c"], ["b"], ["a"]]


def test_deletion_order_survives_a_cycle_and_keeps_every_urn_once() -> None:
    deps = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    waves = deletion_order(["a", "b", "c"], deps)
    assert waves[0] == ["c"], "what depends on the cycle still goes first"
    flat = [u for wave in waves for u in wave]
    assert sorted(flat) == ["a", "b", "c"]
    assert len(flat) == 3
