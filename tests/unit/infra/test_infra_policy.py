"""This project's port policy (infra/components/policy.py), outside the engine."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pulumi_docker as docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "infra"))

from components.policy import CONTAINER, loopback_ports_only  # noqa: E402

from replicator.errors import ExitCode, InputError  # noqa: E402


def args(*ports: object, type_: str = CONTAINER) -> SimpleNamespace:
    return SimpleNamespace(type_=type_, name="web", props={"ports": list(ports)})


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1", "127.0.0.2"])
def test_loopback_ports_pass(ip: str) -> None:
    assert loopback_ports_only(args(docker.ContainerPortArgs(internal=80, ip=ip))) is None
    assert loopback_ports_only(args({"internal": 80, "ip": ip})) is None


@pytest.mark.parametrize("port", [docker.ContainerPortArgs(internal=80, ip="0.0.0.0"),
                                  docker.ContainerPortArgs(internal=80),
                                  {"internal": 80, "ip": "10.0.0.1"}])
def test_any_other_address_is_refused_naming_the_container(port: object) -> None:
    with pytest.raises(InputError, match="container web publishes port 80") as info:
        loopback_ports_only(args(port))
    assert info.value.exit_code == ExitCode.BAD_INPUT
    assert "127.0.0.1" in (info.value.fix or "")


def test_other_types_are_not_checked() -> None:
    network = args({"internal": 80, "ip": "0.0.0.0"}, type_="docker:index/network:Network")
    assert loopback_ports_only(network) is None
