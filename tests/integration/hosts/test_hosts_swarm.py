"""Three simulated hosts (one per site) joined by Docker Swarm, on the real kernel and engines.

`hosts up`, a deploy across the three engines, a cross-host link probe over the
overlay circuit, an isolation probe, a host whose engine stops (status names it,
`up` converges once it is back), then `down` + `hosts down` leaving no
namespace, no dockerd, no cgroup, no iptables rule of ours.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import docker
import pytest

from tests.integration.projects import TestProject

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

PROBE_PORT = 18999
PROBE = ("import sys, urllib.request as u\n"
         "try:\n    print(u.urlopen(sys.argv[1], timeout=3).status)\n"
         "except Exception as e:\n    print(type(e).__name__, e); sys.exit(1)\n")


def _record(project: TestProject) -> dict:
    return json.loads((project.workdir / "hosts" / project.edition / "hosts.json").read_text())


def _engine(record: dict, site: str) -> docker.DockerClient:
    host = next(h for h in record["hosts"] if h["site"] == site)
    return docker.DockerClient(base_url=f"unix://{host['socket']}", timeout=60)


def _get(client: docker.DockerClient, container: str, url: str) -> tuple[int, str]:
    code, out = client.containers.get(container).exec_run(["python3", "-c", PROBE, url])
    return code, out.decode(errors="replace").strip()


def _status(project: TestProject) -> tuple[int, list[dict], str]:
    proc = project.cli("status", "--edition", project.edition, "--json")
    return proc.returncode, json.loads(proc.stdout or "[]"), proc.stderr


def _cross_host_probes(project: TestProject, record: dict) -> None:
    e = project.edition
    itl, toc, ctoc = (_engine(record, s) for s in ("itl", "toc", "ctoc"))
    # A declared link, ovr (toc) -> odf-distributor (itl): carried by an overlay circuit.
    circuit = ctoc.networks.get(f"{e}-wan-odf-distributor--ovr")
    assert (circuit.attrs["Driver"], circuit.attrs["Internal"]) == ("overlay", True)
    for target in (f"{e}-itl-odf-distributor-app-1", f"{e}-itl-accreditation-app-1"):
        itl.containers.get(target).exec_run(
            ["python3", "-m", "http.server", str(PROBE_PORT)], detach=True)
    url = f"http://odf-distributor-app:{PROBE_PORT}/"
    for _ in range(20):  # the server needs a moment to listen
        code, out = _get(toc, f"{e}-toc-ovr-aqc-app-1", url)
        if code == 0:
            break
        time.sleep(0.5)
    assert (code, out) == (0, "200"), out
    # No declared link between ovr (toc) and accreditation (itl): no name, no address reaches.
    code, out = _get(toc, f"{e}-toc-ovr-aqc-app-1", f"http://accreditation-app:{PROBE_PORT}/")
    assert code != 0, out
    acc = itl.containers.get(f"{e}-itl-accreditation-app-1")
    for net in acc.attrs["NetworkSettings"]["Networks"].values():
        code, out = _get(toc, f"{e}-toc-ovr-aqc-app-1", f"http://{net['IPAddress']}:{PROBE_PORT}/")
        assert code != 0, f"ovr reached accreditation at {net['IPAddress']}: {out}"


def _host_down_and_back(project: TestProject, record: dict) -> None:
    toc = next(h for h in record["hosts"] if h["site"] == "toc")
    os.kill(toc["pid"], signal.SIGTERM)
    for _ in range(120):
        if not Path(f"/proc/{toc['pid']}").exists():
            break
        time.sleep(0.5)
    code, rows, stderr = _status(project)
    assert code == 3, stderr
    assert "host toc" in stderr and f"{project.edition}-toc-ovr-aqc-app-1" in stderr
    assert {r["state"] for r in rows if r["site"] == "toc"} == {"engine down"}
    project.cli("hosts", "up", "--edition", project.edition, check=True, timeout=600)
    project.cli("up", "--edition", project.edition, "--yes", "--refresh", check=True, timeout=900)
    code, rows, stderr = _status(project)
    assert code == 0 and {r["state"] for r in rows} == {"running"}, stderr


def _nothing_left(edition: str) -> None:
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"rh-{edition}-" not in netns
    mark = f"/run/rh/{edition}-".encode()
    procs = [p.name for p in Path("/proc").iterdir() if p.name.isdigit()
             and mark in _cmdline(p)]
    assert procs == [], f"processes of the hosts still run: {procs}"
    assert list(Path("/sys/fs/cgroup").glob(f"*/rh-{edition}-*")) == []
    assert list(Path("/run/rh").glob(f"{edition}-*")) == []
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert f"rh-{edition}" not in rules and "10.239.0." not in rules


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def test_three_hosts_deploy_link_isolate_fail_and_leave_nothing(project: TestProject) -> None:
    e = project.edition
    try:
        project.cli("hosts", "up", "--edition", e, check=True, timeout=900)
        record = _record(project)
        assert [h["site"] for h in record["hosts"]] == ["ctoc", "itl", "toc"]  # owner first
        again = project.cli("hosts", "up", "--edition", e, check=True, timeout=300)
        assert "images loaded" not in again.stderr
        assert [h["pid"] for h in _record(project)["hosts"]] == [h["pid"] for h in record["hosts"]]
        listed = json.loads(project.cli("hosts", "list", "--json", check=True).stdout)
        assert {(r["host"], r["state"], tuple(r["stacks"])) for r in listed if r["edition"] == e} \
            == {(s, "up", (f"{e}-{s}",)) for s in ("ctoc", "itl", "toc")}

        project.cli("up", "--edition", e, "--yes", check=True, timeout=900)
        code, rows, stderr = _status(project)
        assert code == 0, stderr
        assert len({r["engine"] for r in rows}) == 3
        # Three physical hosts: three engine IDs (not the main engine's, shared through
        # /etc/docker/key.json).
        ids = {_engine(record, s).info()["ID"] for s in ("ctoc", "itl", "toc")}
        assert len(ids) == 3 and docker.from_env().info()["ID"] not in ids
        assert {r["site"]: r["host"] for r in rows} == {"ctoc": "ctoc", "itl": "itl", "toc": "toc"}
        _cross_host_probes(project, record)
        _host_down_and_back(project, _record(project))
    finally:
        project.cli("down", "--edition", e, "--yes", timeout=900)
        project.cli("hosts", "down", "--edition", e, timeout=300)
    _nothing_left(e)
    assert not (project.workdir / "hosts" / e).exists()


def _spread_project(project_factory) -> tuple[TestProject, dict[str, str]]:
    """A project whose ITL containers land on both of its two hosts (placement hashes the
    names, and the edition name is random: a bounded number of tries finds one)."""
    from replicator import naming
    from replicator.hosts.model import plan_hosts
    from replicator.topology import load_edition

    for _ in range(10):
        project = project_factory()
        e = project.edition
        plan = plan_hosts(project.root, e, ["ctoc", "itl", "toc"], 2, ["ctoc", "itl", "toc"])
        engines = [h.docker_host for h in plan.site_hosts("itl")]
        placed = {c: naming.place(c, engines)
                  for d in load_edition(project.root, e).deployed_services(site="itl")
                  for c in d.container_names(e)}
        if len(set(placed.values())) == 2:
            return project, placed
    raise AssertionError("no edition name in 10 spread the ITL over both hosts")


def test_a_site_spread_over_two_hosts_runs_each_container_where_placed(project_factory) -> None:
    project, placed = _spread_project(project_factory)
    e = project.edition
    # Six simulated hosts must still be fewer than production's servers: model 3 per service
    # (the test topology's default of 1 makes 6, which the servers check rightly fails).
    topology = project.edit_topology()
    for suite in topology["suites"]:
        for service in suite["services"]:
            service["production"]["physical_servers"]["value"] = 3
    project.write_topology(topology)
    try:
        project.cli("hosts", "up", "--edition", e, "--per-site", "2", check=True, timeout=900)
        record = _record(project)
        assert len(record["hosts"]) == 6
        project.cli("up", "--edition", e, "--yes", check=True, timeout=900)
        code, rows, stderr = _status(project)
        assert code == 0, stderr
        itl = {r["container"]: r for r in rows if r["site"] == "itl"}
        assert {c: r["engine"] for c, r in itl.items()} == placed
        assert {r["state"] for r in itl.values()} == {"running"}

        # The ITL's LAN is an overlay made on its first host (a manager), and it carries
        # traffic between the ITL's two hosts: wrs web -> wrs app, wherever each landed.
        by_socket = {f"unix://{h['socket']}": h for h in record["hosts"]}
        first = next(h for h in record["hosts"] if h["name"] == "itl1")
        assert first["manager"]
        lan = docker.DockerClient(base_url=f"unix://{first['socket']}", timeout=60).networks.get(
            f"{e}-itl-lan")
        assert (lan.attrs["Driver"], lan.attrs["Internal"]) == ("overlay", True)
        source, target = f"{e}-itl-wrs-web-1", f"{e}-itl-wrs-app-1"
        if placed[source] == placed[target]:  # pick a pair that crosses hosts
            source = next(c for c in placed if placed[c] != placed[target])
        clients = {s: docker.DockerClient(base_url=s, timeout=60) for s in set(placed.values())}
        clients[placed[target]].containers.get(target).exec_run(
            ["python3", "-m", "http.server", str(PROBE_PORT)], detach=True)
        for _ in range(20):
            code, out = _get(clients[placed[source]], source,
                             f"http://wrs-app:{PROBE_PORT}/")
            if code == 0:
                break
            time.sleep(0.5)
        assert (code, out) == (0, "200"), f"{source} on {by_socket[placed[source]]['name']}: {out}"

        # Structure verification: each container on its placed engine, links, isolation.
        verified = project.cli("verify", "--edition", e, "--level", "structure", timeout=900)
        assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    finally:
        project.cli("down", "--edition", e, "--yes", timeout=900)
        project.cli("hosts", "down", "--edition", e, timeout=300)
    _nothing_left(e)
