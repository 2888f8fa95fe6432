"""The service API of replicator: typed entry points under the `replicator` command.

Each takes one validated options object (`replicator.api.options`), reports what
it does through an `on_event(event)` callback (`replicator.api.events`) and returns a
typed result; it raises `replicator.errors` exceptions and never prints or exits.
The CLI (`replicator.cli`) only parses arguments, calls these and renders the events.

    from replicator import api
    result = api.deploy(api.DeployOptions(verb="up", edition="paris2024"), on_event=print)
    if not result.succeeded: ...

Entry points: deploy, configure, verify, report, replicate (the deploy path,
`service.py`, `pipeline.py`); status, outputs, hosts_up, hosts_down, hosts_list, campaign,
campaign_report, campaign_schedule (`operations.py`); graph, config_get, config_set,
config_rm, stack_export, stack_import, odf_key, odf_send, odf_get, engine_status,
engine_start, engine_stop, image_build, image_list, image_prune (`project.py`).
"""

from __future__ import annotations

from replicator.api.events import Event, EventHandler
from replicator.api.operations import (
    CampaignReport,
    ScheduleFigures,
    StatusResult,
    campaign,
    campaign_report,
    campaign_schedule,
    hosts_down,
    hosts_list,
    hosts_up,
    outputs,
    status,
)
from replicator.api.project import (
    StackTransfer,
    config_get,
    config_rm,
    config_set,
    engine_start,
    engine_status,
    engine_stop,
    graph,
    image_build,
    image_list,
    image_prune,
    odf_get,
    odf_key,
    odf_send,
    stack_export,
    stack_import,
)
from replicator.api.options import (
    CampaignOptions,
    CampaignReportOptions,
    CampaignScheduleOptions,
    ConfigureOptions,
    DeployOptions,
    HostsDownOptions,
    HostsUpOptions,
    OutputsOptions,
    ReplicateOptions,
    ReportOptions,
    StatusOptions,
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

__all__ = ["StackTransfer", "config_get", "config_rm", "config_set", "engine_start",
           "engine_status", "engine_stop", "image_build", "image_list", "image_prune", "graph",
           "odf_get",
           "odf_key", "odf_send", "stack_export", "stack_import", "STEPS", "CampaignOptions", "CampaignReport", "CampaignReportOptions",
           "CampaignScheduleOptions", "ScheduleFigures", "campaign_schedule",
           "ConfigureOptions", "ConfigureRun", "DeployOptions", "DeployResult", "Event",
           "EventHandler", "HostsDownOptions", "HostsUpOptions", "ReplicateOptions",
           "ReplicateResult", "ReportOptions", "StatusOptions", "StatusResult", "StepFailedError",
           "VerifyOptions", "campaign", "campaign_report", "configure", "deploy", "hosts_down",
           "hosts_list", "hosts_up", "outputs", "OutputsOptions", "replicate", "report", "status", "verify"]
