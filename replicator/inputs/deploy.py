"""Choices of a deployment that users pass on the command line (kept free of engine imports)."""

from __future__ import annotations

# Resource operations at once (`--parallel`). The Pulumi CLI sets no bound by
# default; this engine waits on dockerd, which does the work on few cores. Cold
# `up` of paris2024 at 43 venues (80 containers, 2 cores): 67.0 s with 8, 60.4 s
# with 16 (issue #9).
DEFAULT_PARALLEL = 16
MAX_PARALLEL = 64
