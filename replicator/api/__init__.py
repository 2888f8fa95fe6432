"""The service API of replicator: typed entry points under the `replicator` command.

Each takes one validated options object (`replicator.api.options`), reports what
it does through an `on_event(event)` callback (`replicator.api.events`) and returns a
typed result; it raises `replicator.errors` exceptions and never prints or exits.
The CLI (`replicator.cli`) only parses arguments, calls these and renders the events.

    from replicator import api
    result = api.deploy(api.DeployOptions(verb="up", edition="paris2024"), on_event=print)
    if not result.succeeded: ...
"""

from __future__ import annotations

from replicator.api.events import Event, EventHandler
from replicator.api.options import (
    ConfigureOptions,
    DeployOptions,
    ReplicateOptions,
    ReportOptions,
    VerifyOptions,
)
from replicator.api.pipeline import STEPS, ReplicateResult, StepFailedError, replicate
from replicator.api.service import (
    ConfigureRun,
    DeployResult,
    configure,
    deploy,
    report,
    verify,
)

__all__ = ["STEPS", "ConfigureOptions", "ConfigureRun", "DeployOptions", "DeployResult", "Event",
           "EventHandler", "ReplicateOptions", "ReplicateResult", "ReportOptions",
           "StepFailedError", "VerifyOptions", "configure", "deploy", "replicate", "report",
           "verify"]
