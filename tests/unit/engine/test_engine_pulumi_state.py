"""The state in Pulumi's format: checkpoint layout, v3 deployment, migration, export/import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from test_engine_state import PASSWORD, STACK, sample_state

from replicator.engine import pulumi_state
from replicator.engine.backend import Backend, parse_stack_reference
from replicator.engine.properties import SECRET_SIG, SIG_KEY
from replicator.engine.secrets import SecretsManager
from replicator.engine.state import ResourceState, StackState, StateStore
from replicator.engine.stack_transfer import export_deployment, import_deployment
from replicator.errors import InputError


class FakeProject:
    name = "replicator"


class Runner:
    """What export/import need of a StackRunner: the project, its secrets, its stores."""

    def __init__(self, root: Path, key: bytes) -> None:
        self.project = FakeProject()
        self.secrets = SecretsManager(key)
        self.backend = Backend.for_workdir(root)

    def store(self, stack: str) -> StateStore:
        return StateStore(self.backend.root, stack, self.project.name, self.secrets,
                          path=self.backend.state_path(self.project.name, stack),
                          legacy_path=self.backend.legacy_path(stack))


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path, Fernet.generate_key())


def test_the_state_file_is_a_checkpoint_in_the_file_backend_layout(runner: Runner) -> None:
    store = runner.store(STACK)
    store.save(sample_state())
    assert store.path == runner.backend.root / ".pulumi" / "stacks" / "replicator" / f"{STACK}.json"
    raw = json.loads(store.path.read_text())
    assert raw["checkpoint"]["stack"] == f"organization/replicator/{STACK}"
    deployment = pulumi_state.Deployment.model_validate(raw["checkpoint"]["latest"])
    assert deployment.manifest.magic == pulumi_state.magic(deployment.manifest.version)
    assert deployment.secrets_providers is not None
    ctr = next(r for r in deployment.resources if r.type.endswith("Container"))
    assert (ctr.custom, ctr.id, ctr.provider) == (True, "c1", "urn:p::pid")
    assert ctr.dependencies == [r.urn for r in deployment.resources if r.type.endswith("Network")]
    net = next(r for r in deployment.resources if r.type.endswith("Network"))
    assert net.protect is True
    assert [op.type for op in deployment.pending_operations] == ["creating"]


def test_the_model_refuses_what_the_format_does_not_have() -> None:
    with pytest.raises(ValidationError):
        pulumi_state.Resource.model_validate({"urn": "u", "color": "red"})
    with pytest.raises(ValidationError):
        pulumi_state.Operation.model_validate({"resource": {"urn": "u"}, "type": "exploding"})
    with pytest.raises(ValidationError):
        pulumi_state.Deployment.model_validate({"resources": []})  # no manifest


def test_a_state_of_the_first_format_is_migrated_on_first_load(runner: Runner) -> None:
    legacy = StateStore(runner.backend.root, STACK, "replicator", runner.secrets,
                        path=runner.backend.legacy_path(STACK))
    legacy_text = json.dumps(runner.secrets.encrypt_tree({
        "version": 1, "stack": STACK, "project": "replicator", "outputs": {"site": "itl"},
        "engines": {}, "lastOperation": {}, "pending": [],
        "resources": [ResourceState(urn="urn:pulumi:s::replicator::pulumi:pulumi:Stack::x",
                                    type="pulumi:pulumi:Stack", custom=False).to_json()]}))
    legacy.path.parent.mkdir(parents=True)
    legacy.path.write_text(legacy_text)
    store = runner.store(STACK)
    assert store.exists()
    state = store.load()
    assert state.outputs == {"site": "itl"} and len(state.resources) == 1
    assert json.loads(store.path.read_text())["version"] == 3
    assert not legacy.path.exists(), "moved aside once the new file is complete"
    assert legacy.path.with_name(f"{STACK}.json.v1.bak").exists()


def test_export_then_import_gives_back_the_same_state(runner: Runner) -> None:
    store = runner.store(STACK)
    state = sample_state()
    state.engines, state.last_operation = {}, {}
    for r in state.resources:
        r.observed = {}
        r.delete_before_replace = False
    store.save(state)
    exported = export_deployment(runner, STACK)
    text = json.dumps(exported)
    assert PASSWORD not in text, "secrets are exported as ciphertext"
    assert exported["version"] == 3
    pulumi_state.UntypedDeployment.model_validate(exported)
    store.path.unlink()
    import_deployment(runner, STACK, json.loads(text))
    assert store.load() == state
    assert export_deployment(runner, STACK)["deployment"]["resources"] == \
        exported["deployment"]["resources"]


def test_import_refuses_another_stack_and_bad_input(runner: Runner) -> None:
    runner.store(STACK).save(sample_state())
    exported = export_deployment(runner, STACK)
    with pytest.raises(InputError, match="not a resource of stack other"):
        import_deployment(runner, "other", exported)
    with pytest.raises(InputError, match="version 3"):
        import_deployment(runner, STACK, {"version": 2, "deployment": {}})
    bad = json.loads(json.dumps(exported))
    bad["deployment"]["resources"][0]["colour"] = "red"
    with pytest.raises(InputError) as info:
        import_deployment(runner, STACK, bad, source="x.json")
    assert info.value.location.path == "resources.0.colour"


def test_import_refuses_secrets_of_another_key(runner: Runner, tmp_path: Path) -> None:
    runner.store(STACK).save(sample_state())
    exported = export_deployment(runner, STACK)
    other = Runner(tmp_path / "other", Fernet.generate_key())
    with pytest.raises(InputError, match="cannot decrypt"):
        import_deployment(other, STACK, exported)
    assert not other.store(STACK).exists()


def test_stack_outputs_without_a_root_resource_get_one() -> None:
    state = StackState(stack="s", project="p", outputs={"a": 1})
    deployment = pulumi_state.to_deployment(state)
    assert deployment.resources[0].type == "pulumi:pulumi:Stack"
    assert deployment.resources[0].outputs == {"a": 1}


def test_secret_values_keep_pulumis_ciphertext_shape(runner: Runner) -> None:
    store = runner.store(STACK)
    store.save(sample_state())
    root = json.loads(store.path.read_text())["checkpoint"]["latest"]["resources"][0]
    assert set(root["outputs"]["adminPassword"]) == {SIG_KEY, "ciphertext"}
    assert root["outputs"]["adminPassword"][SIG_KEY] == SECRET_SIG


@pytest.mark.parametrize(("ref", "expected"), [
    ("organization/net/dev", ("net", "dev")), ("net/dev", ("net", "dev")), ("dev", ("me", "dev"))])
def test_stack_reference_names(ref: str, expected: tuple[str, str]) -> None:
    assert parse_stack_reference(ref, "me") == expected


def test_only_file_backends(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file://"):
        Backend.from_url("s3://bucket")
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path}")
    backend = Backend.from_url()
    assert backend.state_path("p", "s") == tmp_path / ".pulumi" / "stacks" / "p" / "s.json"
