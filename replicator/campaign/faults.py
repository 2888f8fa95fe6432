"""Faults a drill or an external-interface step puts on the replica, each with
its undo, on the single Docker engine (the multi-host equivalents, a whole
engine stopped or a circuit cut between hosts, are the same operations on the
site's own engine).

Every fault is a context manager: leaving it (normally, on an error or on
Ctrl-C) restores the replica, so an interrupted campaign leaves nothing broken.
Only the replica's own containers and networks are touched.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from replicator.campaign.driver import Replica, Target
from replicator.dockerd import connect

# Stands in for a consumer that answers errors: every request gets a 503.
_ERRORING_SERVER = r"""
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def _fail(self):
        self.send_response(503); self.send_header("Content-Length", "0"); self.end_headers()
    do_GET = do_POST = do_PUT = _fail
    def log_message(self, *a): pass
open("/tmp/replicator-campaign-erroring.pid", "w").write(str(os.getpid()))
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
"""


def _container(target: Target):
    return connect(target.docker_host).containers.get(target.container)


def _supervisor(target: Target, action: str) -> None:
    _container(target).exec_run(["supervisorctl", action, "replicator-app"])


@contextlib.contextmanager
def kill_container(target: Target) -> Iterator[None]:
    container = _container(target)
    container.kill()
    try:
        yield
    finally:
        container.start()


@contextlib.contextmanager
def stop_container(target: Target) -> Iterator[None]:
    container = _container(target)
    container.stop(timeout=10)
    try:
        yield
    finally:
        container.start()


@contextlib.contextmanager
def crash_process(target: Target) -> Iterator[None]:
    """SIGKILL the application process; supervisord restarts it by itself."""
    _container(target).exec_run(["supervisorctl", "signal", "KILL", "replicator-app"])
    yield


@contextlib.contextmanager
def stop_site(replica: Replica, site: str) -> Iterator[None]:
    """A site's engine gone: every container of the site frozen (docker pause)."""
    paused = []
    try:
        for target in replica.site_containers(site):
            container = _container(target)
            if container.status == "running":
                container.pause()
                paused.append(container)
        yield
    finally:
        for container in paused:
            with contextlib.suppress(Exception):
                container.unpause()


@contextlib.contextmanager
def cut_circuits(target: Target) -> Iterator[None]:
    """The container's inter-site circuits cut (disconnected), then joined again
    with the same address and aliases."""
    client = connect(target.docker_host)
    container = client.containers.get(target.container)
    attached = container.attrs["NetworkSettings"]["Networks"]
    cut = {name: info for name, info in attached.items() if "-wan-" in name}
    for name in cut:
        client.networks.get(name).disconnect(container)
    try:
        yield
    finally:
        for name, info in cut.items():
            aliases = [a for a in info.get("Aliases") or [] if a != container.id[:12]]
            ipam = info.get("IPAMConfig") or {}
            client.networks.get(name).connect(container, aliases=aliases,
                                              ipv4_address=ipam.get("IPv4Address"))


@contextlib.contextmanager
def consumer_down(target: Target) -> Iterator[None]:
    _supervisor(target, "stop")
    try:
        yield
    finally:
        _supervisor(target, "start")


@contextlib.contextmanager
def consumer_slow(target: Target) -> Iterator[None]:
    """A consumer that hangs: its container frozen, deliveries time out and retry."""
    container = _container(target)
    container.pause()
    try:
        yield
    finally:
        container.unpause()


@contextlib.contextmanager
def consumer_erroring(target: Target) -> Iterator[None]:
    """The consumer's port answers 503 to everything for a while."""
    container = _container(target)
    _supervisor(target, "stop")
    container.exec_run(["python3", "-c", _ERRORING_SERVER, str(target.port)], detach=True)
    try:
        yield
    finally:
        container.exec_run(["sh", "-c", "kill $(cat /tmp/replicator-campaign-erroring.pid) "
                                        "&& rm -f /tmp/replicator-campaign-erroring.pid"])
        time.sleep(0.3)
        _supervisor(target, "start")
