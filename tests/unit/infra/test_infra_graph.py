"""The program's resource graph for the real stacks, under Pulumi's mocks.

Expectations are derived from the topology model (stacks/topology/paris2024.yaml)
and the stack files, not from the components under test.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from infra_mocks import (
    CONTAINER,
    NETWORK,
    ORGANIZATION,
    PROJECT,
    PROJECT_ROOT,
    PROVIDER,
    REMOTE_IMAGE,
    STACK_REFERENCE,
    VOLUME,
    Graph,
    run_program,
    stack_config,
    wan_outputs,
)

from replicator.images.recipes import deployed_image_ref
from replicator.topology import StackSettings, Topology, load_edition, stack_settings_from_config

EDITION = "paris2024"
WAN_OWNER_STACK = f"{EDITION}-ctoc"
STACKS = [f"{EDITION}-itl", f"{EDITION}-ctoc", f"{EDITION}-toc"]
REQUIRED_LABELS = ("edition", "stack", "site", "suite", "service", "tier", "instance")


@cache
def topology() -> Topology:
    return load_edition(PROJECT_ROOT, EDITION)


def circuit(a: str, b: str) -> str:
    """Circuit network name as the WAN owner names it (pair of model services, sorted)."""
    x, y = sorted((a, b))
    return f"{EDITION}-wan-{x}--{y}"


@cache
def all_circuits() -> dict[str, frozenset[str]]:
    """Circuit name -> its two services, from the cross-site links of the model."""
    topo = topology()
    out: dict[str, frozenset[str]] = {}
    for link in topo.links:
        a, b = topo.service(link.source_service), topo.service(link.target_service)
        if a.site != b.site:
            out[circuit(a.name, b.name)] = frozenset((a.name, b.name))
    return out


@dataclass
class Expected:
    """One container the model says the stack deploys."""

    suite: str
    deployed: str
    model_service: str
    tier: str
    instance: int


@dataclass
class Stack:
    name: str
    graph: Graph
    settings: StackSettings

    @property
    def site(self) -> str:
        return self.settings.site

    def expected_containers(self) -> dict[str, Expected]:
        out: dict[str, Expected] = {}
        for d in topology().deployed_services(site=self.site, venues=self.settings.venues):
            for tier in d.tiers:
                for i in range(1, tier.instances + 1):
                    out[f"{EDITION}-{self.site}-{d.name}-{tier.kind}-{i}"] = Expected(
                        d.suite, d.name, d.service.name, tier.kind, i)
        return out

    @property
    def containers(self) -> dict[str, dict[str, Any]]:
        return self.graph.by_name(CONTAINER)

    @property
    def networks(self) -> dict[str, dict[str, Any]]:
        return self.graph.by_name(NETWORK)


@cache
def deploy(stack: str) -> Stack:
    graph = run_program(stack, wan_networks=None if stack == WAN_OWNER_STACK
                        else wan_outputs(EDITION))
    settings = stack_settings_from_config(stack_config(stack), source=f"stacks/Pulumi.{stack}.yaml",
                                          stack=stack)
    return Stack(stack, graph, settings)


@pytest.fixture(params=STACKS, ids=lambda s: s.rsplit("-", 1)[1])
def stack(request: pytest.FixtureRequest) -> Stack:
    return deploy(request.param)


def labels(inputs: dict[str, Any]) -> dict[str, str]:
    return {item["label"]: item["value"] for item in inputs.get("labels") or []}


def network_names(inputs: dict[str, Any]) -> list[str]:
    return [n["name"] for n in inputs.get("networksAdvanced") or []]


# ---------------------------------------------------------------------------- containers


def test_one_container_per_tier_instance_of_the_site(stack: Stack) -> None:
    expected = stack.expected_containers()
    registered = [r.inputs["name"] for r in stack.graph.of_type(CONTAINER)]
    assert expected, "the site deploys something"
    assert sorted(registered) == sorted(expected)
    assert not [n for n, c in Counter(registered).items() if c > 1], "no duplicates"
    deployed = topology().deployed_services(site=stack.site, venues=stack.settings.venues)
    assert len(registered) == sum(t.instances for d in deployed for t in d.tiers)


def test_toc_deploys_one_ovr_copy_per_selected_venue() -> None:
    toc = deploy(f"{EDITION}-toc")
    venues = {c.split("-ovr-")[1].split("-")[0] for c in toc.containers if "-ovr-" in c}
    assert venues == {v.lower() for v in toc.settings.venues or []}


def test_every_container_carries_the_identity_labels(stack: Stack) -> None:
    expected = stack.expected_containers()
    for name, inputs in stack.containers.items():
        have = labels(inputs)
        want = expected[name]
        for key in REQUIRED_LABELS:
            assert f"replicator.{key}" in have, (name, key)
        assert have["replicator.edition"] == EDITION
        assert have["replicator.stack"] == stack.name
        assert have["replicator.site"] == stack.site
        assert have["replicator.suite"] == want.suite
        assert have["replicator.service"] == want.deployed
        assert have["replicator.tier"] == want.tier
        assert have["replicator.instance"] == str(want.instance)


def test_containers_run_with_init_unprivileged_and_loopback_ports_only(stack: Stack) -> None:
    for name, inputs in stack.containers.items():
        assert inputs.get("init") is True, name
        assert not inputs.get("privileged"), name
        assert inputs.get("hostname") == name
        for port in inputs.get("ports") or []:
            assert port.get("ip") == "127.0.0.1", (name, port)


def test_published_ports_are_exactly_the_configured_ones(stack: Stack) -> None:
    published = {(c, p["internal"], p["external"])
                 for c, inputs in stack.containers.items() for p in inputs.get("ports") or []}
    want = {(f"{EDITION}-{stack.site}-{svc}-{tier}-1", port, host)
            for svc, tier, port, host in stack.settings.published_targets()}
    assert want, "every real stack publishes something"
    assert published == want


def test_containers_join_the_lan_and_only_publishers_the_edge(stack: Stack) -> None:
    lan = f"{EDITION}-{stack.site}-lan"
    edge = f"{EDITION}-{stack.site}-edge"
    for name, inputs in stack.containers.items():
        nets = network_names(inputs)
        assert lan in nets, name
        assert len(nets) == len(set(nets)), (name, nets)
        if inputs.get("ports"):
            assert nets[0] == edge, "ports are published through the first network"
        else:
            assert edge not in nets, name
        tier, deployed = labels(inputs)["replicator.tier"], labels(inputs)["replicator.service"]
        for n in inputs["networksAdvanced"]:
            assert n["aliases"] == [f"{deployed}-{tier}"]


# ---------------------------------------------------------------------------- networks, volumes


def test_lan_is_internal_with_the_configured_subnet(stack: Stack) -> None:
    lan = stack.networks[f"{EDITION}-{stack.site}-lan"]
    assert lan["internal"] is True
    assert [c["subnet"] for c in lan["ipamConfigs"]] == [str(stack.settings.subnets.lan)]
    assert labels(lan)["replicator.stack"] == stack.name
    edge = stack.networks[f"{EDITION}-{stack.site}-edge"]
    assert not edge.get("internal")
    assert [c["subnet"] for c in edge["ipamConfigs"]] == [str(stack.settings.subnets.edge)]


def test_every_db_container_has_its_own_volume(stack: Stack) -> None:
    volumes = stack.graph.by_name(VOLUME)
    db = {n: i for n, i in stack.containers.items() if labels(i)["replicator.tier"] == "db"}
    for name, inputs in stack.containers.items():
        mounts = inputs.get("volumes") or []
        if name in db:
            assert mounts == [{"volumeName": f"{name}-data", "containerPath": "/var/lib/postgresql"}]
            assert labels(volumes[f"{name}-data"])["replicator.stack"] == stack.name
        else:
            assert mounts == [], name
    assert set(volumes) == {f"{name}-data" for name in db}


def test_every_container_runs_its_tier_image(stack: Stack) -> None:
    images = {r.inputs["name"]: r for r in stack.graph.of_type(REMOTE_IMAGE)}
    tag = stack.settings.image_tag
    for name, inputs in stack.containers.items():
        tier = labels(inputs)["replicator.tier"]
        image = deployed_image_ref(tier, tag)
        assert image in images, name
        assert images[image].inputs.get("keepLocally") is True
        assert inputs["image"] == f"sha256:{image}", "the container uses the image's id output"


def test_docker_resources_use_the_site_provider(stack: Stack) -> None:
    [provider] = stack.graph.of_type(PROVIDER)
    assert provider.name == f"docker-{stack.site}"
    assert provider.inputs["host"] == stack.settings.docker_host
    for reg in stack.graph.registrations:
        if reg.type.startswith("docker:"):
            assert reg.provider and f"{PROVIDER}::docker-{stack.site}::" in reg.provider, reg.name


# ---------------------------------------------------------------------------- inter-site circuits


def expected_circuits(model_service: str, tier: str) -> set[str]:
    topo = topology()
    out = set()
    for link in topo.links:
        a, b = topo.service(link.source_service), topo.service(link.target_service)
        if a.site == b.site:
            continue
        if (link.source_service, link.source_tier) == (model_service, tier) or \
                (link.target_service, link.target_tier) == (model_service, tier):
            out.add(circuit(a.name, b.name))
    return out


def test_containers_join_exactly_the_circuits_of_their_cross_site_links(stack: Stack) -> None:
    joined_any = False
    for name, inputs in stack.containers.items():
        have = labels(inputs)
        joined = {n for n in network_names(inputs) if n.startswith(f"{EDITION}-wan-")}
        assert joined == expected_circuits(have["replicator.model-service"],
                                           have["replicator.tier"]), name
        assert joined <= set(all_circuits())
        joined_any = joined_any or bool(joined)
    assert joined_any, "some container of every site is an end of a cross-site link"


def test_a_tier_without_cross_site_links_joins_no_circuit() -> None:
    itl = deploy(f"{EDITION}-itl")
    isolated = [n for n, i in itl.containers.items()
                if not expected_circuits(labels(i)["replicator.model-service"],
                                         labels(i)["replicator.tier"])]
    assert isolated, "the ITL has tiers that no cross-site link reaches"
    for name in isolated:
        assert not [n for n in network_names(itl.containers[name]) if "-wan-" in n]


def test_wan_owner_creates_one_network_per_circuit() -> None:
    ctoc = deploy(WAN_OWNER_STACK)
    supernet = ipaddress.ip_network(str(topology().wan.supernet))
    circuits = {n: i for n, i in ctoc.networks.items() if n.startswith(f"{EDITION}-wan-")}
    assert set(circuits) == set(all_circuits())
    subnets = []
    for name, inputs in circuits.items():
        assert inputs["internal"] is True, name
        [ipam] = inputs["ipamConfigs"]
        subnet = ipaddress.ip_network(ipam["subnet"])
        assert subnet.subnet_of(supernet), (name, subnet)
        subnets.append(subnet)
        have = labels(inputs)
        assert have["replicator.network"] == "wan"
        assert have["replicator.circuit"] == "--".join(sorted(all_circuits()[name]))
    for i, a in enumerate(subnets):
        for b in subnets[i + 1:]:
            assert not a.overlaps(b), (a, b)
    assert ctoc.graph.of_type(STACK_REFERENCE) == []
    for site_net in ("lan", "edge"):
        assert not ipaddress.ip_network(
            ctoc.networks[f"{EDITION}-ctoc-{site_net}"]["ipamConfigs"][0]["subnet"]
        ).overlaps(supernet)


@pytest.mark.parametrize("name", [f"{EDITION}-itl", f"{EDITION}-toc"])
def test_other_sites_create_no_circuit_and_read_them_from_the_owner(name: str) -> None:
    other = deploy(name)
    assert [n for n in other.networks if "-wan-" in n] == []
    assert set(other.networks) == {f"{EDITION}-{other.site}-lan", f"{EDITION}-{other.site}-edge"}
    [ref] = other.graph.of_type(STACK_REFERENCE)
    assert ref.resource_id == f"{ORGANIZATION}/{PROJECT}/{WAN_OWNER_STACK}"


def test_a_circuit_missing_from_the_owner_outputs_fails_with_the_fix() -> None:
    outputs = wan_outputs(EDITION)
    itl_services = {s.name for s in topology().services if s.site == "itl"}
    missing = next(c for c, ends in sorted(all_circuits().items()) if ends & itl_services)
    del outputs[missing]
    with pytest.raises(Exception, match=re.escape(f"run `replicator up {WAN_OWNER_STACK}` first")):
        run_program(f"{EDITION}-itl", wan_networks=outputs)


# ---------------------------------------------------------------------------- outputs


def test_the_exports_read_as_the_typed_stack_outputs(stack: Stack) -> None:
    """The program's exports and their readers share replicator.outputs.StackOutputs."""
    from replicator.outputs import StackOutputs

    outputs = StackOutputs.read(stack.name, stack.graph.exports)
    assert (outputs.edition, outputs.site, outputs.stack) == (EDITION, stack.site, stack.name)
    assert set(outputs.containers) == set(stack.expected_containers())
    assert {c for s in outputs.services.values() for t in s.tiers.values()
            for c in t.containers} == set(outputs.containers)
    assert outputs.engines == [stack.settings.docker_host]
    assert {outputs.engine_of(c) for c in outputs.containers} == {stack.settings.docker_host}
    assert outputs.networks["lan"].subnet == str(stack.settings.subnets.lan)
    assert (stack.name == WAN_OWNER_STACK) == bool(outputs.wan_networks)
