"""This project's own rule for its stacks: ports are published on loopback only.

A policy of the program, not of the engine (which runs any Pulumi program and
publishes ports where that program says): registered as a stack
transformation, it sees every container this program declares before any
engine does, under the embedded engine and under `pulumi up` alike.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi

from replicator.errors import InputError

CONTAINER = "docker:index/container:Container"
DEFAULT_IP = "0.0.0.0"  # pulumi-docker's default when a port gives no ip


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def loopback_ports_only(args: Any) -> None:
    """Refuse a container that publishes a port on anything but a loopback address."""
    if args.type_ != CONTAINER:
        return None
    for port in args.props.get("ports") or []:
        ip = _get(port, "ip") or DEFAULT_IP
        if not isinstance(ip, str):
            continue  # computed at deployment time: nothing to check here
        try:
            loopback = ipaddress.ip_address(ip).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise InputError(
                f"container {args.name} publishes port {_get(port, 'internal')} on {ip}; this "
                "project publishes ports on loopback only",
                path=f"{args.name}.ports", fix="set the port's ip to 127.0.0.1")
    return None


def apply() -> None:
    pulumi.runtime.register_stack_transformation(loopback_ports_only)
