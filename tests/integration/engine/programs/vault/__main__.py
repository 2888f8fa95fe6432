"""A secret config value reaches a container and comes back as a secret output."""

import pulumi
import pulumi_docker as docker

config = pulumi.Config()
password = config.require_secret("dbPassword")
user = config.require("dbUser")
owner = config.get("owner") or "vault-example"

db = docker.Container(
    "db",
    image="replicator/base:latest",
    command=["sleep", "infinity"],
    envs=[pulumi.Output.concat("DB_PASSWORD=", password), f"DB_USER={user}"],
    labels=[docker.ContainerLabelArgs(label="owner", value=owner)],
)

pulumi.export("dbName", db.name)
pulumi.export("connection", pulumi.Output.format("postgres://{0}:{1}@{2}:5432/app",
                                                  user, password, db.name))
