"""`replicator verify`: testinfra proves the replica matches the declared production topology.

The checks live in the `verify/` suite (pytest-testinfra); this package runs it
against deployed stacks and turns its outcomes into a `VerificationResult`
and the JUnit, JSON and HTML reports. For other commands (``replicate``)::

    from replicator.verification import run_verification
    result = run_verification(project_root, stacks, output_dir)
    if not result.passed: ...  # result.exit_code == 6
"""

from replicator.verification.result import Check, VerificationResult
from replicator.verification.runner import default_output_dir, run_verification

__all__ = ["Check", "VerificationResult", "default_output_dir", "run_verification"]
