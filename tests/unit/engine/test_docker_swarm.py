"""Swarm resources of the embedded engine without Docker (replicator/engine/providers/docker_swarm.py):
pulumi-docker's inputs -> the Docker API's specs, the schema (a secret's data replaces it,
a service's replicas update it), the swarm-manager check, and the calls made on a fake API."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from docker import errors as docker_errors

from replicator.engine.diff import Op, diff_inputs
from replicator.engine.properties import make_secret
from replicator.engine.providers import docker_swarm as swarm
from replicator.engine.providers.base import ProviderError
from replicator.engine.providers.docker import DockerProvider

IMAGE_ID = "sha256:" + "ab" * 32
MANAGER = {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True}}


def service_inputs(**overrides: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "name": "app-1234567",
        "taskSpec": {
            "containerSpec": {
                "image": "replicator/base:latest",
                "commands": ["python3", "-m", "http.server"],
                "args": ["8080"],
                "env": {"B": "2", "A": "1"},
                "labels": [{"label": "owner", "value": "me"}],
                "secrets": [{"secretId": "sid", "secretName": "token-1", "fileName": "/run/secrets/t"}],
                "configs": [{"configId": "cid", "configName": "settings-1",
                             "fileName": "/etc/app.json", "fileMode": 0o400, "fileUid": "10"}],
                "mounts": [{"target": "/data", "source": "vol", "type": "volume",
                            "volumeOptions": {"noCopy": True,
                                              "labels": [{"label": "k", "value": "v"}]}}],
                "stopGracePeriod": "1m30s",
            },
            "networksAdvanceds": [{"name": "net-1", "aliases": ["app"]},
                                  {"id": "nid", "driverOpts": ["k=v"]}],
            "restartPolicy": {"condition": "on-failure", "delay": "500ms", "maxAttempts": 3},
        },
        "mode": {"replicated": {"replicas": 2}},
        "endpointSpec": {"ports": [{"targetPort": 8080, "publishedPort": 18080}]},
        "labels": [{"label": "owner", "value": "me"}],
    }
    inputs.update(overrides)
    return inputs


def test_a_service_becomes_the_docker_api_spec() -> None:
    spec = swarm.service_spec(service_inputs(), IMAGE_ID)
    assert spec["name"] == "app-1234567"
    assert spec["labels"] == {"owner": "me"}
    assert spec["mode"] == {"Replicated": {"Replicas": 2}}
    assert spec["endpoint_spec"] == {"Mode": "vip", "Ports": [
        {"Protocol": "tcp", "TargetPort": 8080, "PublishedPort": 18080, "PublishMode": "ingress"}]}
    assert spec["update_config"] is None and spec["rollback_config"] is None
    template = spec["task_template"]
    assert template["Networks"] == [{"Target": "net-1", "Aliases": ["app"]},
                                    {"Target": "nid", "DriverOpts": {"k": "v"}}]
    assert template["RestartPolicy"] == {"Condition": "on-failure", "Delay": 500_000_000,
                                         "MaxAttempts": 3}
    container = template["ContainerSpec"]
    assert container["Image"] == IMAGE_ID
    assert container["Command"] == ["python3", "-m", "http.server"] and container["Args"] == ["8080"]
    assert container["Env"] == ["A=1", "B=2"]
    assert container["Labels"] == {"owner": "me"}
    assert container["StopGracePeriod"] == 90_000_000_000
    assert container["Secrets"] == [{"File": {"Name": "/run/secrets/t", "UID": "0", "GID": "0",
                                              "Mode": 0o444},
                                     "SecretID": "sid", "SecretName": "token-1"}]
    assert container["Configs"] == [{"File": {"Name": "/etc/app.json", "UID": "10", "GID": "0",
                                              "Mode": 0o400},
                                     "ConfigID": "cid", "ConfigName": "settings-1"}]
    assert container["Mounts"] == [{"Target": "/data", "Type": "volume", "Source": "vol",
                                    "ReadOnly": False,
                                    "VolumeOptions": {"NoCopy": True, "Labels": {"k": "v"}}}]


def test_modes_default_to_one_replica_and_global_has_no_count() -> None:
    assert swarm.service_spec(service_inputs(mode=None), IMAGE_ID)["mode"] == \
        {"Replicated": {"Replicas": 1}}
    assert swarm.service_spec(service_inputs(mode={"global": True}), IMAGE_ID)["mode"] == \
        {"Global": {}}
    assert swarm.replicas_of({"global": True}) is None
    with pytest.raises(ProviderError, match="either `global` or `replicated`"):
        swarm.service_spec(service_inputs(mode={"global": True, "replicated": {"replicas": 2}}),
                           IMAGE_ID)


@pytest.mark.parametrize(("text", "ns"), [("10s", 10_000_000_000), ("1m30s", 90_000_000_000),
                                          ("5ms", 5_000_000), ("1.5h", 5_400_000_000_000),
                                          ("250", 250), (None, None)])
def test_go_durations(text: str | None, ns: int | None) -> None:
    assert swarm.duration_ns(text) == ns


def test_a_bad_duration_says_how_to_write_one() -> None:
    with pytest.raises(ProviderError, match="not a duration"):
        swarm.duration_ns("10 seconds")


def test_secret_and_config_data() -> None:
    plain = b"s3cr\xffet/+"
    assert swarm.secret_data(swarm.SECRET, {"data": base64.b64encode(plain).decode()}) == plain
    assert swarm.secret_data(swarm.SECRET, {"data": base64.urlsafe_b64encode(plain).decode()}) \
        == plain
    assert swarm.secret_data(swarm.CONFIG, {"dataRaw": "a: 1\n"}) == b"a: 1\n"
    with pytest.raises(ProviderError, match="`data` \\(base64\\) or `dataRaw`"):
        swarm.secret_data(swarm.CONFIG, {"name": "c"})


def test_data_that_is_not_base64_fails_without_quoting_it() -> None:
    with pytest.raises(ProviderError) as info:
        swarm.secret_data(swarm.SECRET, {"name": "token", "data": "hunter2!!"})
    assert "secret token" in str(info.value) and "hunter2" not in str(info.value)


# -------------------------------------------------------------------------- schema


def test_a_changed_secret_or_config_data_replaces_it() -> None:
    old = {"name": "token-1", "data": make_secret(base64.b64encode(b"one").decode())}
    new = {"name": "token-1", "data": make_secret(base64.b64encode(b"two").decode())}
    for type_ in (swarm.SECRET, swarm.CONFIG):
        result = diff_inputs(old, new, swarm.SCHEMAS[type_])
        assert (result.op, result.replace_keys) == (Op.REPLACE, ("data",))
        assert diff_inputs(old, dict(old), swarm.SCHEMAS[type_]).op == Op.SAME


def test_a_service_updates_in_place_unless_renamed() -> None:
    schema = swarm.SCHEMAS[swarm.SERVICE]
    old = service_inputs()
    scaled = service_inputs(mode={"replicated": {"replicas": 3}})
    assert diff_inputs(old, scaled, schema).op == Op.UPDATE
    env = service_inputs()
    env["taskSpec"]["containerSpec"]["env"] = {"A": "changed"}
    assert diff_inputs(old, env, schema).op == Op.UPDATE
    result = diff_inputs(old, service_inputs(name="other"), schema)
    assert (result.op, result.replace_keys) == (Op.REPLACE, ("name",))


# -------------------------------------------------------------------------- a fake engine


class FakeAPI:
    def __init__(self, info: dict[str, Any] = MANAGER) -> None:
        self._info = info
        self.calls: list[tuple[str, Any]] = []
        self.tasks_left: list[list[dict[str, Any]]] = []

    def info(self) -> dict[str, Any]:
        self.calls.append(("info", None))
        return self._info

    def create_secret(self, name: str, data: bytes, labels: Any = None) -> dict[str, str]:
        self.calls.append(("create_secret", (name, data, labels)))
        return {"ID": "secret-id"}

    def inspect_image(self, image: str) -> dict[str, str]:
        if image == "missing:1":
            raise docker_errors.ImageNotFound("no such image")
        return {"Id": IMAGE_ID}

    def create_service(self, **spec: Any) -> dict[str, str]:
        self.calls.append(("create_service", spec))
        return {"ID": "service-id"}

    def inspect_service(self, id_: str) -> dict[str, Any]:
        return {"ID": id_, "Version": {"Index": 41},
                "Spec": {"Mode": {"Replicated": {"Replicas": 5}}},
                "Endpoint": {"Ports": [{"TargetPort": 8080, "Protocol": "tcp",
                                        "PublishedPort": 30001}]}}

    def update_service(self, id_: str, version: int, **spec: Any) -> None:
        self.calls.append(("update_service", (id_, version, spec)))

    def remove_service(self, id_: str) -> None:
        self.calls.append(("remove_service", id_))

    def tasks(self, filters: Any = None) -> list[dict[str, Any]]:
        return self.tasks_left.pop(0) if self.tasks_left else []

    def containers(self, all: bool = False, filters: Any = None) -> list[dict[str, Any]]:
        return []


def test_outside_a_swarm_the_resource_and_the_fix_are_named() -> None:
    api = FakeAPI({"Swarm": {"LocalNodeState": "inactive"}})
    with pytest.raises(ProviderError) as info:
        swarm.Swarm(lambda: api, "unix:///x.sock").check(swarm.SERVICE, service_inputs())
    text = str(info.value)
    assert "service app-1234567" in text and "unix:///x.sock" in text
    assert "docker swarm init" in text and "replicator hosts up" in text
    worker = FakeAPI({"Swarm": {"LocalNodeState": "active", "ControlAvailable": False}})
    with pytest.raises(ProviderError, match="a swarm worker"):
        swarm.Swarm(lambda: worker, "h").check(swarm.SECRET, {"name": "t", "data": "eA=="})


def test_a_manager_is_asked_once_and_a_secret_input_stays_wrapped() -> None:
    api = FakeAPI()
    resources = swarm.Swarm(lambda: api, "h")
    wrapped = {"name": "token-1", "data": make_secret(base64.b64encode(b"v").decode())}
    assert resources.check(swarm.SECRET, wrapped) == wrapped
    resources.check(swarm.SERVICE, service_inputs())
    assert [c for c in api.calls if c[0] == "info"] == [("info", None)]


def test_the_docker_provider_dispatches_the_swarm_types() -> None:
    provider = DockerProvider("unix:///nonexistent.sock")
    for type_ in swarm.TYPES:
        assert provider.schema(type_) is swarm.SCHEMAS[type_]
        assert provider.autoname_property(type_) == "name"
    with pytest.raises(ProviderError, match="docker:index/plugin:Plugin is not supported"):
        provider.schema("docker:index/plugin:Plugin")


def test_create_passes_decoded_data_and_the_image_id() -> None:
    api = FakeAPI()
    resources = swarm.Swarm(lambda: api, "h")
    sid, outputs = resources.create(swarm.SECRET, {"name": "t-1", "data": "dmFsdWU=",
                                                   "labels": [{"label": "o", "value": "me"}]},
                                    lambda make: make())
    assert (sid, outputs["id"]) == ("secret-id", "secret-id")
    assert api.calls[-1] == ("create_secret", ("t-1", b"value", {"o": "me"}))
    rid, outputs = resources.create(
        swarm.SERVICE, service_inputs(endpointSpec={"ports": [{"targetPort": 8080}]}),
        lambda make: make())
    assert rid == "service-id"
    assert api.calls[-1][1]["task_template"]["ContainerSpec"]["Image"] == IMAGE_ID
    assert outputs["endpointSpec"]["ports"][0]["publishedPort"] == 30001, "as Swarm chose it"


def test_a_missing_image_is_named_and_never_pulled() -> None:
    inputs = service_inputs()
    inputs["taskSpec"]["containerSpec"]["image"] = "missing:1"
    with pytest.raises(ProviderError, match="image missing:1 is not on the Docker engine.*never pulls"):
        swarm.Swarm(FakeAPI, "h").create(swarm.SERVICE, inputs, lambda make: make())


def test_update_sends_the_current_version_and_the_whole_spec() -> None:
    api = FakeAPI()
    swarm.Swarm(lambda: api, "h").update(swarm.SERVICE, "service-id",
                                         service_inputs(mode={"replicated": {"replicas": 3}}), {})
    name, (id_, version, spec) = api.calls[-1]
    assert (name, id_, version) == ("update_service", "service-id", 41)
    assert spec["mode"] == {"Replicated": {"Replicas": 3}} and spec["fetch_current_spec"] is False


def test_delete_waits_until_the_tasks_are_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeAPI()
    api.tasks_left = [[{"ID": "t1", "ServiceID": "service-id"}],
                      [{"ID": "t1", "ServiceID": "service-id"}], []]
    monkeypatch.setattr("time.sleep", lambda _s: None)  # tenacity's wait
    swarm.Swarm(lambda: api, "h").delete(swarm.SERVICE, "service-id")
    assert api.calls == [("remove_service", "service-id")] and api.tasks_left == []


def test_converge_waits_for_the_replicas_and_the_rollout(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeAPI()
    up = {"DesiredState": "running", "Status": {"State": "running"}}
    starting = {"DesiredState": "running", "Status": {"State": "starting"}}
    api.tasks_left = [[up, starting], [up, up]]
    monkeypatch.setattr(swarm.time, "sleep", lambda _s: None)
    inputs = service_inputs(convergeConfig={"delay": "1s", "timeout": "60s"})
    swarm.Swarm(lambda: api, "h").update(swarm.SERVICE, "service-id", inputs, {})
    assert api.tasks_left == []
    api.tasks_left = [[up]]
    monkeypatch.setattr(api, "inspect_service", lambda _id: {
        "Version": {"Index": 1}, "UpdateStatus": {"State": "paused", "Message": "task failed"}})
    with pytest.raises(ProviderError, match="its update ended paused: task failed"):
        swarm.Swarm(lambda: api, "h").update(swarm.SERVICE, "service-id", inputs, {})


def test_drift_of_a_service_scaled_by_hand() -> None:
    declared = service_inputs()
    assert swarm.Swarm.drift(swarm.SERVICE, {"global": False, "replicas": 2}, declared) == ""
    assert swarm.Swarm.drift(swarm.SERVICE, {"global": False, "replicas": 5}, declared) == \
        "service runs 5 replicas, declared 2"
    assert swarm.Swarm.drift(swarm.SECRET, {}, {}) == ""


def test_a_service_scaled_by_hand_is_put_back_by_an_update_not_replaced() -> None:
    from replicator.engine.providers.docker import CONTAINER, DockerProvider

    provider = DockerProvider("unix:///nonexistent/docker.sock")
    assert provider.repairs_drift(swarm.SERVICE)
    assert not provider.repairs_drift(swarm.SECRET) and not provider.repairs_drift(CONTAINER)
