"""Names and labels of the Docker objects, in one place.

Every name is derived from the edition, the site and the model, so the same
model always yields the same objects (what makes a second `up` a no-op and an
interrupted one resumable), and the verifier can find them again.
"""

from __future__ import annotations

import hashlib
import ipaddress

LABEL_PREFIX = "replicator."
CIRCUIT_PREFIX = 26  # a /26 per inter-site circuit: room for 61 containers


def lan_network(edition: str, site: str) -> str:
    return f"{edition}-{site}-lan"


def edge_network(edition: str, site: str) -> str:
    return f"{edition}-{site}-edge"


def circuit_name(edition: str, service_a: str, service_b: str) -> str:
    """The inter-site network that carries the declared links between two services."""
    a, b = sorted((service_a, service_b))
    return f"{edition}-wan-{a}--{b}"


def alias(deployed_service: str, tier: str) -> str:
    """DNS name of a tier on every network it joins: `<service>-<tier>`."""
    return f"{deployed_service}-{tier}"


def volume_name(container: str) -> str:
    return f"{container}-data"


def labels(**values: object) -> list[dict[str, str]]:
    return [{"label": f"{LABEL_PREFIX}{k.replace('_', '-')}", "value": str(v)}
            for k, v in values.items() if v is not None]


def allocate_circuit_subnets(supernet: str, circuits: list[str]) -> dict[str, str]:
    """A stable /26 per circuit inside the WAN supernet.

    Each circuit hashes to a slot and probes forward on a collision, so adding
    one circuit does not move the others (which would replace their networks
    and every container on them).
    """
    net = ipaddress.ip_network(supernet)
    slots = list(net.subnets(new_prefix=CIRCUIT_PREFIX))
    if len(circuits) > len(slots):
        raise ValueError(f"WAN supernet {supernet} has room for {len(slots)} circuits, "
                         f"{len(circuits)} are needed: use a larger supernet")
    taken: dict[int, str] = {}
    result: dict[str, str] = {}
    for name in sorted(circuits):
        slot = int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(slots)
        while slot in taken:
            slot = (slot + 1) % len(slots)
        taken[slot] = name
        result[name] = str(slots[slot])
    return result
