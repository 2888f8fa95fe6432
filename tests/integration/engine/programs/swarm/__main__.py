"""A Swarm service with a secret and a config, on an overlay network (needs a swarm manager)."""

import base64

import pulumi
import pulumi_docker as docker

config = pulumi.Config()
token = config.require_secret("apiToken")
replicas = config.get_int("replicas") or 2
image = config.get("image") or "replicator/base:latest"
owner = config.get("owner") or "swarm-example"

secret = docker.Secret(
    "token",
    data=token.apply(lambda t: base64.b64encode(t.encode()).decode()),
    labels=[docker.SecretLabelArgs(label="owner", value=owner)],
)
settings = docker.ServiceConfig(
    "settings",
    data=base64.b64encode(b'{"greeting": "hello"}').decode(),
    labels=[docker.ServiceConfigLabelArgs(label="owner", value=owner)],
)
network = docker.Network("net", driver="overlay", attachable=True,
                         labels=[docker.NetworkLabelArgs(label="owner", value=owner)])

app = docker.Service(
    "app",
    task_spec=docker.ServiceTaskSpecArgs(
        container_spec=docker.ServiceTaskSpecContainerSpecArgs(
            image=image,
            commands=["python3", "-m", "http.server", "8080"],
            env={"GREETING": "hello"},
            init=True,  # python as PID 1 would ignore SIGTERM: each rolling update would wait
            stop_grace_period="2s",
            labels=[docker.ServiceTaskSpecContainerSpecLabelArgs(label="owner", value=owner)],
            secrets=[docker.ServiceTaskSpecContainerSpecSecretArgs(
                secret_id=secret.id, secret_name=secret.name, file_name="/run/secrets/token")],
            configs=[docker.ServiceTaskSpecContainerSpecConfigArgs(
                config_id=settings.id, config_name=settings.name,
                file_name="/etc/app/settings.json")],
        ),
        networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=network.id)],
    ),
    mode=docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=replicas)),
    endpoint_spec=docker.ServiceEndpointSpecArgs(
        ports=[docker.ServiceEndpointSpecPortArgs(target_port=8080, published_port=18080)]),
    converge_config=docker.ServiceConvergeConfigArgs(delay="1s", timeout="90s"),
    labels=[docker.ServiceLabelArgs(label="owner", value=owner)],
)

pulumi.export("serviceName", app.name)
pulumi.export("secretName", secret.name)
pulumi.export("configName", settings.name)
pulumi.export("networkName", network.name)
