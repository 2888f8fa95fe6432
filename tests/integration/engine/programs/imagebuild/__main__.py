"""docker.Image built from ./app, tagged again, and run (the provider's build example, offline)."""

import pulumi
import pulumi_docker as docker

config = pulumi.Config()
owner = config.get("owner") or "build-example"
name = config.get("imageName") or "build-example/site:latest"

image = docker.Image(
    "site",
    image_name=name,
    build=docker.DockerBuildArgs(context="app", args={"BASE": "replicator/base:latest"}),
    skip_push=True,
)
tag = docker.Tag("site-stable", source_image=image.image_name,
                 target_image=f"{name.rsplit(':', 1)[0]}:stable")
site = docker.Container(
    "site",
    image=image.image_name,
    labels=[docker.ContainerLabelArgs(label="owner", value=owner)],
    opts=pulumi.ResourceOptions(depends_on=[tag]),
)
pulumi.export("image", image.image_name)
pulumi.export("container", site.name)
