"""Choices of the Ansible run that users pass on the command line (kept free of Ansible imports)."""

from __future__ import annotations

from typing import Literal

# Ansible's execution strategy for `replicator configure` (replicator.configure.strategy).
Strategy = Literal["mitogen", "free"]
