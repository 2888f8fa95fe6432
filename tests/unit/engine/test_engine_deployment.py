"""`Deployment` with an in-memory provider: steps, order, checkpoints, failures.

Goals are fed to `Deployment.register` directly, as the monitor does for each
RegisterResource call of the program; `finish()` is what runs once the program
has succeeded.
"""

from __future__ import annotations

import threading

import pytest
from engine_fakes import (
    CONTAINER,
    HOST,
    NETWORK,
    PROVIDER,
    ROOT_URN,
    STACK,
    Backend,
    Harness,
    container,
    network,
    root_goal,
    steps_by_name,
    urn_of,
)

from replicator.engine import urn as urns
from replicator.engine.deployment import Goal, Mode, StepFailed
from replicator.engine.diff import Op
from replicator.engine.properties import UNKNOWN, is_secret, make_secret
from replicator.engine.state import PendingOperation, _now


def three() -> list[Goal]:
    return [network(), container("web"), container("db")]


# ---------------------------------------------------------------------------- create / same


def test_first_run_creates_everything(harness: Harness, backend: Backend) -> None:
    deployment, results = harness.run(three())
    assert backend.ops() == [("create", "s1-lan"), ("create", "s1-web"), ("create", "s1-db")]
    assert steps_by_name(deployment) == {"lan": ["create"], "web": ["create"], "db": ["create"]}
    assert all(s.status == "done" for s in deployment.steps)
    assert backend.objects[results["web"].id].name == "s1-web"
    assert results["web"].outputs["computed"] == "computed-s1-web"

    state = harness.state()
    by_urn = state.by_urn()
    web = by_urn[urn_of(CONTAINER, "web")]
    assert web.id == results["web"].id and web.id in backend.objects
    assert web.parent == ROOT_URN
    assert web.dependencies == [urn_of(NETWORK, "lan")]
    assert web.inputs["mustRun"] is True, "inputs are stored as the provider checked them"
    assert state.pending == []
    assert state.last_operation["kind"] == "up" and state.last_operation["result"] == "succeeded"

    [provider] = [r for r in state.resources if r.type == PROVIDER]
    assert provider.inputs["host"] == HOST
    assert web.provider == urns.provider_ref(provider.urn, provider.id)
    order = [r.urn for r in state.resources]
    assert order.index(urn_of(NETWORK, "lan")) < order.index(web.urn), "dependencies first"


def test_same_goals_on_the_saved_state_change_nothing(harness: Harness, backend: Backend) -> None:
    _, first = harness.run(three())
    ids = harness.ids()
    backend.calls.clear()

    deployment, second = harness.run(three())
    assert backend.calls == []
    assert steps_by_name(deployment) == {"lan": ["same"], "web": ["same"], "db": ["same"]}
    assert deployment.changes() == 0
    assert harness.ids() == ids
    assert second["web"].id == first["web"].id
    assert second["web"].outputs == first["web"].outputs


def test_changed_env_replaces_deleting_the_old_container_first(harness: Harness,
                                                               backend: Backend) -> None:
    harness.run(three())
    old_id = harness.ids()["web"]
    backend.calls.clear()

    deployment, results = harness.run([network(), container("web", env="A=2"), container("db")])
    assert backend.ops() == [("delete", "s1-web"), ("create", "s1-web")]
    assert backend.calls[0].id == old_id
    [step] = [s for s in deployment.steps if s.name == "web"]
    assert step.op == Op.REPLACE
    assert step.diff is not None and step.diff.replace_keys == ("envs",)
    assert results["web"].id != old_id
    assert harness.ids()["web"] == results["web"].id
    assert backend.by_name("s1-web").inputs["envs"] == ["A=2"]
    assert harness.state().pending == []


def test_replace_under_a_new_name_creates_first_and_deletes_the_old_one_last(
        harness: Harness, backend: Backend) -> None:
    harness.run(three())
    old_id = harness.ids()["web"]
    backend.calls.clear()

    deployment, results = harness.run(
        [network(), container("web", docker_name="s1-web-v2"), container("db")], finish=False)
    assert backend.ops() == [("create", "s1-web-v2")]
    assert {"s1-web", "s1-web-v2"} <= backend.names()
    deployment.finish()
    deployment.save_final("succeeded", _now())
    assert backend.ops() == [("create", "s1-web-v2"), ("delete", "s1-web")]
    assert backend.calls[1].id == old_id
    records = [r for r in harness.state().resources if urns.name_of(r.urn) == "web"]
    assert [r.id for r in records] == [results["web"].id]


