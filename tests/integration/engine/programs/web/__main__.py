"""An auto-named container serving a volume, on its own network."""

import pulumi
import pulumi_docker as docker

config = pulumi.Config()
port = config.get_int("port") or 8080
owner = config.get("owner") or "web-example"

image = docker.RemoteImage("base", name="replicator/base:latest", keep_locally=True)
data = docker.Volume("data", labels=[docker.VolumeLabelArgs(label="owner", value=owner)])
network = docker.Network("net", labels=[docker.NetworkLabelArgs(label="owner", value=owner)])

web = docker.Container(
    "web",
    image=image.image_id,
    command=["python3", "-m", "http.server", "8080", "--directory", "/srv"],
    ports=[docker.ContainerPortArgs(internal=8080, external=port, ip="127.0.0.1")],
    volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path="/srv")],
    networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name)],
    labels=[docker.ContainerLabelArgs(label="owner", value=owner)],
    opts=pulumi.ResourceOptions(ignore_changes=["envs"]),
)

pulumi.export("containerName", web.name)
pulumi.export("url", pulumi.Output.concat("http://127.0.0.1:", str(port), "/"))
pulumi.export("summary", pulumi.Output.format("{0} on {1}", web.name, network.name))
pulumi.export("names", pulumi.Output.all(web.name, data.name, network.name)
              .apply(lambda names: ",".join(names)))
