"""The one way replicator makes a Docker client: every API call has a timeout.

docker-py waits forever unless given `timeout=`; a dockerd whose network calls
hang once kept `replicator up` in `create_network` for 13 minutes. Clients made
here bound every call (REPLICATOR_DOCKER_TIMEOUT seconds, default 120) and a
call that runs out raises `DockerTimeoutError` (exit 3) naming the engine, the
call and what to do. Use `api_client` (low level) or `docker_client` (the
high-level `DockerClient`, whose `.api` is the same bounded client).
"""

from __future__ import annotations

import re
from typing import Any

import docker
import requests
from docker import errors as docker_errors

from replicator.errors import EngineUnavailableError, ReplicatorError
from replicator.inputs.env import DOCKER_TIMEOUT_ENV, docker_timeout


class DockerTimeoutError(EngineUnavailableError):
    """A Docker API call got no answer within the timeout (exit 3)."""


def timeout_error(host: str, call: str, seconds: float) -> DockerTimeoutError:
    return DockerTimeoutError(
        f"the Docker engine at {host} did not answer {call} within {seconds:g} s",
        fix=f"check that dockerd is alive (`docker -H {host} info`) and restart it if its "
        f"calls hang; for a slow engine raise {DOCKER_TIMEOUT_ENV} (seconds); then run the "
        "same command again",
    )


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    # urllib3's ReadTimeoutError sometimes arrives wrapped in a ConnectionError.
    return isinstance(exc, requests.exceptions.ConnectionError) and "timed out" in str(exc)


class BoundedAPIClient(docker.APIClient):
    """docker-py's APIClient whose timeouts say which engine and which call."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        # docker-py rewrites base_url for unix sockets (http+docker://localhost):
        # keep what the user wrote, for messages. Set first: __init__ already calls.
        self.host = base_url
        super().__init__(base_url=base_url, **kwargs)

    def _bounded(self, method: str, send: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return send(url, *args, **kwargs)
        except requests.exceptions.RequestException as exc:
            if not _is_timeout(exc):
                raise
            path = url.split(self.base_url, 1)[-1].split("?", 1)[0]
            path = re.sub(r"^/v[0-9.]+(?=/)", "", path) or "/"  # the API version says nothing
            raise timeout_error(self.host, f"{method} {path}",
                                float(self.timeout)) from None

    def _get(self, url: str, **kwargs: Any) -> Any:
        return self._bounded("GET", super()._get, url, **kwargs)

    def _post(self, url: str, **kwargs: Any) -> Any:
        return self._bounded("POST", super()._post, url, **kwargs)

    def _put(self, url: str, **kwargs: Any) -> Any:
        return self._bounded("PUT", super()._put, url, **kwargs)

    def _delete(self, url: str, **kwargs: Any) -> Any:
        return self._bounded("DELETE", super()._delete, url, **kwargs)


class BoundedDockerClient(docker.DockerClient):
    """docker-py's DockerClient on a `BoundedAPIClient`."""

    def __init__(self, api: BoundedAPIClient) -> None:
        # No super().__init__: it would make a second, unbounded APIClient.
        self.api = api


def client_options(docker_host: str) -> dict[str, Any]:
    """docker-py options an address needs beyond `base_url`.

    tcp:// uses TLS when DOCKER_TLS_VERIFY / DOCKER_CERT_PATH say so (as the docker
    CLI reads them); ssh:// goes through the `ssh` binary (no paramiko needed).
    """
    if docker_host.startswith("tcp://"):
        from docker.utils import kwargs_from_env

        tls = kwargs_from_env().get("tls")
        return {"tls": tls} if tls else {}
    if docker_host.startswith("ssh://"):
        return {"use_ssh_client": True}
    return {}


def api_client(host: str, *, timeout: float | None = None, **kwargs: Any) -> BoundedAPIClient:
    """A low-level client for `host`, API version negotiated, every call bounded.

    Raises DockerTimeoutError if the engine does not answer the negotiation in
    time, EngineUnavailableError if nothing answers at all.
    """
    seconds = timeout if timeout is not None else docker_timeout()
    kwargs = {"version": "auto", **client_options(host), **kwargs}
    try:
        client = BoundedAPIClient(host, timeout=seconds, **kwargs)
    except ReplicatorError:
        raise
    except docker_errors.DockerException as exc:
        cause = exc.__context__
        if isinstance(cause, DockerTimeoutError):
            raise cause from None
        if cause is not None and _is_timeout(cause):
            raise timeout_error(host, "GET /version", seconds) from None
        raise EngineUnavailableError(
            f"no Docker engine answers on {host}: {exc}",
            fix="start it with `replicator engine start` (the local one), or check the "
            "address and that the engine behind it runs",
        ) from None
    return client


def docker_client(host: str, *, timeout: float | None = None, **kwargs: Any) -> BoundedDockerClient:
    """A high-level client for `host` (containers, networks, ...), every call bounded."""
    return BoundedDockerClient(api_client(host, timeout=timeout, **kwargs))