def test_restart_change_is_an_update_in_place(harness: Harness, backend: Backend) -> None:
    harness.run(three())
    before = harness.state().by_urn()[urn_of(CONTAINER, "web")]
    backend.calls.clear()

    deployment, results = harness.run(
        [network(), container("web", restart="always"), container("db")])
    assert backend.ops() == [("update", "s1-web")]
    assert backend.calls[0].id == before.id == results["web"].id
    [step] = [s for s in deployment.steps if s.name == "web"]
    assert step.op == Op.UPDATE and step.diff is not None and step.diff.changed == ("restart",)
    after = harness.state().by_urn()[urn_of(CONTAINER, "web")]
    assert after.inputs["restart"] == "always"
    assert after.created == before.created
    assert results["web"].outputs["restart"] == "always"


# ---------------------------------------------------------------------------- deletes


def test_undeclared_resources_are_deleted_after_the_program_dependents_first(
        harness: Harness, backend: Backend) -> None:
    harness.run([*three(), network("other", "10.0.1.0/24")])
    backend.calls.clear()

    deployment, _ = harness.run([network("other", "10.0.1.0/24")], finish=False)
    assert backend.calls == [], "nothing is deleted before the program has finished"
    deployment.finish()
    deployment.save_final("succeeded", _now())
    ops = backend.ops()
    assert sorted(ops[:2]) == [("delete", "s1-db"), ("delete", "s1-web")]
    assert ops[2:] == [("delete", "s1-lan")]
    assert set(harness.ids()) == {"other", "default"}
    assert [s.op for s in deployment.steps if s.name in ("web", "db", "lan")] == [Op.DELETE] * 3


def test_protected_resource_no_longer_declared_blocks_every_delete(
        harness: Harness, backend: Backend) -> None:
    harness.run([network(), container("web", protect=True), container("db")])
    backend.calls.clear()

    deployment, _ = harness.run([], finish=False)
    with pytest.raises(StepFailed, match=r"web.*protected") as info:
        deployment.finish()
    assert "db" not in str(info.value).split("protected")[0]
    assert backend.calls == []
    assert deployment.failed
    deployment.save_final("failed", _now())
    assert {"lan", "web", "db"} <= set(harness.ids())


def test_protected_resource_cannot_be_replaced(harness: Harness, backend: Backend) -> None:
    harness.run([network(), container("web", protect=True)])
    backend.calls.clear()
    deployment = harness.deployment()
    deployment.register(root_goal())
    deployment.register(network())
    with pytest.raises(StepFailed, match="protected and cannot be replaced"):
        deployment.register(container("web", env="A=2", protect=True))
    assert backend.calls == []


def test_destroy_deletes_everything_dependents_first(harness: Harness, backend: Backend) -> None:
    deployment, _ = harness.run(three(), finish=False)
    deployment.register_outputs(ROOT_URN, {"site": "itl"})
    deployment.finish()
    deployment.save_final("succeeded", _now())
    backend.calls.clear()

    destroy = harness.deployment(Mode.DESTROY)
    destroy.destroy_all()
    destroy.save_final("succeeded", _now())
    ops = backend.ops()
    assert sorted(ops[:2]) == [("delete", "s1-db"), ("delete", "s1-web")]
    assert ops[2:] == [("delete", "s1-lan")]
    assert backend.objects == {}
    state = harness.state()
    assert state.resources == [] and state.outputs == {}


def test_destroy_refuses_protected_resources(harness: Harness, backend: Backend) -> None:
    harness.run([network(protect=True), container("web")])
    backend.calls.clear()
    with pytest.raises(StepFailed, match="lan.*protected"):
        harness.deployment(Mode.DESTROY).destroy_all()
    assert backend.calls == []


# ---------------------------------------------------------------------------- preview


def test_preview_of_a_new_stack_calls_nothing_and_writes_nothing(harness: Harness,
                                                                 backend: Backend) -> None:
    deployment, results = harness.run(three(), mode=Mode.PREVIEW)
    assert backend.calls == []
    assert not harness.store.exists()
    assert steps_by_name(deployment) == {"lan": ["create"], "web": ["create"], "db": ["create"]}
    assert all(s.status == "planned" for s in deployment.steps)
    web = results["web"]
    assert web.id == ""
    assert web.outputs["id"] == UNKNOWN and web.outputs["computed"] == UNKNOWN
    assert web.outputs["name"] == "s1-web", "known inputs are echoed"


