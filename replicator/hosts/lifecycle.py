"""`hosts up`, `hosts down`, `hosts list`: the simulated hosts of an edition, end to end.

Each step checks what exists before making anything, and the record of what
was made is saved before it is made, so `hosts up` is a no-op the second time
and can be re-run after being killed; `hosts down` undoes exactly the record.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from replicator.atomic import write_atomic
from replicator.dockerd import DEFAULT_DOCKER_HOST
from replicator.errors import InputError
from replicator.hosts import daemon, images, netns, swarm
from replicator.hosts.model import (
    HostsRecord,
    SimHost,
    hosts_dir,
    list_records,
    load_record,
    plan_hosts,
    save_record,
)
from replicator.hosts.override import HostOverride, StackOverride, override_path
from replicator.inputs import check_edition_name
from replicator.stacks import edition_stacks
from replicator.topology.loader import list_editions


# What the lifecycle tells its caller: (text, is_warning). replicator.api turns it into
# HostsMessage events; nothing here prints.
Report = Callable[[str, bool], None]


def _quiet(text: str, warning: bool) -> None:
    """The default report: say nothing."""


@contextlib.contextmanager
def _edition_lock(project_root: Path, edition: str) -> Iterator[None]:
    directory = hosts_dir(project_root, edition)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def hosts_up(project_root: Path, edition: str, *, per_site: int = 1,
             report: Report = _quiet) -> HostsRecord:
    if not 1 <= per_site <= 8:
        raise InputError(f"--per-site {per_site} is out of range", fix="give 1 to 8")
    stacks = edition_stacks(project_root, edition)  # owner first
    sites = [s.settings.site for s in stacks]
    with _edition_lock(project_root, edition):
        record = _planned(project_root, edition, sites, per_site)
        save_record(project_root, record)  # before anything exists: down can follow it
        netns.ensure_bridge(record.lan_namespace)
        prefix = int(record.subnet.rsplit("/", 1)[1])
        for host in record.hosts:
            netns.ensure_namespace(host.namespace)
            netns.ensure_host_link(record.lan_namespace, host.namespace, host.veth_lan,
                                   host.address, prefix)
            host.pid = daemon.start(host)
            save_record(project_root, record)
            report(f"host {host.name}: dockerd pid {host.pid} on {host.docker_host} "
                   f"({host.address})", False)
        loaded = images.copy_images(DEFAULT_DOCKER_HOST, record.hosts, hosts_dir(project_root,
                                                                                  edition))
        if loaded:
            report(f"images loaded into {', '.join(loaded)}", False)
        record.swarm_id = swarm.form(record)
        record.encryption, record.encryption_reason = netns.esp_support()
        save_record(project_root, record)
        if not record.encryption:
            report("inter-site overlay networks will not be encrypted: "
                   f"{record.encryption_reason}", True)
        _write_override(project_root, record, [s.name for s in stacks])
    return record


def _planned(project_root: Path, edition: str, sites: list[str], per_site: int) -> HostsRecord:
    plan = plan_hosts(project_root, edition, sites, per_site, manager_sites=sites)
    old = load_record(project_root, edition)
    if old is None:
        return plan
    if [h.name for h in old.hosts] != [h.name for h in plan.hosts]:
        raise InputError(
            f"edition {edition} already has simulated hosts {', '.join(h.name for h in old.hosts)}",
            fix=f"`replicator hosts down --edition {edition}` first to change --per-site")
    return old


def _write_override(project_root: Path, record: HostsRecord, stacks: list[str]) -> None:
    entries = {}
    for stack in stacks:
        site = stack.removeprefix(f"{record.edition}-")
        engines = [h.docker_host for h in record.site_hosts(site)]
        entries[stack] = StackOverride(dockerHost=engines[0],
                                       dockerHosts=engines if len(engines) > 1 else None,
                                       wanEncrypted=record.encryption)
    override = HostOverride(edition=record.edition, stacks=entries)
    write_atomic(override_path(project_root, record.edition),
                 override.model_dump_json(indent=2, exclude_none=True))


# --------------------------------------------------------------------------- down


def hosts_down(project_root: Path, edition: str | None, *,
               report: Report = _quiet) -> list[str]:
    """Undo `hosts up` for one edition (or every edition with hosts). Returns what went."""
    if edition:
        check_edition_name(edition)
    records = ([r for r in [load_record(project_root, edition)] if r] if edition
               else list_records(project_root))
    if edition and not records and edition not in list_editions(project_root):
        raise InputError(f"no edition {edition!r} (no stacks/topology/{edition}.yaml) and no "
                         "simulated hosts for it", path="--edition",
                         fix="use one of: " + (", ".join(list_editions(project_root)) or "none")
                         + ", or leave --edition out to remove every edition's hosts")
    gone: list[str] = []
    for record in records:
        with _edition_lock(project_root, record.edition):
            override_path(project_root, record.edition).unlink(missing_ok=True)
            _leave_swarm(record)
            for host in record.hosts:
                gone.extend(_tear_down_host(host, report))
            if netns.delete_namespace(record.lan_namespace):
                gone.append(f"namespace {record.lan_namespace}")
            shutil.rmtree(hosts_dir(project_root, record.edition), ignore_errors=True)
        report(f"edition {record.edition}: simulated hosts removed", False)
    return gone


def _leave_swarm(record: HostsRecord) -> None:
    # Workers first, then the managers: the swarm never loses quorum while nodes remain.
    for host in sorted(record.hosts, key=lambda h: h.manager):
        if daemon.running_pid(host) is not None and daemon.answers(host):
            with contextlib.suppress(Exception):  # a broken swarm must not block clean-up
                swarm.leave(host)


def _tear_down_host(host: SimHost, report: Report) -> list[str]:
    gone = []
    pid = daemon.stop(host)
    if pid is not None:
        gone.append(f"dockerd {pid}")
        report(f"host {host.name}: stopped dockerd (pid {pid})", False)
    for left in daemon.leftover_pids(host):  # containerd of a dockerd that was killed
        with contextlib.suppress(ProcessLookupError):
            subprocess.run(["kill", str(left)], check=False)
            gone.append(f"process {left}")
    _unmount_under(host.exec_root, host.data_root)
    gone.extend(f"cgroup {p}" for p in daemon.remove_cgroups(host))
    if netns.delete_namespace(host.namespace):
        gone.append(f"namespace {host.namespace}")
    shutil.rmtree(host.exec_root, ignore_errors=True)
    Path(host.socket).unlink(missing_ok=True)
    return gone


def _unmount_under(*roots: str) -> None:
    """Lazily unmount what a killed dockerd left mounted under its own directories."""
    with open("/proc/self/mountinfo") as fh:
        points = [line.split()[4] for line in fh]
    for point in sorted(points, key=len, reverse=True):
        if any(point == r or point.startswith(r.rstrip("/") + "/") for r in roots):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)


# --------------------------------------------------------------------------- list


@dataclass
class HostRow:
    edition: str
    host: str
    site: str
    engine: str
    address: str
    role: str
    state: str
    pid: int | None
    stacks: list[str]

    def to_json(self) -> dict[str, object]:
        return self.__dict__.copy()


def hosts_list(project_root: Path) -> list[HostRow]:
    rows = []
    for record in list_records(project_root):
        override = _read_override_quietly(project_root, record.edition)
        for host in record.hosts:
            pid = daemon.running_pid(host)
            state = "down" if pid is None else ("up" if daemon.answers(host) else "starting")
            users = sorted(s for s, o in (override.stacks.items() if override else [])
                           if host.docker_host in (o.dockerHosts or [o.dockerHost]))
            rows.append(HostRow(record.edition, host.name, host.site, host.docker_host,
                                host.address, "manager" if host.manager else "worker", state,
                                pid, users))
    return rows


def _read_override_quietly(project_root: Path, edition: str) -> HostOverride | None:
    from replicator.hosts.override import read_override

    try:
        return read_override(project_root, edition)
    except InputError:
        return None
