"""The replicator Pulumi program: one replica site of one Games edition.

Runs unmodified under `pulumi up` (Pulumi CLI, Python language host) and under
replicator's embedded engine. Everything that differs per stack comes from
stack config (`stacks/Pulumi.<edition>-<site>.yaml`); everything about the
Games comes from the topology model (`stacks/topology/<edition>.yaml`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pulumi
import pulumi_docker as docker

# The components live beside this file; the language host puts this directory on
# sys.path, but be explicit so the unit tests and both engines agree.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from components import policy
from components.site import Site, SiteArgs
from components.wan import InterSiteNetworks, circuits_of

from replicator import naming
from replicator.topology import (
    list_stacks,
    load_edition,
    load_stack_settings,
    stack_settings_from_config,
)

CONFIG_KEYS = ("edition", "site", "dockerHost", "dockerHosts", "wanEncrypted", "subnets", "venues",
               "imageTag", "publish")

policy.apply()  # before any resource: every container of this program is checked
stack = pulumi.get_stack()
project = pulumi.get_project()
config = pulumi.Config("replicator")
root = Path(pulumi.get_root_directory() if hasattr(pulumi, "get_root_directory") else os.getcwd())

raw = {key: config.get(key) for key in CONFIG_KEYS if config.get(key) is not None}
# project_root: the untracked host override (`replicator hosts up`) is laid over the config.
settings = stack_settings_from_config(raw, source=f"stacks/Pulumi.{stack}.yaml", stack=stack,
                                      project_root=root)
topology = load_edition(root, settings.edition)
settings.check_against(topology)

edition, site = settings.edition, settings.site
# One provider per engine of the site; the first (dockerHost) is the default one, and
# the only one unless the site spans several engines.
providers = {
    engine: docker.Provider(f"docker-{site}" if engine == settings.docker_host
                            else f"docker-{site}-{naming.engine_key(engine)}", host=engine)
    for engine in settings.engines
}
opts = pulumi.ResourceOptions(providers=[providers[settings.docker_host]])

wan_owner = topology.wan.owner
circuits = circuits_of(topology, edition)
if site == wan_owner:
    # Circuits must reach every engine of the edition: overlay networks once there are several.
    engines = {e for name in list_stacks(root) if name.startswith(f"{edition}-")
               for e in (settings.engines if name == stack
                         else load_stack_settings(root, name).engines)}
    wan = InterSiteNetworks("wan", topology, edition, stack, opts=opts, overlay=len(engines) > 1,
                            encrypted=settings.wan_encrypted)
    circuit_names: dict[str, pulumi.Input[str]] = {c: n.name for c, n in wan.networks.items()}
    pulumi.export("wanNetworks", {
        c: {"name": n.name, "id": n.id, "subnet": wan.subnets[c], "services": list(circuits[c]),
            "driver": wan.driver}
        for c, n in wan.networks.items()
    })
else:
    owner_stack = naming.stack_name(edition, wan_owner)
    ref = pulumi.StackReference(f"{pulumi.get_organization()}/{project}/{owner_stack}")
    wan_outputs = ref.get_output("wanNetworks")

    def _circuit(name: str) -> pulumi.Output[str]:
        def pick(networks: dict | None) -> str:
            if not networks or name not in networks:
                raise ValueError(
                    f"inter-site network {name} is not among the outputs of stack {owner_stack}: "
                    f"run `replicator up {owner_stack}` first (it owns the inter-site networks)")
            return networks[name]["name"]
        return wan_outputs.apply(pick)

    circuit_names = {c: _circuit(c) for c in circuits}

site_component = Site(site, SiteArgs(topology=topology, settings=settings, circuits=circuit_names,
                                     providers=providers), opts=opts)

containers = {
    cname: {
        "id": container.id,
        "service": svc_name,
        "dockerHost": settings.engine_of(cname),
        "networks": container.network_datas.apply(
            lambda data: sorted({d.network_name for d in (data or []) if d.network_name})),
    }
    for svc_name, svc in site_component.services.items()
    for cname, container in svc.containers.items()
}
deployed = {d.name: d for d in topology.deployed_services(site=site, venues=settings.venues)}
pulumi.export("edition", edition)
pulumi.export("site", site)
pulumi.export("stack", stack)
pulumi.export("dockerHost", settings.docker_host)
pulumi.export("dockerHosts", settings.engines)
pulumi.export("networks", {
    "lan": {"name": site_component.lan.name, "id": site_component.lan.id,
            "subnet": str(settings.subnets.lan)},
    **({"edge": {"name": site_component.edge.name, "id": site_component.edge.id,
                 "subnet": str(settings.subnets.edge)}} if site_component.edge else {}),
})
pulumi.export("services", {
    name: {
        "suite": d.suite, "service": d.service.name, "version": d.service.version,
        "venue": d.venue.code if d.venue else None,
        "tiers": {t.kind: {"ports": [p.port for p in t.ports],
                           "containers": [c for c in d.container_names(edition)
                                          if c.startswith(naming.container_prefix(
                                              edition, site, name, t.kind))]}
                  for t in d.tiers},
    }
    for name, d in deployed.items()
})
pulumi.export("containers", {
    cname: {"id": c["id"], "service": c["service"], "dockerHost": c["dockerHost"],
            "networks": c["networks"]}
    for cname, c in containers.items()
})
pulumi.export("endpoints", {
    f"{svc}/{tier}:{port}": f"http://127.0.0.1:{host_port}"
    for svc, tier, port, host_port in settings.published_targets(topology)
})
pulumi.export("links", [
    {"name": link.name, "source": link.source.name, "sourceTier": link.source_tier,
     "target": link.target.name, "targetTier": link.target_tier, "port": link.port,
     "protocol": link.protocol, "crossSite": link.cross_site,
     "network": (naming.circuit_name(edition, link.source.service.name, link.target.service.name)
                 if link.cross_site else naming.lan_network(edition, site))}
    for link in topology.resolved_links(settings.venues, site=site)
])