def test_preview_of_changes_plans_them_without_applying(harness: Harness, backend: Backend) -> None:
    _, first = harness.run([*three(), container("old")])
    text = harness.store.path.read_text()
    backend.calls.clear()

    deployment, results = harness.run(
        [network(), container("web", env="A=2"), container("db", restart="always")],
        mode=Mode.PREVIEW)
    assert backend.calls == []
    assert harness.store.path.read_text() == text
    assert steps_by_name(deployment) == {"lan": ["same"], "web": ["replace"], "db": ["update"],
                                         "old": ["delete"]}
    assert results["lan"].id == first["lan"].id
    assert results["web"].id == "" and results["web"].outputs["computed"] == UNKNOWN
    assert results["db"].id == first["db"].id
    assert results["db"].outputs["restart"] == "always"
    assert results["db"].outputs["computed"] == "computed-s1-db"


def test_preview_shows_the_replacements_up_will_make(harness: Harness, backend: Backend) -> None:
    harness.run(three())
    changed = [network(subnet="10.0.9.0/24"), container("web"), container("db")]
    preview, _ = harness.run(changed, mode=Mode.PREVIEW)
    up, _ = harness.run([network(subnet="10.0.9.0/24"), container("web"), container("db")])
    assert steps_by_name(up) == {"lan": ["replace"], "web": ["delete", "replace"],
                                 "db": ["delete", "replace"]}
    assert steps_by_name(preview)["web"][-1] == "replace"


# ---------------------------------------------------------------------------- replacement cascade


def test_delete_before_replace_network_takes_its_containers_down_and_back(
        harness: Harness, backend: Backend) -> None:
    harness.run([*three(), network("other", "10.0.1.0/24"), container("x", on="other")])
    ids = harness.ids()
    backend.calls.clear()

    deployment, results = harness.run([network(subnet="10.0.9.0/24"), container("web"),
                                       container("db"), network("other", "10.0.1.0/24"),
                                       container("x", on="other")])
    ops = backend.ops()
    assert sorted(ops[:2]) == [("delete", "s1-db"), ("delete", "s1-web")]
    assert ops[2:] == [("delete", "s1-lan"), ("create", "s1-lan"), ("create", "s1-web"),
                       ("create", "s1-db")]
    steps = steps_by_name(deployment)
    assert steps["lan"] == ["replace"]
    assert steps["web"][-1] == "replace" and steps["db"][-1] == "replace"
    assert steps["other"] == ["same"] and steps["x"] == ["same"]
    [web_step] = [s for s in deployment.steps if s.name == "web" and s.op == Op.REPLACE]
    assert web_step.diff is not None and "depends on was replaced" in web_step.diff.reason

    after = harness.ids()
    assert after["x"] == ids["x"] and after["other"] == ids["other"]
    for name in ("lan", "web", "db"):
        assert after[name] == results[name].id != ids[name]
    assert backend.names(CONTAINER) == {"s1-web", "s1-db", "s1-x"}
    assert len([r for r in harness.state().resources if r.custom]) == 6
    assert harness.state().pending == []


def test_delete_before_replace_refuses_to_delete_a_protected_dependent(
        harness: Harness, backend: Backend) -> None:
    harness.run([network(), container("db", protect=True)])
    backend.calls.clear()
    deployment = harness.deployment()
    deployment.register(root_goal())
    try:
        with pytest.raises(StepFailed, match="protected"):
            deployment.register(network(subnet="10.0.9.0/24"))
    finally:
        assert backend.ops("delete") == []


# ---------------------------------------------------------------------------- failures


def test_create_failure_names_the_resource_and_keeps_earlier_steps(
        harness: Harness, backend: Backend) -> None:
    backend.fail_create.add("s1-db")
    deployment = harness.deployment()
    deployment.register(root_goal())
    deployment.register(network())
    deployment.register(container("web"))
    with pytest.raises(StepFailed) as info:
        deployment.register(container("db"))
    assert f"{CONTAINER} db" in str(info.value) and "boom" in str(info.value)
    assert deployment.failed
    [failed] = [s for s in deployment.steps if s.name == "db"]
    assert failed.status == "failed" and "boom" in failed.error

    # What is on disk right now, as if the process had died here.
    state = harness.state()
    names = {urns.name_of(r.urn) for r in state.resources}
    assert {"lan", "web"} <= names and "db" not in names
    # The create was recorded as pending before it started, so the next run can
    # clean up whatever a half-done create left.
    assert [(p.op, p.name, p.type) for p in state.pending] == [("create", "s1-db", CONTAINER)]

    backend.fail_create.clear()
    backend.calls.clear()
    harness.run(three())
    assert backend.ops() == [("remove_orphan", "s1-db"), ("create", "s1-db")]
    assert harness.state().pending == []


