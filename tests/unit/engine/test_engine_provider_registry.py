"""Providers per package behind the registry: a new resource family is one plug-in;
a package without one fails at preview, naming the type and the resource."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from engine_fakes import PROVIDER, Backend, FakeProvider, Harness, network, root_goal

from replicator.engine import urn as urns
from replicator.engine.deployment import Goal, Mode, StepFailed
from replicator.engine.diff import Op, Schema
from replicator.engine.providers import registry

THING = "demo:index/thing:Thing"


class DemoProvider(FakeProvider):
    package = "demo"

    def schema(self, type_: str) -> Schema:
        return Schema(updatable=frozenset({"size"}))


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, backend: Backend) -> None:
    def make(inputs: dict[str, Any], base_dir: Path | None) -> DemoProvider:
        return DemoProvider(backend, inputs.get("endpoint") or "demo://default")

    plugin = replace(registry.PLUGINS["docker"], package="demo", factory=make,
                     defaults=lambda: {"endpoint": "demo://default"}, identity=("endpoint",))
    monkeypatch.setitem(registry.PLUGINS, "demo", plugin)


def test_a_new_package_is_one_plugin_with_its_own_default_provider(
        harness: Harness, backend: Backend, demo: None) -> None:
    thing = Goal(type=THING, name="t", custom=True, inputs={"name": "t1", "size": 1})
    deployment, results = harness.run([network(), thing])
    assert ("create", "t1") in backend.ops()
    assert "demo://default" in backend.hosts
    providers = {r.type: r for r in harness.state().resources if r.type.startswith("pulumi:providers:")}
    assert set(providers) == {PROVIDER, "pulumi:providers:demo"}
    assert providers["pulumi:providers:demo"].inputs["endpoint"] == "demo://default"
    record = harness.state().by_urn()[results["t"].urn]
    assert urns.parse_provider_ref(record.provider)[0] == providers["pulumi:providers:demo"].urn

    backend.calls.clear()
    again, _ = harness.run([network(), replace(thing, inputs={"name": "t1", "size": 2})])
    assert backend.ops() == [("update", "t1")]
    assert [s.op for s in again.steps if s.name == "t"] == [Op.UPDATE]


@pytest.mark.parametrize("mode", [Mode.PREVIEW, Mode.UP])
def test_a_package_without_a_plugin_fails_naming_type_and_resource(
        harness: Harness, backend: Backend, mode: Mode) -> None:
    deployment = harness.deployment(mode)
    deployment.register(root_goal())
    with pytest.raises(StepFailed, match=r"aws:s3/bucket:Bucket logs: package aws is not supported"):
        deployment.register(Goal(type="aws:s3/bucket:Bucket", name="logs", custom=True))
    assert backend.calls == []
    assert deployment.failed
    [step] = [s for s in deployment.steps if s.name == "logs"]
    assert step.status == "failed" and "supported: docker" in step.error


def test_an_explicit_provider_of_an_unknown_package_fails_naming_it(
        harness: Harness, backend: Backend) -> None:
    deployment = harness.deployment(Mode.PREVIEW)
    deployment.register(root_goal())
    with pytest.raises(StepFailed, match=r"pulumi:providers:aws east: package aws"):
        deployment.register(Goal(type="pulumi:providers:aws", name="east", custom=True))
    assert backend.calls == []
