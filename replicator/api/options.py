"""The one options object each API entry point takes, validated when it is built.

A pydantic model, frozen, no unknown fields. A bad value raises `InputError`
(exit 2) naming the field, as a bad command-line argument does; the rules between
fields raise it with the command-line wording and a fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from replicator.inputs.deploy import DEFAULT_PARALLEL, MAX_PARALLEL
from replicator.errors import InputError
from replicator.inputs.ansible import Strategy

Verb = Literal["preview", "up", "destroy", "refresh"]
Engine = Literal["auto", "embedded", "pulumi"]
PIPELINE_STEPS = ("build", "up", "configure", "verify", "report")  # api.pipeline.STEPS, in order


class Options(BaseModel):
    """The base of every options object: `root` is the project (default: found from the cwd)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    root: Path | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            where = _FLAGS.get(field, "--" + field.replace("_", "-")) if field else None
            raise InputError(f"{first['msg']} ({type(self).__name__}.{field or '?'})",
                             path=where,
                             fix="use a value the message names (the command's --help lists them)") from exc


# A field's name on the command line, where it is not `--<field-name>`.
_FLAGS = {"verb": "VERB", "stack": "STACK", "params_file": "--params", "sets": "--set",
          "verbosity": "--verbose", "verify_output": "--output", "file": "FILE",
          "cells": "--cell"}


class DeployOptions(Options):
    verb: Verb
    stack: str | None = None
    edition: str | None = None
    cwd: Path | None = None  # any Python Pulumi project (as `pulumi --cwd`)
    backend_url: str | None = None  # with cwd: the file backend of its state
    engine: Engine = "auto"
    parallel: int = Field(default=DEFAULT_PARALLEL, ge=1, le=MAX_PARALLEL)
    refresh: bool = False  # refresh the state from Docker before the verb

    @model_validator(mode="after")
    def _cwd_rules(self) -> DeployOptions:
        if self.cwd is not None and self.edition:
            raise InputError("--edition names stacks of this project; it cannot be used with "
                             "--cwd", fix="name one stack: replicator up --cwd DIR STACK")
        if self.cwd is not None and self.engine == "pulumi":
            raise InputError("--cwd runs a project with the embedded engine",
                             fix="with a Pulumi CLI, run `pulumi --cwd DIR` directly")
        return self


class ConfigureOptions(Options):
    stack: str | None = None
    edition: str | None = None
    check: bool = False  # dry run
    limit: str | None = None  # Ansible host pattern
    idempotence: bool = False  # a second pass must change nothing
    forks: int | None = Field(default=None, ge=1, le=64)
    strategy: Strategy = "mitogen"  # Ansible's execution strategy (docs/configure.md)
    verbosity: int = Field(default=0, ge=0, le=6)

    @model_validator(mode="after")
    def _check_or_idempotence(self) -> ConfigureOptions:
        if self.check and self.idempotence:
            raise InputError("--check and --idempotence do not mix: a dry run changes nothing",
                             fix="drop one of them")
        return self


class VerifyOptions(Options):
    stack: str | None = None
    edition: str | None = None
    output: Path | None = None  # default reports/<edition>/verify/
    level: Literal["structure", "full"] = "full"
    workers: int | None = Field(default=None, ge=1, le=8)
    isolation_sample: int | None = Field(default=None, ge=1)
    seed: int = 2024


class ReportOptions(Options):
    stack: str | None = None
    edition: str | None = None
    params_file: Path | None = None
    sets: tuple[str, ...] = ()  # key=value overrides
    output: Path | None = None
    workers: int = Field(default=64, ge=1, le=64)


class ReplicateOptions(Options):
    edition: str
    skip: frozenset[str] = frozenset()
    forks: int | None = Field(default=None, ge=1, le=64)
    strategy: Strategy = "mitogen"
    engine: Engine = "auto"
    parallel: int = Field(default=DEFAULT_PARALLEL, ge=1, le=MAX_PARALLEL)
    verify_output: Path | None = None

    @model_validator(mode="after")
    def _known_steps(self) -> ReplicateOptions:
        unknown = self.skip - set(PIPELINE_STEPS)
        if unknown:
            raise InputError(f"--skip: no step {', '.join(sorted(unknown))}",
                             fix=f"name steps of: {', '.join(PIPELINE_STEPS)}")
        return self

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(s for s in PIPELINE_STEPS if s not in self.skip)


class StatusOptions(Options):
    stack: str | None = None
    edition: str | None = None


class HostsUpOptions(Options):
    edition: str
    per_site: int = Field(default=1, ge=1, le=8)  # a site spans its hosts when > 1


class HostsDownOptions(Options):
    edition: str | None = None  # None: every edition's hosts


class CampaignOptions(Options):
    file: Path  # a campaign file, e.g. campaigns/paris2024/smoke.yaml
    cells: tuple[str, ...] = ()  # only these cells (default: every cell)
    scale: float = Field(default=1.0, ge=0.01, le=1000)  # x the Games volume of every peak
    edition: str | None = None  # another deployed edition than the file's


class CampaignReportOptions(Options):
    output: Path | None = None  # default reports/campaigns/
    campaign: str | None = None  # only this campaign's runs
    target_hours: float | None = Field(default=None, gt=0)


class CampaignScheduleOptions(Options):
    edition: str = "paris2024"
    write: bool = False  # regenerate stacks/schedule/<edition>.json first


class OutputsOptions(Options):
    stack: str | None = None
    cwd: Path | None = None  # any Python Pulumi project (as `pulumi --cwd`)
    backend_url: str | None = None
    show_secrets: bool = False  # secret outputs in clear (else masked)


class GraphOptions(Options):
    edition: str = "paris2024"
    format: Literal["mermaid", "dot"] = "mermaid"
    venues: tuple[str, ...] | None = None  # per-venue services of these venues (default: all)

    @model_validator(mode="after")
    def _some_venues(self) -> GraphOptions:
        if self.venues is not None and not self.venues:
            raise InputError("no venue code given", path="--venues",
                             fix="give venue codes like AQC,STA or omit --venues")
        return self


class StackOptions(Options):
    """One stack's state: this project's stack, or a `--cwd` project's."""

    stack: str | None = None
    cwd: Path | None = None
    backend_url: str | None = None

    @model_validator(mode="after")
    def _named(self) -> StackOptions:
        if self.cwd is None and self.stack is None:
            raise InputError("name the stack", path="STACK",
                             fix="e.g. replicator stack export paris2024-itl")
        return self


class ConfigOptions(Options):
    """A config key of this project's stack files (--stack or --edition), or of a
    `--cwd` project's stack file."""

    key: str
    stack: str | None = None
    edition: str | None = None
    cwd: Path | None = None
    backend_url: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ConfigOptions:
        if self.cwd is not None and self.edition:
            raise InputError("names stacks of this project; it cannot go with --cwd",
                             path="--edition", fix="name the stack with --stack")
        return self


class OdfOptions(Options):
    edition: str | None = None  # default: the only edition with stacks


class EngineOptions(Options):
    docker_host: str | None = None  # default: DOCKER_HOST, then the local socket


class ImageBuildOptions(EngineOptions):
    names: tuple[str, ...] = ()  # default: every image
    force: bool = False  # rebuild even when the recipe's image exists
    verbose: bool = False  # every build log line
