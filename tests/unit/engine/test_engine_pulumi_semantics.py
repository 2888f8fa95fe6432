"""Pulumi's semantics the embedded engine follows: auto-naming, aliases, provider config."""

from __future__ import annotations

import re

from engine_fakes import CONTAINER, NETWORK, PROVIDER, ROOT_URN, Backend, Harness, urn_of

from replicator.engine import urn as urns
from replicator.engine.deployment import Goal, Mode, default_provider_inputs


def unnamed(name: str, image: str = "sha256:img") -> Goal:
    return Goal(type=CONTAINER, name=name, custom=True, inputs={"image": image, "envs": ["A=1"]})


def test_a_resource_without_a_name_gets_the_logical_name_and_a_suffix(harness: Harness,
                                                                      backend: Backend) -> None:
    _, results = harness.run([unnamed("web")])
    name = results["web"].outputs["name"]
    assert re.fullmatch(r"web-[0-9a-f]{7}", name), name
    assert backend.names(CONTAINER) == {name}
    [record] = [r for r in harness.state().resources if r.type == CONTAINER]
    assert record.inputs["name"] == name, "the generated name is kept in the inputs"


def test_the_generated_name_is_stable_across_runs(harness: Harness, backend: Backend) -> None:
    _, first = harness.run([unnamed("web")])
    backend.calls.clear()
    deployment, second = harness.run([unnamed("web")])
    assert second["web"].outputs["name"] == first["web"].outputs["name"]
    assert backend.calls == [], "no step: the old name is reused, so nothing differs"
    assert deployment.changes() == 0


def test_a_replacement_gets_a_new_name_and_is_created_before_the_delete(
        harness: Harness, backend: Backend) -> None:
    _, first = harness.run([unnamed("web")])
    old_name = first["web"].outputs["name"]
    backend.calls.clear()
    _, second = harness.run([unnamed("web", image="sha256:other")])
    new_name = second["web"].outputs["name"]
    assert new_name != old_name and new_name.startswith("web-")
    assert backend.ops("create", "delete") == [("create", new_name), ("delete", old_name)]


def test_a_given_name_is_never_changed(harness: Harness, backend: Backend) -> None:
    goal = unnamed("web")
    goal.inputs["name"] = "my-web"
    _, results = harness.run([goal])
    assert results["web"].outputs["name"] == "my-web"


def test_an_alias_moves_the_resource_without_a_step(harness: Harness, backend: Backend) -> None:
    _, first = harness.run([unnamed("web")])
    backend.calls.clear()
    renamed = unnamed("frontend")
    renamed.aliases = [urn_of(CONTAINER, "web")]
    deployment, second = harness.run([renamed])
    assert backend.calls == [], "renamed in the state only: nothing created or deleted"
    assert second["frontend"].id == first["web"].id
    urns_now = {r.urn for r in harness.state().resources}
    assert urn_of(CONTAINER, "frontend") in urns_now
    assert urn_of(CONTAINER, "web") not in urns_now
    assert deployment.changes() == 0


def test_without_the_alias_a_rename_is_a_create_and_a_delete(harness: Harness,
                                                            backend: Backend) -> None:
    harness.run([unnamed("web")])
    backend.calls.clear()
    harness.run([unnamed("frontend")])
    assert [op for op, _ in backend.ops("create", "delete")] == ["create", "delete"]


def test_the_default_provider_takes_the_package_config(harness: Harness, backend: Backend) -> None:
    config = {"docker:host": "unix:///other/docker.sock", "demo:port": "80",
              "docker:registryAuth": '[{"address": "r"}]'}
    deployment = harness.deployment(Mode.UP, config=config)
    deployment.register(Goal(type=urns.STACK_TYPE, name="replicator-s1", custom=False))
    deployment.register(Goal(type=NETWORK, name="lan", custom=True, inputs={"name": "n"}))
    [provider] = [r for r in deployment.live.values() if r.type == PROVIDER]
    assert provider.inputs["host"] == "unix:///other/docker.sock"
    assert backend.by_name("n").host == "unix:///other/docker.sock"
    assert provider.inputs["registryAuth"] == [{"address": "r"}]
    assert provider.parent == "" and ROOT_URN


def test_default_provider_inputs_only_from_the_package_namespace() -> None:
    assert default_provider_inputs({"docker:host": "h", "dockerx:a": "1", "demo:host": "x",
                                    "docker:version": "5"}, "docker") == {"host": "h"}
