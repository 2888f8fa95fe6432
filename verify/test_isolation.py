"""Undeclared cross-site pairs of tiers must not meet.

For every pair of tiers on two different sites that no declared link joins
(either way: Docker networks cannot enforce a direction), every instance of the
source tier tries the target tier's alias and every address of every target
container (on all of its networks), on the target's ports, with a short
timeout. The pair is isolated when the name does not resolve and no address
answers at all: a refused connection means a host is reachable, which is an
open path even if nothing listens. All probes run at once, one ``docker exec``
per source container. ``--isolation-sample N`` probes a seeded sample.
"""

from __future__ import annotations

import pytest

from verify.conftest import CONFIRMED, fail_with, pair_probe_id

pytestmark = pytest.mark.xdist_group("probes")


def test_isolated(isolation_pair, probes, observation, record):
    pair = isolation_pair
    record("isolation", pair.name, source_site=pair.source_site, target_site=pair.target_site)
    problems: list[str] = []
    probed = 0
    for src in pair.sources:
        obs = observation.containers.get(src.name)
        if obs is None or not obs.running:
            continue  # a missing or stopped container is the services checks' finding
        result = probes.result(src.name, pair_probe_id(pair))
        if result is None or result.error:
            problems.append(f"from {src.name}: {result.describe() if result else 'not probed'}")
            continue
        probed += 1
        if result.resolved:
            problems.append(f"from {src.name}: {pair.target_alias} resolves to "
                            f"{', '.join(result.resolved)}")
        answered = result.answered
        if answered:
            problems.append(f"from {src.name}: " + ", ".join(
                f"{addr} {result.connect[addr]}" for addr in answered)
                + f" ({_owner(observation, answered)})")
    if probed == 0 and not problems:
        pytest.skip(f"{pair.name}: no running source container to probe from")
    if problems and any((s.name, pair_probe_id(pair)) in probes.repeated for s in pair.sources):
        problems.append(CONFIRMED)
    fail_with(f"undeclared path {pair.name}", problems)


def _owner(observation, addresses: list[str]) -> str:
    ips = {a.rsplit(":", 1)[0] for a in addresses}
    names = sorted({f"{c.name} on {net}" for c in observation.containers.values()
                    for net, att in c.networks.items() if att.ip in ips})
    return "; ".join(names) or "unknown address"


def test_isolation_scope(ctx, record):
    """How many undeclared pairs exist and how many were probed (all, or a seeded sample)."""
    record("isolation-scope", "undeclared pairs", total=ctx.all_pairs, probed=len(ctx.pairs),
           seed=ctx.isolation_seed, sampled=len(ctx.pairs) < ctx.all_pairs)
    assert ctx.pairs or ctx.all_pairs == 0
