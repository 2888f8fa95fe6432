"""What `replicator hosts up` made for an edition, kept in `.replicator/hosts/<edition>/hosts.json`.

The record is written (atomically) before each thing is made, so a `hosts up`
killed at any point leaves a record that `hosts down` can follow, and a second
`hosts up` finds what is already there. Every name is derived from the edition
and the host, so the same edition always yields the same namespaces, sockets
and directories.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from replicator.atomic import write_atomic
from replicator.errors import InputError
from replicator.inputs.docker_host import is_local_docker_host
from replicator.paths import work_dir

# The hosts' private LAN. It lives only inside the hosts' namespaces, so it may repeat
# across editions; it stays clear of the editions' site subnets (10.241/16), the WAN
# supernet (10.240/16) and Docker's default pools (172.17/16 and up).
HOSTS_SUBNET = ipaddress.ip_network("10.239.0.0/24")
FIRST_HOST_OFFSET = 10
RUN_DIR = Path("/run/rh")  # short: unix socket paths are limited to 107 bytes
SWARM_PORT = 2377


class SimHost(BaseModel):
    """One simulated machine: a network namespace with its own dockerd."""

    model_config = ConfigDict(extra="forbid")

    name: str  # itl, or itl1, itl2 ... with several hosts per site
    site: str
    index: int  # 0-based, over the whole edition: gives the address and the veth name
    namespace: str
    address: str
    socket: str
    data_root: str
    exec_root: str
    pidfile: str
    logfile: str
    cgroup_parent: str
    manager: bool
    pid: int | None = None  # the dockerd we started, once started

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def veth_lan(self) -> str:
        return f"vh{self.index}"  # the host's veth end in the lan namespace (<= 15 chars)


class HostsRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edition: str
    lan_namespace: str
    subnet: str
    hosts: list[SimHost]
    swarm_id: str | None = None
    encryption: bool = False
    encryption_reason: str = ""

    def host(self, name: str) -> SimHost:
        return next(h for h in self.hosts if h.name == name)

    def site_hosts(self, site: str) -> list[SimHost]:
        return [h for h in self.hosts if h.site == site]


def hosts_dir(project_root: Path, edition: str) -> Path:
    return work_dir(project_root) / "hosts" / edition


def record_path(project_root: Path, edition: str) -> Path:
    return hosts_dir(project_root, edition) / "hosts.json"


def plan_hosts(project_root: Path, edition: str, sites: list[str], per_site: int,
               manager_sites: list[str]) -> HostsRecord:
    """The hosts of an edition: `per_site` per site, the first of each site a swarm manager."""
    base = hosts_dir(project_root, edition)
    hosts: list[SimHost] = []
    addresses = list(HOSTS_SUBNET.hosts())
    for site in sites:
        for n in range(1, per_site + 1):
            name = site if per_site == 1 else f"{site}{n}"
            index = len(hosts)
            ns = f"rh-{edition}-{name}"
            run = RUN_DIR / f"{edition}-{name}"
            hosts.append(SimHost(
                name=name, site=site, index=index, namespace=ns,
                address=str(addresses[FIRST_HOST_OFFSET + index - 1]),
                socket=str(run) + ".sock", exec_root=str(run),
                data_root=str(base / name / "data"), pidfile=str(base / name / "dockerd.pid"),
                logfile=str(base / name / "dockerd.log"), cgroup_parent=ns,
                manager=n == 1 and site in manager_sites,
            ))
    return HostsRecord(edition=edition, lan_namespace=f"rh-{edition}-lan",
                       subnet=str(HOSTS_SUBNET), hosts=hosts)


def load_record(project_root: Path, edition: str) -> HostsRecord | None:
    path = record_path(project_root, edition)
    try:
        return HostsRecord.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, ValidationError) as exc:
        raise InputError(f"the hosts record is not readable: {exc}".splitlines()[0], file=path,
                         fix="stop what it names by hand, then delete the file") from None


def save_record(project_root: Path, record: HostsRecord) -> None:
    record_path(project_root, record.edition).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(record_path(project_root, record.edition), record.model_dump_json(indent=2))


def list_records(project_root: Path) -> list[HostsRecord]:
    root = work_dir(project_root) / "hosts"
    found = [load_record(project_root, p.parent.name) for p in sorted(root.glob("*/hosts.json"))]
    return [r for r in found if r is not None]


def engine_names(project_root: Path) -> dict[str, str]:
    """Docker host URL -> the simulated host behind it, for every edition with hosts."""
    return {h.docker_host: h.name for r in list_records(project_root) for h in r.hosts}


def engine_label(docker_host: str, names: dict[str, str]) -> str:
    """A short name for an engine: its simulated host, `local`, or the address's host part."""
    if docker_host in names:
        return names[docker_host]
    if is_local_docker_host(docker_host):
        return "local"
    return docker_host.split("://", 1)[-1].split("@")[-1].split(":")[0] or docker_host