def test_a_check_failure_starts_nothing_and_leaves_nothing_pending(
        harness: Harness, backend: Backend) -> None:
    deployment = harness.deployment()
    deployment.register(root_goal())
    deployment.register(network())
    bad = container("web")
    bad.inputs["privileged"] = True
    with pytest.raises(StepFailed, match=rf"{CONTAINER} web: .*privileged"):
        deployment.register(bad)
    assert backend.ops() == [("create", "s1-lan")]
    deployment.save_final("failed", _now())
    state = harness.state()
    assert state.pending == []
    assert state.last_operation["result"] == "failed"
    assert "web" not in {urns.name_of(r.urn) for r in state.resources}


# ---------------------------------------------------------------------------- refresh / resume


def test_refresh_forgets_gone_resources_and_notes_stopped_containers(
        harness: Harness, backend: Backend) -> None:
    harness.run(three())
    ids = harness.ids()
    backend.by_name("s1-web").running = False
    del backend.objects[ids["db"]]
    backend.calls.clear()

    refresh = harness.deployment(Mode.REFRESH)
    refresh.refresh()
    assert sorted(backend.ops()) == [("read", "s1-db"), ("read", "s1-lan"), ("read", "s1-web")]
    state = harness.state()
    by_name = {urns.name_of(r.urn): r for r in state.resources}
    assert "db" not in by_name
    assert by_name["web"].observed["running"] is False
    ops = {s.name: s.op for s in refresh.steps}
    assert ops["db"] == Op.DELETE and ops["web"] == Op.UPDATE and ops["lan"] == Op.SAME

    backend.calls.clear()
    deployment, _ = harness.run(three())
    steps = steps_by_name(deployment)
    assert steps == {"lan": ["same"], "web": ["replace"], "db": ["create"]}
    [web] = [s for s in deployment.steps if s.name == "web"]
    assert web.diff is not None and "not running" in web.diff.reason
    assert backend.ops() == [("delete", "s1-web"), ("create", "s1-web"), ("create", "s1-db")]

    backend.calls.clear()
    again, _ = harness.run(three())
    assert backend.calls == [] and set(steps_by_name(again)["web"]) == {"same"}


def test_refresh_of_a_running_stack_changes_nothing(harness: Harness, backend: Backend) -> None:
    harness.run(three())
    first = harness.deployment(Mode.REFRESH)
    first.refresh()  # records what it observed of the containers
    # Observing that healthy containers run is not a change.
    assert {s.name: s.op for s in first.steps} == {"lan": Op.SAME, "web": Op.SAME,
                                                   "db": Op.SAME}
    before = harness.state()
    assert before.by_urn()[urn_of(CONTAINER, "web")].observed["running"] is True
    again = harness.deployment(Mode.REFRESH)
    again.refresh()
    assert {s.op for s in again.steps} == {Op.SAME}
    assert harness.state().resources == before.resources
    backend.calls.clear()
    deployment, _ = harness.run(three())
    assert backend.calls == [] and deployment.changes() == 0


def test_resolve_pending_removes_what_an_interrupted_create_left(
        harness: Harness, backend: Backend) -> None:
    harness.run([network()])
    state = harness.state()
    ref = state.by_urn()[urn_of(NETWORK, "lan")].provider
    state.pending = [
        PendingOperation(urn_of(CONTAINER, "web"), CONTAINER, "create", "s1-web", ref),
        PendingOperation(urn_of(NETWORK, "lan"), NETWORK, "delete", "s1-lan", ref),
    ]
    harness.store.save(state)
    backend.calls.clear()

    preview = harness.deployment(Mode.PREVIEW)
    preview.resolve_pending()
    assert backend.calls == [], "a preview never cleans up"

    deployment = harness.deployment()
    deployment.resolve_pending()
    assert backend.ops() == [("remove_orphan", "s1-web")]
    assert backend.calls[0].host == HOST and backend.calls[0].type == CONTAINER
    assert harness.state().pending == []
    assert any("s1-web" in d.message for d in deployment.sink.diagnostics)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- outputs, secrets, refs


