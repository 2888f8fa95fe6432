"""Physical servers: the replica's hosts against the production Games topology's servers.

The replica's physical hosts are the distinct Docker engines (``engineId``)
recorded in the state of every stack of the edition (one entry per docker
provider the stack ran with). Production's count is the model's
`Topology.production_physical_servers` (modelled for Paris 2024: no public
count exists; the figure says so). The replica must use fewer.
"""

from __future__ import annotations

from verify.conftest import fail_with


def _live_engine_ids(replica) -> dict[str, str]:
    from replicator.docker_client import api_client

    out = {}
    for host in replica.docker_hosts():
        try:
            api = api_client(host, timeout=10)
            out[host] = api.info().get("ID", "")
        except Exception as exc:  # noqa: BLE001 - reported as a finding
            out[host] = f"unreachable: {exc}"
    return out


def test_fewer_physical_servers(replica, record):
    from replicator.report.measure import engines_from_state

    hosts, undeployed = engines_from_state(replica.stacks)
    production = replica.topology.production_physical_servers
    history = [{"edition": h.edition, "name": h.name, "year": h.year,
                "physical_servers": h.physical_servers.value,
                "source": h.physical_servers.source}
               for h in replica.topology.editions_history]
    replica_count = len(hosts)
    record("servers", "physical servers", replica=replica_count,
           production=production.value, production_modelled=production.is_modelled,
           production_basis=production.basis, history=history,
           hosts=[{"engine_id": h.engine_id, "name": h.name, "host": h.host,
                   "stacks": h.stacks, "cpus": h.cpus} for h in hosts],
           reduction_percent=round(100.0 * (1 - replica_count / production.value), 1)
           if production.value else None)
    problems = []
    if undeployed:
        problems.append(f"stacks {', '.join(undeployed)} recorded no Docker engine "
                        "(never deployed)")
    if replica_count == 0:
        problems.append("no physical host recorded in the stacks' state")
    elif replica_count >= production.value:
        problems.append(f"the replica uses {replica_count} physical hosts, not fewer than "
                        f"production's {production.value}")
    fail_with("physical servers", problems)


def test_recorded_engines_are_live(replica, record):
    """Each stack's recorded engines are the ones its docker hosts answer as today."""
    live = _live_engine_ids(replica)
    problems = []
    for info in replica.stacks.values():
        recorded = {e.get("engineId") for e in info.engines.values()}
        for host in info.docker_hosts:
            now = live.get(host, "")
            if recorded and now not in recorded:
                problems.append(f"stack {info.name}: {host} answers as engine "
                                f"{now[:40] or '?'}, the state recorded {sorted(recorded)}")
    record("servers", "live engines", live=live)
    fail_with("physical servers", problems)
