"""The production Games topology model and the per-stack settings.

``stacks/topology/<edition>.yaml`` describes production (sites, venues,
suites, services, links, cited figures); ``stacks/Pulumi.<stack>.yaml`` says
which site a stack deploys and how. Both load into frozen pydantic models and
every problem becomes a `TopologyError` naming file, path, line and fix.
"""

from replicator.topology.deployment import DeployedService, ResolvedLink
from replicator.topology.errors import Problem, TopologyError
from replicator.topology.loader import list_editions, load_edition, load_topology, topology_path
from replicator.topology.model import (
    Edition,
    EditionHistory,
    Figure,
    Link,
    Location,
    Port,
    Production,
    Service,
    Site,
    Source,
    Suite,
    Tier,
    Topology,
    Wan,
)
from replicator.topology.settings import (
    StackSettings,
    Subnets,
    check_stack_set,
    list_stacks,
    load_stack_settings,
    stack_path,
    stack_settings_from_config,
    stack_settings_from_document,
)

__all__ = [
    "DeployedService",
    "Edition",
    "EditionHistory",
    "Figure",
    "Link",
    "Location",
    "Port",
    "Problem",
    "Production",
    "ResolvedLink",
    "Service",
    "Site",
    "Source",
    "StackSettings",
    "Subnets",
    "Suite",
    "Tier",
    "Topology",
    "TopologyError",
    "Wan",
    "check_stack_set",
    "list_editions",
    "list_stacks",
    "load_edition",
    "load_stack_settings",
    "load_topology",
    "stack_path",
    "stack_settings_from_config",
    "stack_settings_from_document",
    "topology_path",
]
