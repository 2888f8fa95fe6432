"""Shared builders for the verifier's unit tests: a replica without Docker.

The test topology of tests/integration/projects.py is written to a temp
project; the stacks' outputs are made up the way the Pulumi program writes
them, and `observed(expectation)` is a Docker observation that matches it
exactly (each test then breaks one thing).
"""

from __future__ import annotations

import copy
import secrets
from pathlib import Path

from tests.integration.projects import make_project
from verify.expect import Expectation, Replica, StackInfo
from verify.observe import Attachment, Observation, ObservedContainer, ObservedNetwork

REPO = Path(__file__).resolve().parents[3]
HOST = "unix:///fake/docker.sock"
IMAGE_IDS = {"app": "sha256:" + "a" * 64, "web": "sha256:" + "b" * 64, "db": "sha256:" + "d" * 64}


def make_replica(tmp_path: Path, stacks: tuple[str, ...] = ("ctoc", "itl", "toc"),
                 engine_ids: dict[str, str] | None = None) -> Replica:
    from replicator.topology import load_edition, load_stack_settings

    edition = "it" + secrets.token_hex(3)
    project = make_project(tmp_path / edition, REPO, edition, [])
    topology = load_edition(project.root, edition)
    infos = {}
    for site in ("ctoc", "itl", "toc"):
        stack = f"{edition}-{site}"
        settings = load_stack_settings(project.root, stack)
        names = [n for d in topology.deployed_services(site=site, venues=settings.venues)
                 for n in d.container_names(edition)]
        outputs = {"dockerHost": HOST, "edition": edition, "site": site, "stack": stack,
                   "containers": {n: {"id": n, "service": "", "networks": []} for n in names}}
        engine = (engine_ids or {}).get(site, "ENGINE-A")
        infos[stack] = StackInfo(stack, site, settings, outputs,
                                 {"docker-" + site: {"engineId": engine, "host": HOST,
                                                     "name": "host-a", "cpus": 2}})
    selected = tuple(f"{edition}-{s}" for s in stacks)
    return Replica(project.root, project.workdir, edition, topology, infos, selected)


def observed(expectation: Expectation) -> Observation:
    """An observation exactly as the expectation says (every container of the edition)."""
    obs = Observation()
    ip = iter(range(2, 250))
    for c in expectation.all_containers.values():
        nets = {n: Attachment(n, f"10.9.{next(ip)}.2", (c.alias,)) for n in sorted(c.networks)}
        obs.containers[c.name] = ObservedContainer(
            name=c.name, id=c.name, docker_host=c.docker_host, status="running", running=True,
            image_id=IMAGE_IDS[c.tier], labels=dict(c.labels), networks=nets)
        obs.image_ids[(c.docker_host, c.image)] = IMAGE_IDS[c.tier]
    networks = {n for c in expectation.all_containers.values() for n in c.networks}
    exp_nets = {n.name: n for n in expectation.networks}
    for n in sorted(networks):
        e = exp_nets.get(n)
        members = tuple(sorted(c.name for c in obs.containers.values() if n in c.networks))
        obs.networks[n] = ObservedNetwork(
            name=n, id=n, docker_host=HOST, internal=e.internal if e else not n.endswith("-edge"),
            labels={}, subnets=(e.subnet,) if e and e.subnet else (), containers=members)
    return obs


def clone(obs: Observation) -> Observation:
    return copy.deepcopy(obs)
