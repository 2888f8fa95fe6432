"""Role families: the `role` key of app.json (the model service name) picks one."""

from __future__ import annotations

import logging

from .base import Role

log = logging.getLogger(__name__)

OMS = ("accreditation", "sport-entries", "competition-schedule", "athletes-voting",
       "volunteer-portal", "workforce", "historical-results")
CONSUMERS = ("cis", "myinfo", "wrs", "rma")


def role_class(role: str) -> type[Role]:
    if role in OMS:
        from .oms import OmsRole
        return OmsRole
    if role == "ovr":
        from .ovr import OvrRole
        return OvrRole
    if role == "odf-distributor":
        from .distributor import DistributorRole
        return DistributorRole
    if role in CONSUMERS:
        from . import consumers
        return consumers.ROLES[role]
    if role in ("monitoring", "operations-dashboard"):
        from . import monitoring
        return monitoring.ROLES[role]
    if role == "test-orchestrator":  # campaign scenarios on top of misc's orchestrator
        from .campaign import CampaignOrchestratorRole
        return CampaignOrchestratorRole
    from . import misc
    if role in misc.ROLES:
        return misc.ROLES[role]
    log.warning("no behaviour for role %r: serving /health, /version and /metrics only", role)
    return Role


def create(config, metrics, client) -> Role:
    return role_class(config.role)(config, metrics, client)
