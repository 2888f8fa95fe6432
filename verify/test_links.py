"""Per declared link: every source instance reaches the target tier by its alias, on its port.

The probes of all links run at once (one ``docker exec`` per source container,
see `verify.observe.Prober`); each test reads its own answers. A link passes
when, from every source container, the target alias resolves to addresses of
the target containers on the network that carries the link (a circuit for a
cross-site link, the site LAN otherwise) and the port answers: open for a
configured replica, or at least refused (the path exists, nothing listens yet)
with ``--replica-level structure``.
"""

from __future__ import annotations

import pytest

from verify.conftest import CONFIRMED, fail_with, link_probe_id

pytestmark = pytest.mark.xdist_group("probes")


def test_link(expected_link, probes, observation, ctx, record):
    link = expected_link
    record("link", link.name, network=link.network, cross_site=link.cross_site,
           source_site=link.source_site, target_site=link.target_site, port=link.port)
    problems: list[str] = []
    if not link.sources or not link.targets:
        fail_with(link.name, ["the model deploys no container at one end"])
    # Where the targets are on the carrying network.
    target_ips: dict[str, str] = {}
    for t in link.targets:
        obs = observation.containers.get(t.name)
        if obs is None:
            problems.append(f"target container {t.name} does not exist")
        elif link.network not in obs.networks:
            problems.append(f"target container {t.name} is not attached to {link.network}")
        else:
            target_ips[obs.networks[link.network].ip] = t.name
    strict = ctx.level == "full"
    for src in link.sources:
        obs = observation.containers.get(src.name)
        if obs is None:
            problems.append(f"source container {src.name} does not exist")
            continue
        if not obs.running:
            problems.append(f"source container {src.name} is {obs.status}")
            continue
        if link.network not in obs.networks:
            problems.append(f"source container {src.name} is not attached to {link.network}")
        result = probes.result(src.name, link_probe_id(link))
        if result is None or result.error:
            problems.append(f"from {src.name}: {result.describe() if result else 'not probed'}")
            continue
        if not result.resolved:
            problems.append(f"from {src.name}: {link.target_alias} does not resolve "
                            f"({result.resolve_error})")
            continue
        on_net = [ip for ip in result.resolved if ip in target_ips]
        if not on_net:
            problems.append(f"from {src.name}: {link.target_alias} resolves to "
                            f"{', '.join(result.resolved)}, none of them on {link.network}")
        for ip in result.resolved:
            state = result.connect.get(f"{ip}:{link.port}", "not tried")
            ok = state == "open" or (not strict and state == "refused")
            if not ok:
                problems.append(f"from {src.name}: tcp {link.target_alias}:{link.port} "
                                f"({ip}) {state}")
    if problems and any((s.name, link_probe_id(link)) in probes.repeated for s in link.sources):
        problems.append(CONFIRMED)
    fail_with(link.name, problems)
