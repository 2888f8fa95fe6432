"""URNs, the monitor's translation of SDK requests, and the plan/summary display."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import resource_pb2
from rich.console import Console

from replicator.engine import urn as urns
from replicator.engine.deployment import RegisterResult, StepFailed
from replicator.engine.diff import DiffResult, Op
from replicator.engine.display import count_steps, render_plan, render_summary
from replicator.engine.events import Step
from replicator.engine.monitor import ResourceMonitor, goal_from_request
from replicator.engine.properties import from_struct, make_secret, to_struct

STACK_URN = "urn:pulumi:s1::replicator::pulumi:pulumi:Stack::replicator-s1"


# ---------------------------------------------------------------------------- URNs


def test_make_urn_leaves_the_root_stack_out_and_chains_parent_types() -> None:
    site = urns.make_urn("s1", "replicator", "replicator:index:Site", "itl", STACK_URN)
    assert site == "urn:pulumi:s1::replicator::replicator:index:Site::itl"
    service = urns.make_urn("s1", "replicator", "replicator:index:Service", "cis", site)
    ctr = urns.make_urn("s1", "replicator", "docker:index/container:Container", "c-1", service)
    assert ctr == ("urn:pulumi:s1::replicator::replicator:index:Site$replicator:index:Service"
                   "$docker:index/container:Container::c-1")
    assert urns.type_of(ctr) == "docker:index/container:Container"
    assert urns.name_of(ctr) == "c-1"
    root = urns.make_urn("s1", "replicator", urns.STACK_TYPE, "replicator-s1", None)
    assert root == STACK_URN


def test_names_may_hold_the_separator() -> None:
    link = urns.make_urn("s1", "p", "replicator:index:Link", "a/app->b/db::5432", None)
    assert urns.name_of(link) == "a/app->b/db::5432"
    assert urns.type_of(link) == "replicator:index:Link"


def test_provider_refs_round_trip() -> None:
    purn = urns.default_provider_urn("s1", "replicator", "docker", "5.2.0")
    assert purn == "urn:pulumi:s1::replicator::pulumi:providers:docker::default_5_2_0"
    assert urns.default_provider_urn("s1", "replicator", "docker", "").endswith("::default")
    ref = urns.provider_ref(purn, "0b8c-id")
    assert urns.parse_provider_ref(ref) == (purn, "0b8c-id")
    assert urns.package_of("pulumi:providers:docker") == "docker"
    assert urns.package_of("docker:index/network:Network") == "docker"


# ---------------------------------------------------------------------------- monitor


def test_goal_from_request_merges_dependencies_and_normalises_numbers() -> None:
    request = resource_pb2.RegisterResourceRequest(
        type="docker:index/container:Container", name="c-1", custom=True, parent="urn:parent",
        object=to_struct({"name": "c-1", "ports": [{"internal": 8080.0}],
                          "envs": [make_secret("PW=x")]}),
        dependencies=["urn:b", "urn:a"],
        propertyDependencies={
            "image": resource_pb2.RegisterResourceRequest.PropertyDependencies(urns=["urn:img"]),
            "networksAdvanced": resource_pb2.RegisterResourceRequest.PropertyDependencies(
                urns=["urn:a", "urn:net"]),
        },
        protect=True, deleteBeforeReplace=True, version="5.2.0", provider="urn:p::id",
        ignoreChanges=["ports[0].external"], replaceOnChanges=["envs"],
        additionalSecretOutputs=["hostname"],
    )
    goal = goal_from_request(request)
    assert goal.dependencies == ["urn:a", "urn:b", "urn:img", "urn:net"]
    assert goal.inputs["ports"][0]["internal"] == 8080
    assert type(goal.inputs["ports"][0]["internal"]) is int
    assert goal.inputs["envs"] == [make_secret("PW=x")]
    assert (goal.protect, goal.delete_before_replace, goal.custom) == (True, True, True)
    assert (goal.version, goal.provider, goal.parent) == ("5.2.0", "urn:p::id", "urn:parent")
    assert goal.ignore_changes == ["ports[0].external"]
    assert goal.replace_on_changes == ["envs"]
    assert goal.additional_secret_outputs == ["hostname"]


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self) -> None:
        self.code: Any = None
        self.details = ""

    def abort(self, code: Any, details: str) -> None:
        self.code, self.details = code, details
        raise Aborted(details)


class StubDeployment:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.goals: list[Any] = []

    def register(self, goal: Any) -> RegisterResult:
        self.goals.append(goal)
        if self.error:
            raise self.error
        return RegisterResult("urn:x", "id-1", {"n": 1, "secret": make_secret("s")})


def request(type_: str = "docker:index/network:Network") -> resource_pb2.RegisterResourceRequest:
    return resource_pb2.RegisterResourceRequest(type=type_, name="lan", custom=True,
                                                object=to_struct({"name": "lan"}))


def test_monitor_answers_with_the_outputs() -> None:
    deployment = StubDeployment()
    response = ResourceMonitor(deployment).RegisterResource(request(), FakeContext())  # type: ignore[arg-type]
    assert (response.urn, response.id) == ("urn:x", "id-1")
    assert from_struct(response.object) == {"n": 1, "secret": make_secret("s")}
    assert deployment.goals[0].name == "lan"


def test_monitor_turns_a_step_failure_into_a_readable_grpc_error() -> None:
    monitor = ResourceMonitor(StubDeployment(StepFailed("docker:index/network:Network lan: boom")))  # type: ignore[arg-type]
    context = FakeContext()
    with pytest.raises(Aborted):
        monitor.RegisterResource(request(), context)  # type: ignore[arg-type]
    assert context.code == grpc.StatusCode.UNKNOWN
    assert context.details == "docker:index/network:Network lan: boom"
    assert monitor.errors == [context.details]


def test_monitor_names_the_resource_on_an_engine_fault() -> None:
    monitor = ResourceMonitor(StubDeployment(KeyError("oops")))  # type: ignore[arg-type]
    context = FakeContext()
    with pytest.raises(Aborted):
        monitor.RegisterResource(request(), context)  # type: ignore[arg-type]
    assert context.code == grpc.StatusCode.INTERNAL
    assert "docker:index/network:Network lan" in context.details and "oops" in context.details


def test_monitor_refuses_reads_other_than_stack_references() -> None:
    monitor = ResourceMonitor(StubDeployment())  # type: ignore[arg-type]
    context = FakeContext()
    with pytest.raises(Aborted):
        monitor.ReadResource(resource_pb2.ReadResourceRequest(
            type="docker:index/network:Network", name="n", id="abc"), context)  # type: ignore[arg-type]
    assert context.code == grpc.StatusCode.UNIMPLEMENTED
    assert "StackReference" in context.details


def test_monitor_advertises_only_secrets() -> None:
    monitor = ResourceMonitor(StubDeployment())  # type: ignore[arg-type]
    info = monitor.GetDeploymentInfo(None, FakeContext())  # type: ignore[arg-type]
    assert list(info.supportedFeatures) == [resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS]
    for feature, supported in [("secrets", True), ("outputValues", False),
                               ("resourceReferences", False), ("deletedWith", False)]:
        answer = monitor.SupportsFeature(resource_pb2.SupportsFeatureRequest(id=feature),
                                         FakeContext())  # type: ignore[arg-type]
        assert answer.hasSupport is supported, feature


# ---------------------------------------------------------------------------- display


def step(name: str, op: Op, *, type_: str = "docker:index/container:Container", custom: bool = True,
         parent: str = "", diff: DiffResult | None = None) -> Step:
    return Step(urn=f"urn:pulumi:s::p::{type_}::{name}", type=type_, name=name, op=op,
                custom=custom, parent=parent, diff=diff)


def test_count_steps_skips_reads_providers_and_unchanged_components() -> None:
    steps = [
        step("a", Op.CREATE), step("b", Op.CREATE), step("c", Op.SAME), step("d", Op.REPLACE),
        step("ref", Op.READ, type_="pulumi:pulumi:StackReference"),
        step("default", Op.CREATE, type_="pulumi:providers:docker"),
        step("site", Op.SAME, type_="replicator:index:Site", custom=False),
        step("svc", Op.CREATE, type_="replicator:index:Service", custom=False),
    ]
    assert dict(count_steps(steps)) == {Op.CREATE: 3, Op.SAME: 1, Op.REPLACE: 1}


def render(renderable: Any) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_summary_wording_for_preview_and_up() -> None:
    steps = [step("a", Op.CREATE), step("b", Op.DELETE), step("c", Op.SAME)]
    preview = render(render_summary(steps, preview=True))
    assert "+ 1 to create" in preview and "- 1 to delete" in preview and "1 unchanged" in preview
    done = render(render_summary(steps, preview=False))
    assert "+ 1 created" in done and "- 1 deleted" in done
    assert "no resources" in render(render_summary([], preview=True))


def test_plan_hides_unchanged_resources_and_shows_the_reason() -> None:
    parent = step("site", Op.SAME, type_="replicator:index:Site", custom=False)
    steps = [
        parent,
        step("web", Op.REPLACE, parent=parent.urn,
             diff=DiffResult(Op.REPLACE, ("envs",), ("envs",))),
        step("db", Op.SAME, parent=parent.urn),
    ]
    text = render(render_plan(steps))
    assert "web" in text and "replace: envs" in text and "replicator:Site" in text
    assert "db" not in text
    assert "db" in render(render_plan(steps, show_same=True))