def test_stack_outputs_are_saved_and_survive_a_failed_run(harness: Harness, backend: Backend) -> None:
    deployment, _ = harness.run([network()], finish=False)
    deployment.register_outputs(ROOT_URN, {"site": "itl", "count": 3,
                                           "password": make_secret("pa55word")})
    deployment.finish()
    deployment.save_final("succeeded", _now())
    assert "pa55word" not in harness.store.path.read_text()
    outputs = harness.state().outputs
    assert outputs == {"site": "itl", "count": 3, "password": make_secret("pa55word")}
    assert type(outputs["count"]) is int

    failed = harness.deployment()
    failed.register(root_goal())
    failed.save_final("failed", _now())
    assert harness.state().outputs["site"] == "itl"


def test_component_outputs_are_recorded(harness: Harness, backend: Backend) -> None:
    deployment = harness.deployment()
    deployment.register(root_goal())
    site = deployment.register(Goal(type="replicator:index:Site", name="itl", custom=False))
    deployment.register_outputs(site.urn, {"lan": "s1-lan"})
    assert harness.state().by_urn()[site.urn].outputs == {"lan": "s1-lan"}
    assert backend.calls == []


def test_secret_inputs_reach_the_provider_revealed_and_the_disk_encrypted(
        harness: Harness, backend: Backend) -> None:
    def goals() -> list[Goal]:
        return [network(), container("web", env=make_secret("PW=hunter2"))]

    _, results = harness.run(goals())
    assert backend.by_name("s1-web").inputs["envs"] == ["PW=hunter2"]
    assert "hunter2" not in harness.store.path.read_text()
    assert is_secret(results["web"].outputs["envs"])
    record = harness.state().by_urn()[urn_of(CONTAINER, "web")]
    assert record.inputs["envs"] == [make_secret("PW=hunter2")]

    backend.calls.clear()
    deployment, _ = harness.run(goals())
    assert backend.calls == []
    assert steps_by_name(deployment)["web"] == ["same"]


def test_stack_reference_reads_the_other_stack(harness: Harness, backend: Backend) -> None:
    outputs = {"wanNetworks": {"c": {"name": "n"}}, "token": make_secret("t")}
    ref = "organization/replicator/ctoc"

    def read(name: str) -> dict[str, object] | None:
        return outputs if name == ref else None

    deployment = harness.deployment(read_stack_outputs=read)
    deployment.register(root_goal())
    result = deployment.read_stack_reference(urns.STACK_REFERENCE_TYPE, ref, ref, "")
    assert result.id == ref
    assert result.outputs["outputs"] == outputs
    assert result.outputs["secretOutputNames"] == ["token"]
    with pytest.raises(StepFailed, match=r"replicator up other"):
        deployment.read_stack_reference(urns.STACK_REFERENCE_TYPE, "organization/replicator/other",
                                        "organization/replicator/other", "")
    deployment.finish()
    deployment.save_final("succeeded", _now())
    assert backend.calls == [], "a stack reference is no provider object"

    preview = harness.deployment(Mode.PREVIEW, read_stack_outputs=lambda name: None)
    unknown = preview.read_stack_reference(urns.STACK_REFERENCE_TYPE, "x", "org/replicator/x", "")
    assert unknown.outputs["outputs"] == UNKNOWN


# ---------------------------------------------------------------------------- known bugs


def test_replacing_a_provider_deletes_old_objects_on_the_old_host(
        harness: Harness, backend: Backend) -> None:
    def run(host: str) -> None:
        deployment = harness.deployment()
        deployment.register(root_goal())
        p = deployment.register(Goal(type=PROVIDER, name="docker-itl", custom=True,
                                     inputs={"host": host}))
        ref = urns.provider_ref(p.urn, p.id)
        deployment.register(network(provider=ref))
        deployment.register(container("web", provider=ref))
        deployment.finish()
        deployment.save_final("succeeded", _now())

    run("unix:///a.sock")
    assert {o.host for o in backend.objects.values()} == {"unix:///a.sock"}
    run("unix:///b.sock")
    deletes = [c for c in backend.calls if c.method == "delete"]
    assert deletes and {c.host for c in deletes} == {"unix:///a.sock"}
    assert {o.host for o in backend.objects.values()} == {"unix:///b.sock"}


