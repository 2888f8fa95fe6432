"""What the program asks of the engine (a `Goal` per RegisterResource) and what it gets back.

A `Registration` is a custom resource's goal once its provider has checked it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from replicator.engine.diff import Op
from replicator.engine.properties import (
    mark_secret_paths,
    secretise_like,
)
from replicator.engine.providers.base import ResourceProvider
from replicator.engine.state import ResourceState, _now


class StepFailed(Exception):
    """A resource step failed; the message names the resource and the cause."""


class StepRejected(Exception):
    """The step generator refused a goal before any step ran (a check, a protected resource).

    The executor reports it as a failed step of `urn` and raises `StepFailed`
    naming the resource.
    """

    def __init__(self, urn: str, parent: str, op: Op, message: str) -> None:
        super().__init__(message)
        self.urn, self.parent, self.op, self.message = urn, parent, op, message


@dataclass
class Goal:
    """What the program asked for in one RegisterResource call."""

    type: str
    name: str
    custom: bool
    parent: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    provider: str = ""
    version: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    retain_on_delete: bool = False
    # URNs this resource had before (the SDK resolves `aliases=` to URNs).
    aliases: list[str] = field(default_factory=list)
    # Resource options the program used that this engine does not implement.
    unsupported: list[str] = field(default_factory=list)


@dataclass
class RegisterResult:
    urn: str
    id: str
    outputs: dict[str, Any]


@dataclass
class Registration:
    """A custom resource's goal as its provider checked it: what its step builds records from."""

    urn: str
    goal: Goal
    parent: str
    provider_ref: str
    provider: ResourceProvider
    inputs: dict[str, Any]  # checked: defaults, auto-name, ignoreChanges applied
    old: ResourceState | None

    def record(self, rid: str, outputs: dict[str, Any], *, keep_created: bool = True) -> ResourceState:
        goal, old = self.goal, self.old
        return ResourceState(
            urn=self.urn, type=goal.type, custom=True, id=rid, parent=self.parent,
            provider=self.provider_ref, inputs=secretise_like(self.inputs, goal.inputs),  # a secret sent stays wrapped
            outputs=mark_secret_paths(secretise_like(outputs, goal.inputs),
                                      goal.additional_secret_outputs),
            dependencies=sorted(set(goal.dependencies)), protect=goal.protect,
            property_dependencies={k: sorted(set(v)) for k, v in goal.property_dependencies.items()},
            delete_before_replace=goal.delete_before_replace,
            ignore_changes=list(goal.ignore_changes),
            additional_secret_outputs=list(goal.additional_secret_outputs),
            retain_on_delete=goal.retain_on_delete,
            created=old.created if old and keep_created else _now(), modified=_now(),
        )

