"""The embedded engine: runs the Pulumi program through the real SDK, applies it to Docker.

Public interface (thin, like ansible-runner's): build a `StackRunner` for a
project and call `run(stack, Mode.X, sink)`. The pieces behind it, one
concept per module:

- `workspace`   Pulumi.yaml and stack config files
- `program`     the program in a child process (`_program_host`)
- `monitor`     the gRPC ResourceMonitor/Engine services the SDK talks to
- `deployment`  the facade of one run: goals in, steps out, state saved
- `step_generator`, `steps`, `step_executor`, `snapshot`
                decide steps (no Docker), one class per step kind (`apply(dry_run)`),
                apply them (deletes in dependency waves), checkpoint after each
- `diff`        the pure diff rules (create/update/replace/delete/same)
- `providers`   the plug-in interface, the registry of packages, the docker provider
- `state`       the state file (atomic) and the stack lock
- `secrets`     encryption of secret values at rest
- `display`     plan and progress for a terminal
"""

from replicator.engine.deployment import Mode
from replicator.engine.diff import Op
from replicator.engine.runner import RunResult, StackRunner

__all__ = ["Mode", "Op", "RunResult", "StackRunner"]
