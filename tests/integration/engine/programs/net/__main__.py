import pulumi
import pulumi_docker as docker

owner = pulumi.Config().get("owner") or "net-example"
shared = docker.Network("shared", internal=True,
                        labels=[docker.NetworkLabelArgs(label="owner", value=owner)])
pulumi.export("networkName", shared.name)
