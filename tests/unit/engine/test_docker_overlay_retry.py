"""A container whose overlay attach timed out is created again; other Docker errors are not
retried (replicator/engine/providers/docker.py, issue #10). No engine: the provider's
single attempt is replaced, the retry rule around it is the real one."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from docker import errors as docker_errors

from replicator.engine.providers import docker as docker_provider
from replicator.engine.providers.docker import OVERLAY_ATTACH_ATTEMPTS, DockerProvider

ATTACH_TIMEOUT = ("500 Server Error: Internal Server Error (\"attaching to network failed, make "
                  "sure your network options are correct and check manager logs: context "
                  "deadline exceeded\")")


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> DockerProvider:
    monkeypatch.setattr(docker_provider.time, "sleep", lambda _s: None)  # tenacity's wait
    return DockerProvider("unix:///nonexistent/docker.sock")


def _failing(errors: list[Exception], calls: list[dict[str, Any]]) -> Any:
    def once(inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        calls.append(inputs)
        if errors:
            raise errors.pop(0)
        return "cid", {"name": inputs["name"]}
    return once


def test_an_overlay_attach_timeout_is_retried_until_the_container_is_made(
        provider: DockerProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    errors: list[Exception] = [docker_errors.APIError(ATTACH_TIMEOUT)] * (OVERLAY_ATTACH_ATTEMPTS - 1)
    monkeypatch.setattr(provider, "_create_container_once", _failing(list(errors), calls))
    assert provider._create_container({"name": "c1"}) == ("cid", {"name": "c1"})
    assert len(calls) == OVERLAY_ATTACH_ATTEMPTS


def test_the_last_attach_timeout_is_raised_as_is(provider: DockerProvider,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    errors = [docker_errors.APIError(ATTACH_TIMEOUT)] * (OVERLAY_ATTACH_ATTEMPTS + 1)
    monkeypatch.setattr(provider, "_create_container_once", _failing(list(errors), calls))
    with pytest.raises(docker_errors.APIError, match="attaching to network failed"):
        provider._create_container({"name": "c1"})
    assert len(calls) == OVERLAY_ATTACH_ATTEMPTS


@pytest.mark.parametrize("error", [
    docker_errors.APIError("409 Conflict: the container name is already in use"),
    docker_errors.APIError("500 Server Error: attaching to network failed: no such network"),
    RuntimeError("context deadline exceeded"),
])
def test_other_errors_are_not_retried(provider: DockerProvider, monkeypatch: pytest.MonkeyPatch,
                                      error: Exception) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(provider, "_create_container_once", _failing([error], calls))
    with pytest.raises(type(error)):
        provider._create_container({"name": "c1"})
    assert len(calls) == 1


class _FakeNetworkApi:
    """remove_network fails `busy` times with "active endpoints"; inspect shows `attached`."""

    def __init__(self, busy: int, attached: dict[str, Any]) -> None:
        self.busy, self.attached, self.removals = busy, attached, 0

    def remove_network(self, id_: str) -> None:
        self.removals += 1
        if self.removals <= self.busy:
            response = requests.Response()
            response.status_code, response.reason, response.url = 403, "Forbidden", "/networks"
            raise docker_errors.APIError("network n has active endpoints", response=response)

    def inspect_network(self, id_: str) -> dict[str, Any]:
        return {"Containers": self.attached}


def test_an_overlay_waits_out_its_load_balancer_endpoint(provider: DockerProvider) -> None:
    api = _FakeNetworkApi(busy=3, attached={"lb-n": {"Name": "n-endpoint"}})
    provider._api = api  # type: ignore[assignment]
    provider._remove_network("nid")
    assert api.removals == 4


def test_a_network_with_a_real_container_attached_is_not_waited_for(
        provider: DockerProvider) -> None:
    api = _FakeNetworkApi(busy=3, attached={"c0ffee": {"Name": "someone-else"}})
    provider._api = api  # type: ignore[assignment]
    with pytest.raises(docker_errors.APIError, match="403"):
        provider._remove_network("nid")
    assert api.removals == 1


def test_an_endpoint_that_never_goes_says_how_to_recover(
        provider: DockerProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    """No container attached, "active endpoints" to the end: a stale endpoint of Docker's."""
    monkeypatch.setattr(docker_provider, "OVERLAY_SETTLE_SECONDS", 0.05)
    api = _FakeNetworkApi(busy=10**9, attached={})
    provider._api = api  # type: ignore[assignment]
    with pytest.raises(docker_provider.ProviderError) as info:
        provider.delete(docker_provider.NETWORK, "nid", {"name": "e-itl-lan"}, {})
    text = str(info.value)
    assert "e-itl-lan" in text and "no container is attached" in text
    assert "replicator engine stop" in text and api.removals > 1


class _FakeOrphanApi(_FakeNetworkApi):
    """A network of this stack left by an earlier run (an orphan), with no container attached."""

    def networks(self, names: list[str]) -> list[dict[str, Any]]:
        return [{"Name": names[0], "Id": "nid"}]

    def inspect_network(self, id_: str) -> dict[str, Any]:
        return {"Containers": self.attached, "Labels": {
            docker_provider.STACK_LABEL: "e-ctoc", docker_provider.EDITION_LABEL: "e"}}


def test_an_orphan_network_with_a_stale_endpoint_says_how_to_recover(
        provider: DockerProvider) -> None:
    """The next `up` finds what a failed `down` left: the same advice, not Docker's bare error."""
    api = _FakeOrphanApi(busy=10**9, attached={})
    provider._api = api  # type: ignore[assignment]
    with pytest.raises(docker_provider.ProviderError) as info:
        provider.remove_orphan(docker_provider.NETWORK, "e-wan-monitoring--ovr", "e-ctoc")
    text = str(info.value)
    assert "e-wan-monitoring--ovr" in text and "no container is attached" in text
    assert "replicator engine stop" in text and api.removals == 1