def test_registering_one_urn_twice_is_refused(harness: Harness, backend: Backend) -> None:
    deployment = harness.deployment()
    deployment.register(root_goal())
    deployment.register(network())
    deployment.register(container("web"))
    try:
        with pytest.raises(StepFailed, match="web"):
            deployment.register(container("web", docker_name="s1-web-2"))
    finally:
        assert backend.ops("create") == [("create", "s1-lan"), ("create", "s1-web")]


def test_concurrent_checkpoints_never_write_an_older_snapshot_last(
        harness: Harness, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = harness.deployment()
    deployment.register(root_goal())
    deployment.register(network())
    real_save = harness.store.save
    parked, release = threading.Event(), threading.Event()

    def save(state):  # type: ignore[no-untyped-def]
        names = {urns.name_of(r.urn) for r in state.resources}
        if threading.current_thread().name == "slow" and "web" in names and not parked.is_set():
            parked.set()  # this thread is preempted between snapshot and write
            release.wait(5)
        real_save(state)

    monkeypatch.setattr(harness.store, "save", save)
    slow = threading.Thread(target=deployment.register, args=(container("web"),), name="slow")
    slow.start()
    try:
        assert parked.wait(5)
        deployment.register(container("db"))
    finally:
        release.set()
        slow.join(5)
    names = {urns.name_of(r.urn) for r in harness.state().resources}
    assert {"web", "db"} <= names, f"state on disk after both steps finished: {sorted(names)}"


def test_default_provider_is_reused_across_runs(harness: Harness, backend: Backend) -> None:
    harness.run([network()])
    first = [r for r in harness.state().resources if r.type == PROVIDER]
    harness.run([network()])
    second = [r for r in harness.state().resources if r.type == PROVIDER]
    assert [r.id for r in first] == [r.id for r in second]
    assert len(second) == 1


def test_changing_docker_host_replaces_resources_of_the_default_provider(
        harness: Harness, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.run([network()])
    monkeypatch.setenv("DOCKER_HOST", "unix:///other.sock")
    backend.calls.clear()
    deployment, _ = harness.run([network()])
    [step] = [s for s in deployment.steps if s.name == "lan"]
    assert step.op == Op.REPLACE
    assert step.diff is not None and step.diff.reason == "provider changed"
    assert ("create", "unix:///other.sock") in [(c.method, c.host) for c in backend.calls]


def test_counts_skip_components_and_reads(harness: Harness, backend: Backend) -> None:
    deployment, _ = harness.run(three())
    # As in Pulumi's summary, the stack itself counts when it is created.
    assert deployment.counts() == {"create": 4}
    assert deployment.changes() == 4
    assert deployment.steps[0].urn == ROOT_URN and STACK in ROOT_URN
    again, _ = harness.run(three())
    assert again.counts() == {"same": 3}
    assert again.changes() == 0


def test_retain_on_delete_drops_the_resource_from_state_but_keeps_the_object(
        harness: Harness, backend: Backend) -> None:
    harness.run([network(), container("web", retain_on_delete=True), container("db")])
    backend.calls.clear()
    harness.run([network()])
    assert backend.ops("delete") == [("delete", "s1-db")]
    assert "s1-web" in backend.names()
    assert set(harness.ids()) == {"lan", "default"}


def test_unsupported_resource_options_are_reported_not_silently_dropped(
        harness: Harness) -> None:
    deployment, _ = harness.run([network(unsupported=["aliases"])])
    warnings = [d.message for d in deployment.sink.diagnostics if d.severity == "warning"]
    assert any("aliases" in w and "not supported" in w for w in warnings)


def test_the_engine_of_a_provider_gone_from_the_program_leaves_the_state(
        harness: Harness, backend: Backend) -> None:
    """A site that no longer spans an engine: that engine stops counting as a host."""
    def run(hosts: list[str]) -> None:
        deployment = harness.deployment()
        deployment.register(root_goal())
        for i, host in enumerate(hosts):
            p = deployment.register(Goal(type=PROVIDER, name=f"docker-itl-{i}", custom=True,
                                         inputs={"host": host}))
            deployment.register(container(f"web{i}", provider=urns.provider_ref(p.urn, p.id)))
        deployment.finish()
        deployment.save_final("succeeded", _now())

    run(["unix:///a.sock", "unix:///b.sock"])
    assert len(harness.state().engines) == 2
    run(["unix:///a.sock"])
    [(urn, _)] = harness.state().engines.items()
    assert urn.endswith("::docker-itl-0")
