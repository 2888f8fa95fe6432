"""Pulumi's deployment format, version 3: our own model of it, and the mapping to `StackState`.

Written from Pulumi's published description of the format (the JSON schemas
`deployments.json` and `resources.json` of `sdk/go/common/apitype`): a
deployment has a `manifest`, `secrets_providers`, `resources` (each with
urn, custom, id, type, inputs, outputs, parent, provider `urn::id`,
dependencies, propertyDependencies, protect...) and `pending_operations`.
The file backend keeps it as a checkpoint: `{"version": 3, "checkpoint":
{"stack", "latest": <deployment>}}` in `.pulumi/stacks/<project>/<stack>.json`.

What only this engine needs (engine facts for the report, what the last
refresh observed, the last operation) rides beside the deployment in the
checkpoint under `replicator`; a Pulumi CLI ignores it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from replicator.engine import urn as urns
from replicator.engine.state import PendingOperation, ResourceState, StackState

DEPLOYMENT_VERSION = 3
ENGINE_VERSION = "v3.0.0-replicator"
SECRETS_PROVIDER = "replicator"  # Fernet key of the backend (secrets.py)
_OP_NAMES = {"create": "creating", "update": "updating", "delete": "deleting", "read": "reading"}
_OP_FROM = {v: k for k, v in _OP_NAMES.items()}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PluginInfo(_Strict):
    name: str
    path: str
    type: Literal["analyzer", "language", "resource"]
    version: str


class Manifest(_Strict):
    time: str
    magic: str
    version: str
    plugins: list[PluginInfo] | None = None


class SecretsProvider(_Strict):
    type: str
    state: Any = None


class Resource(_Strict):
    urn: str
    custom: bool = False
    delete: bool = False
    id: str = ""
    type: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    parent: str = ""
    protect: bool = False
    external: bool = False
    dependencies: list[str] = Field(default_factory=list)
    initErrors: list[str] | None = None
    provider: str = ""
    propertyDependencies: dict[str, list[str]] = Field(default_factory=dict)
    pendingReplacement: bool = False
    additionalSecretOutputs: list[str] = Field(default_factory=list)
    aliases: list[str] | None = None
    customTimeouts: dict[str, Any] | None = None
    importID: str = ""
    retainOnDelete: bool = False
    created: str | None = None
    modified: str | None = None
    ignoreChanges: list[str] | None = None
    replaceOnChanges: list[str] | None = None


class Operation(_Strict):
    resource: Resource
    type: Literal["creating", "updating", "deleting", "reading"]


class Deployment(_Strict):
    manifest: Manifest
    secrets_providers: SecretsProvider | None = None
    resources: list[Resource] = Field(default_factory=list)
    pending_operations: list[Operation] = Field(default_factory=list)


class UntypedDeployment(_Strict):
    """What `pulumi stack export` prints and `pulumi stack import` reads."""

    version: Literal[3]
    deployment: Deployment


def magic(version: str) -> str:
    """The manifest's integrity value: the SHA-256 of the engine version, in hex."""
    return hashlib.sha256(version.encode()).hexdigest()


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def root_urn(stack: str, project: str) -> str:
    return urns.make_urn(stack, project, urns.STACK_TYPE, f"{project}-{stack}", None)


def _resource(r: ResourceState) -> Resource:
    return Resource(
        urn=r.urn, custom=r.custom, id=r.id, type=r.type, inputs=r.inputs, outputs=r.outputs,
        parent=r.parent, protect=r.protect, dependencies=list(r.dependencies),
        provider=r.provider, propertyDependencies=dict(r.property_dependencies),
        additionalSecretOutputs=list(r.additional_secret_outputs),
        retainOnDelete=r.retain_on_delete, created=r.created or None,
        modified=r.modified or None, ignoreChanges=list(r.ignore_changes) or None,
    )


def to_deployment(state: StackState) -> Deployment:
    """`state` as a v3 deployment (secret values as they are: encrypt before writing)."""
    resources = [_resource(r) for r in state.resources]
    root = root_urn(state.stack, state.project)
    stack_res = next((r for r in resources if r.type == urns.STACK_TYPE), None)
    if stack_res is None and state.outputs:
        stack_res = Resource(urn=root, type=urns.STACK_TYPE)
        resources.insert(0, stack_res)
    if stack_res is not None:
        stack_res.outputs = dict(state.outputs)  # stack outputs live on the root resource
    pending = [Operation(type=_OP_NAMES.get(p.op, "creating"),  # type: ignore[arg-type]
                         resource=Resource(urn=p.urn, custom=True, type=p.type,
                                           inputs={"name": p.name} if p.name else {},
                                           provider=p.provider))
               for p in state.pending]
    return Deployment(manifest=Manifest(time=_now(), magic=magic(ENGINE_VERSION),
                                        version=ENGINE_VERSION),
                      secrets_providers=SecretsProvider(type=SECRETS_PROVIDER),
                      resources=resources, pending_operations=pending)


def from_deployment(deployment: Deployment, *, stack: str, project: str,
                    extras: dict[str, Any] | None = None) -> StackState:
    extras = extras or {}
    observed = extras.get("observed") or {}
    dbr = set(extras.get("deleteBeforeReplace") or [])
    resources = [
        ResourceState(
            urn=r.urn, type=r.type, custom=r.custom, id=r.id, parent=r.parent,
            provider=r.provider, inputs=r.inputs, outputs=r.outputs,
            dependencies=list(r.dependencies), property_dependencies=dict(r.propertyDependencies),
            protect=r.protect, delete_before_replace=r.urn in dbr,
            ignore_changes=list(r.ignoreChanges or []),
            additional_secret_outputs=list(r.additionalSecretOutputs),
            retain_on_delete=r.retainOnDelete, observed=dict(observed.get(r.urn) or {}),
            created=r.created or "", modified=r.modified or "")
        for r in deployment.resources if not r.delete
    ]
    stack_res = next((r for r in resources if r.type == urns.STACK_TYPE), None)
    outputs = dict(stack_res.outputs) if stack_res else {}
    if stack_res is not None:
        stack_res.outputs = {}  # one place for them in memory: StackState.outputs
    pending = [PendingOperation(urn=op.resource.urn, type=op.resource.type,
                                op=_OP_FROM[op.type],
                                name=str(op.resource.inputs.get("name", "")),
                                provider=op.resource.provider)
               for op in deployment.pending_operations]
    return StackState(stack=stack, project=project, resources=resources,
                      outputs=outputs,
                      engines=dict(extras.get("engines") or {}), pending=pending,
                      last_operation=dict(extras.get("lastOperation") or {}))


def extras_of(state: StackState) -> dict[str, Any]:
    """What only this engine keeps, beside the deployment."""
    return {"engines": state.engines, "lastOperation": state.last_operation,
            "observed": {r.urn: r.observed for r in state.resources if r.observed},
            "deleteBeforeReplace": [r.urn for r in state.resources if r.delete_before_replace]}
