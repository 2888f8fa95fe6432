"""The snapshot of a running deployment and its persister (Pulumi's SnapshotManager).

Steps change what exists (`live`), the pending operations and the stack's
outputs through this object; `save()` writes all of it to the `StateStore`
atomically after every step that changed something, so a run killed at any
point leaves a state that says what exists. A dry run (preview) keeps the same
snapshot in memory and never writes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from replicator.engine import urn as urns
from replicator.engine.diff import deletion_order
from replicator.engine.state import PendingOperation, ResourceState, StackState, StateStore, _now


class SnapshotPersister:
    def __init__(self, *, stack: str, project: str, store: StateStore | None, old: StackState,
                 dry_run: bool) -> None:
        self.stack, self.project, self.store, self.dry_run = stack, project, store, dry_run
        # One lock for the whole deployment: registrations arrive on the SDK's threads.
        self.lock = threading.RLock()
        self._old = old
        # The old state by URN (the base the steps are decided against).
        self.base: dict[str, ResourceState] = old.by_urn()
        # What exists right now; written by every save.
        self.live: dict[str, ResourceState] = dict(self.base)
        # Old records of resources replaced create-before-delete: deleted after the
        # program, not written (the new record holds the URN in the state).
        self.replaced: list[ResourceState] = []
        self.outputs: dict[str, Any] = dict(old.outputs)
        self.engines: dict[str, dict[str, Any]] = dict(old.engines)
        self.pending: list[PendingOperation] = list(old.pending)

    # ------------------------------------------------------------------ records
    def records_of(self, urn: str) -> list[ResourceState]:
        """Every record `urn` has in this run: live, old, replaced."""
        with self.lock:
            found = [self.live.get(urn), self.base.get(urn), *[r for r in self.replaced if r.urn == urn]]
        return [r for r in found if r is not None]

    def dependents_of(self, urn: str) -> list[ResourceState]:
        """The live custom resources that depend on `urn`, directly or not."""
        with self.lock:
            deps = dependency_map(self.live.values())
            closure: set[str] = set()
            frontier = {urn}
            while frontier:
                nxt = {u for u, d in deps.items() if d & frontier and u not in closure and u != urn}
                closure |= nxt
                frontier = nxt
            return [self.live[u] for u in closure if u in self.live and self.live[u].custom]

    def put(self, record: ResourceState) -> None:
        with self.lock:
            self.live[record.urn] = record

    def remove(self, record: ResourceState) -> None:
        """Forget `record` if it is still the live one (a replacement may hold the URN now)."""
        with self.lock:
            if self.live.get(record.urn) is record:
                del self.live[record.urn]

    def adopt_alias(self, urn: str, aliases: list[str]) -> None:
        """A resource known under an alias URN becomes this URN's old state (no replace)."""
        with self.lock:
            if urn in self.base:
                return
            alias = next((a for a in aliases if a in self.base and a in self.live), None)
            if alias is None:
                return
            moved = replace(self.base[alias], urn=urn)
            self.base[urn] = moved
            # Renamed in place: the old URN is neither live nor to be deleted.
            del self.live[alias]
            self.live[urn] = moved

    def set_outputs(self, urn: str, outputs: dict[str, Any], *, stack: bool) -> None:
        with self.lock:
            if stack:
                changed = self.outputs != outputs
                self.outputs = outputs
            elif urn in self.live:
                changed = self.live[urn].outputs != outputs
                self.live[urn] = replace(self.live[urn], outputs=outputs)
            else:
                changed = False
        if changed:
            self.save()

    # ------------------------------------------------------------------ pending operations
    def begin(self, op: PendingOperation, *, save: bool) -> None:
        """Record an operation before it starts, so that a kill leaves a trace of it."""
        with self.lock:
            self.pending.append(op)
        if save:
            self.save()

    def end(self, op: PendingOperation) -> None:
        with self.lock:
            self.pending.remove(op)

    # ------------------------------------------------------------------ writing
    def save(self) -> None:
        if self.dry_run or self.store is None:
            return
        # Snapshot and write under one lock: two threads must never write an
        # older snapshot after a newer one.
        with self.lock:
            snapshot = StackState(
                stack=self.stack,
                project=self.project,
                resources=ordered(list(self.live.values())),
                outputs=self.outputs,
                # Only the engines of providers still in the state: a provider deleted
                # (a site no longer on that engine) must not count as a host any more.
                engines={urn: e for urn, e in self.engines.items() if urn in self.live},
                pending=list(self.pending),
                last_operation=self._old.last_operation,
            )
            self.store.save(snapshot)

    def save_final(self, kind: str, result: str, started: str) -> None:
        if self.store is None or self.dry_run:
            return
        self._old.last_operation = {"kind": kind, "result": result, "started": started,
                                    "finished": _now()}
        self.save()


def dependency_map(records: Iterable[ResourceState]) -> dict[str, set[str]]:
    """URN -> the URNs it depends on: declared dependencies, its parent, its provider."""
    deps: dict[str, set[str]] = {}
    for r in records:
        d = set(r.dependencies)
        if r.parent:
            d.add(r.parent)
        if r.provider:
            d.add(urns.parse_provider_ref(r.provider)[0])
        deps[r.urn] = d
    return deps


def ordered(records: list[ResourceState]) -> list[ResourceState]:
    """Dependencies before dependents (the order Pulumi keeps in its checkpoints)."""
    waves = deletion_order([r.urn for r in records], dependency_map(records))
    by_urn = {r.urn: r for r in records}
    return [by_urn[u] for wave in reversed(waves) for u in wave]
