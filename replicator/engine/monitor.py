"""The gRPC services a Pulumi program talks to: ResourceMonitor and Engine.

This is the part of the Pulumi engine the language SDK sees. Each RPC is
translated into a call on the `Deployment`; failures go back as proper gRPC
errors with a readable message (an exception escaping a servicer would reach
the program as an opaque "Exception calling application").
"""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any, Self

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, resource_pb2, resource_pb2_grpc

from replicator.engine import urn as urns
from replicator.engine.deployment import Deployment, Goal, StepFailed
from replicator.engine.events import Diagnostic
from replicator.engine.properties import from_struct, to_struct
from replicator.engine.providers.base import ProviderError

_SEVERITY = {0: "debug", 1: "info", 2: "warning", 3: "error"}
_MAX_MESSAGE = 512 * 1024 * 1024  # the SDK sends messages up to 400 MB


def goal_from_request(req: resource_pb2.RegisterResourceRequest) -> Goal:
    deps = set(req.dependencies)
    for prop in req.propertyDependencies.values():
        deps.update(prop.urns)
    return Goal(
        type=req.type,
        name=req.name,
        custom=req.custom,
        parent=req.parent,
        inputs=from_struct(req.object),
        provider=req.provider,
        version=req.version,
        dependencies=sorted(deps),
        property_dependencies={k: list(v.urns) for k, v in req.propertyDependencies.items()},
        protect=bool(req.protect),
        delete_before_replace=req.deleteBeforeReplace,
        ignore_changes=list(req.ignoreChanges),
        replace_on_changes=list(req.replaceOnChanges),
        additional_secret_outputs=list(req.additionalSecretOutputs),
        retain_on_delete=bool(req.retainOnDelete),
        # Without the aliasSpecs feature the SDK sends every alias as a full URN.
        aliases=list(req.aliasURNs),
        unsupported=[name for name, used in (
            ("import", bool(req.importId)),
            ("deletedWith", bool(req.deletedWith)),
        ) if used],
    )


class ResourceMonitor(resource_pb2_grpc.ResourceMonitorServicer):
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.shutdown_signalled = threading.Event()
        self.errors: list[str] = []

    def _abort(self, context: grpc.ServicerContext, message: str,
               code: grpc.StatusCode = grpc.StatusCode.UNKNOWN) -> None:
        self.errors.append(message)
        context.abort(code, message)

    def GetDeploymentInfo(self, request: Any, context: grpc.ServicerContext) -> Any:
        # Only features this engine implements: advertising one makes the SDK use it.
        return resource_pb2.DeploymentInfo(
            supportedFeatures=[resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS])

    def SupportsFeature(self, request: Any, context: grpc.ServicerContext) -> Any:
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id == "secrets")

    def RegisterResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            result = self.deployment.register(goal_from_request(request))
        except (StepFailed, ProviderError) as exc:
            self._abort(context, str(exc))
        except Exception as exc:  # noqa: BLE001 - never an opaque error for the program
            self._abort(context, f"engine error registering {request.type} {request.name}: {exc!r}",
                        grpc.StatusCode.INTERNAL)
        return resource_pb2.RegisterResourceResponse(
            urn=result.urn, id=result.id, object=to_struct(result.outputs))

    def RegisterResourceOutputs(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.deployment.register_outputs(request.urn, from_struct(request.outputs))
        return empty_pb2.Empty()

    def ReadResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        if request.type != urns.STACK_REFERENCE_TYPE:
            self._abort(context, f"reading existing resources ({request.type}.get) is not supported "
                        "by the embedded engine; only StackReference is",
                        grpc.StatusCode.UNIMPLEMENTED)
        try:
            result = self.deployment.read_stack_reference(request.type, request.name, request.id,
                                                          request.parent)
        except StepFailed as exc:
            self._abort(context, str(exc))
        return resource_pb2.ReadResourceResponse(urn=result.urn, id=result.id,
                                                 properties=to_struct(result.outputs))

    def Invoke(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._abort(context, f"function {request.tok} is not supported by the embedded engine",
                    grpc.StatusCode.UNIMPLEMENTED)

    def SignalAndWaitForShutdown(self, request: Any, context: grpc.ServicerContext) -> Any:
        # The program finished and every registration is in: the deletes may run.
        self.shutdown_signalled.set()
        return empty_pb2.Empty()


class EngineService(engine_pb2_grpc.EngineServicer):
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._root = ""

    def Log(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.deployment.sink.diagnostic(
            Diagnostic(_SEVERITY.get(request.severity, "info"), request.message, request.urn))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        return engine_pb2.GetRootResourceResponse(urn=self._root)

    def SetRootResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._root = request.urn
        return engine_pb2.SetRootResourceResponse()


class MonitorServer:
    """Serves ResourceMonitor and Engine on 127.0.0.1 on a free port."""

    def __init__(self, deployment: Deployment, *, workers: int = 16) -> None:
        self.monitor = ResourceMonitor(deployment)
        self.engine = EngineService(deployment)
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="monitor"),
            options=[("grpc.max_receive_message_length", _MAX_MESSAGE),
                     ("grpc.max_send_message_length", _MAX_MESSAGE)],
        )
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(self.monitor, self._server)
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(grace=1).wait()
