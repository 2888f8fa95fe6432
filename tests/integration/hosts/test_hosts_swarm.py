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
