"""Names and labels of the Docker objects, and where a container runs, in one place.

Every name is derived from the edition, the site and the model, so the same
model always yields the same objects (what makes a second `up` a no-op and an
interrupted one resumable), and the verifier can find them again. The Pulumi
program (`infra/`), the inventory, status and the campaign driver all build
names here; `verify/expect.py` alone writes them again, on purpose, so that a
change here shows up as a verification difference.

Kept free of pydantic, Docker and Pulumi: the settings loader and the program
both import it.
"""

from __future__ import annotations

import hashlib
import ipaddress

LABEL_PREFIX = "replicator."
CIRCUIT_PREFIX = 26  # a /26 per inter-site circuit: room for 61 containers


def stack_name(edition: str, site: str) -> str:
    return f"{edition}-{site}"


def container_name(edition: str, site: str, deployed_service: str, tier: str,
                   instance: int) -> str:
    """`<edition>-<site>-<deployed service>-<tier>-<instance>`, e.g. paris2024-toc-ovr-aqc-app-1."""
    return f"{edition}-{site}-{deployed_service}-{tier}-{instance}"


def container_prefix(edition: str, site: str, deployed_service: str, tier: str) -> str:
    """What every instance's name of one tier starts with."""
    return f"{edition}-{site}-{deployed_service}-{tier}-"


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


def place(container: str, engines: list[str]) -> str:
    """The engine a container runs on, when its site spans several engines.

    Rendezvous hashing on the container's name: the same name always lands on
    the same engine, whatever the order the engines are listed in, and adding an
    engine moves only the containers that now rank it first.
    """
    if not engines:
        raise ValueError("a site needs at least one engine")
    if len(engines) == 1:
        return engines[0]
    return max(engines, key=lambda e: hashlib.sha256(f"{e}\0{container}".encode()).digest())


def engine_key(engine: str) -> str:
    """A short, stable tag for an engine, for the logical names of per-engine resources."""
    return hashlib.sha256(engine.encode()).hexdigest()[:8]


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
