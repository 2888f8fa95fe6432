"""Conformance: what Docker holds (by the project's labels) against the declared topology.

Each declared service, link and network is compared with what the engines
report (`verify.diff`); then anything carrying the project's labels or names
that nobody declared, and any network that joins two sites where no link does.
Every check records its diff item, so the report shows the whole diff.
"""

from __future__ import annotations

import pytest

from verify.conftest import fail_with
from verify.diff import OK, compare


@pytest.fixture(scope="module")
def conformance(expectation, observation):
    return compare(expectation, observation)


def _engine_problems(replica, expectation, observation) -> list[str]:
    """An engine that does not answer: name its host and the containers declared on it."""
    from replicator.hosts.model import engine_label, engine_names

    names = engine_names(replica.root)
    out = []
    for host, error in sorted(observation.engine_errors.items()):
        on_it = sorted(c.name for c in expectation.all_containers.values() if c.docker_host == host)
        out.append(f"host {engine_label(host, names)}: {error}; its containers: "
                   f"{', '.join(on_it) or 'none'}")
    return out


def test_stack_outputs_match_model(replica, expectation, observation, record):
    problems = list(expectation.problems) + _engine_problems(replica, expectation, observation)
    record("outputs", "stack outputs", problems=problems)
    fail_with("stack outputs", problems)


def test_service_conforms(expected_service, conformance, record):
    item = next(i for i in conformance.services if i.name == expected_service.name)
    parts = [i for i in conformance.containers
             if i.name in {c.name for c in expected_service.containers}]
    record("diff", expected_service.subject, item=item.to_json(),
           containers=[p.to_json() for p in parts])
    if item.status != OK:
        fail_with(f"service {expected_service.subject} {item.status}", item.details)


def test_link_conforms(expected_link, conformance, record):
    item = next(i for i in conformance.links if i.name == expected_link.name)
    record("diff", expected_link.name, item=item.to_json())
    if item.status != OK:
        fail_with(f"link {expected_link.name} {item.status}", item.details)


def test_network_conforms(expected_network, conformance, record):
    item = next(i for i in conformance.networks if i.name == expected_network.name)
    record("diff", expected_network.name, item=item.to_json())
    if item.status != OK:
        fail_with(f"network {expected_network.name} {item.status}", item.details)


@pytest.mark.parametrize("kind", ["container", "network", "path"])
def test_nothing_unexpected(kind, conformance, record):
    items = [i for i in conformance.unexpected if i.kind == kind]
    for i in items:
        record("diff", i.name, item=i.to_json())
    if items:
        fail_with(f"unexpected {kind}s", [f"{i.name} ({'; '.join(i.details)})" for i in items])


def test_conformance_summary(conformance, expectation, record):
    counts = conformance.counts()
    record("conformance", "summary", declared_services=len(conformance.services),
           declared_links=len(conformance.links), declared_networks=len(conformance.networks),
           conforming=conformance.conforming, declared=conformance.declared,
           conformance_percent=round(conformance.conformance, 2), **counts)
    if any(counts.values()):
        fail_with("conformance", [(f"{conformance.conformance:.1f}% of declared services and "
                                  f"links as declared; {counts['missing']} missing, "
                                  f"{counts['unexpected']} unexpected, {counts['changed']} "
                                  "changed")])
