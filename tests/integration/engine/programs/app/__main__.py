"""A ComponentResource that reads another project's stack and uses an explicit provider."""

import pulumi
import pulumi_docker as docker


class Service(pulumi.ComponentResource):
    def __init__(self, name: str, network: pulumi.Input[str], owner: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("example:index:Service", name, None, opts)
        self.container = docker.Container(
            f"{name}-app",
            image="replicator/base:latest",
            command=["sleep", "infinity"],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network)],
            labels=[docker.ContainerLabelArgs(label="owner", value=owner)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"container": self.container.name})


config = pulumi.Config()
owner = config.get("owner") or "app-example"
host = pulumi.Config("docker").require("host")
net = pulumi.StackReference(f"organization/net/{pulumi.get_stack()}")
provider = docker.Provider("local", host=host)
service = Service("api", net.require_output("networkName"), owner,
                  opts=pulumi.ResourceOptions(providers=[provider]))
pulumi.export("container", service.container.name)
pulumi.export("network", net.get_output("networkName"))
