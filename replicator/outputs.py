"""Reading a stack's outputs (what infra/__main__.py exports), where several readers need the same answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from replicator.inputs.docker_host import DEFAULT_DOCKER_HOST


def container_engine(outputs: Mapping[str, Any], container: str) -> str:
    """The engine `container` runs on: its own `dockerHost` output (a site spread over
    engines), else its stack's (outputs written before containers carried one)."""
    own = ((outputs.get("containers") or {}).get(container) or {}).get("dockerHost")
    return str(own or outputs.get("dockerHost") or DEFAULT_DOCKER_HOST)
