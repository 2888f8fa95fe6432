"""The Docker Swarm joining the simulated hosts' engines, through docker-py.

The first host of each site is a manager (so a site's own engine can create the
overlay networks it owns: swarm networks are made on managers), the others are
workers. The WAN owner's host initialises the swarm; a second `hosts up` finds
every engine already in it and changes nothing.
"""

from __future__ import annotations

from typing import Any

from replicator.dockerd import connect
from replicator.hosts.model import SWARM_PORT, HostsRecord, SimHost


def _state(client: Any) -> dict[str, Any]:
    return client.info().get("Swarm") or {}


def form(record: HostsRecord) -> str:
    """Init on the first manager, join the others. Returns the swarm's id."""
    first = next(h for h in record.hosts if h.manager)
    lead = connect(first.docker_host)
    try:
        if _state(lead).get("LocalNodeState") != "active":
            lead.swarm.init(advertise_addr=first.address,
                            listen_addr=f"{first.address}:{SWARM_PORT}")
        lead.swarm.reload()
        tokens = lead.swarm.attrs["JoinTokens"]
        swarm_id = str(lead.swarm.attrs["ID"])
    finally:
        lead.close()
    for host in record.hosts:
        if host is first:
            continue
        _join(host, first, tokens["Manager" if host.manager else "Worker"])
    return swarm_id


def _join(host: SimHost, lead: SimHost, token: str) -> None:
    client = connect(host.docker_host)
    try:
        if _state(client).get("LocalNodeState") == "active":
            return
        client.swarm.join(remote_addrs=[f"{lead.address}:{SWARM_PORT}"], join_token=token,
                          advertise_addr=host.address, listen_addr=f"{host.address}:{SWARM_PORT}")
    finally:
        client.close()


def nodes(host: SimHost) -> list[dict[str, str]]:
    """The swarm's nodes as a manager sees them (hostname, role, state, availability)."""
    client = connect(host.docker_host, timeout=10)
    try:
        return [{"id": n.id, "hostname": n.attrs["Description"]["Hostname"],
                 "role": n.attrs["Spec"]["Role"], "state": n.attrs["Status"]["State"],
                 "address": n.attrs["Status"].get("Addr", "")}
                for n in client.nodes.list()]
    finally:
        client.close()


def leave(host: SimHost) -> bool:
    """Leave the swarm (forced: the last manager may leave too). False if not in one."""
    client = connect(host.docker_host, timeout=30)
    try:
        if _state(client).get("LocalNodeState") not in ("active", "pending", "error"):
            return False
        client.swarm.leave(force=True)
        return True
    finally:
        client.close()
