"""Per-stack settings: the ``replicator:*`` keys of ``stacks/Pulumi.<stack>.yaml``.

The file uses Pulumi's stack-config layout (camelCase keys under the
``replicator`` namespace); the model uses snake_case. Under the Pulumi
program the same keys arrive as strings with objects JSON-encoded, so
`stack_settings_from_config` accepts both forms. Error paths are always
written as in the file (``config.replicator:subnets.lan``) so that a user
can find the key whichever way the settings were read.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from replicator import naming
from replicator.inputs import check_stack_name, load_yaml
from replicator.inputs.docker_host import DEFAULT_DOCKER_HOST, DOCKER_HOST_FIX, docker_host_problem
from replicator.topology.errors import Problem, TopologyError, invalid
from replicator.topology.loader import problems_from_validation
from replicator.topology.model import Name, private_network
from replicator.inputs.paths import PathPart, line_of, render_path

if TYPE_CHECKING:
    from replicator.topology.model import Topology

STACKS_DIR = Path("stacks")
NAMESPACE = "replicator"

# model field -> key in the stack file (without the namespace)
FILE_KEYS: dict[str, str] = {
    "edition": "edition",
    "site": "site",
    "docker_host": "dockerHost",
    "docker_hosts": "dockerHosts",
    "wan_encrypted": "wanEncrypted",
    "subnets": "subnets",
    "venues": "venues",
    "image_tag": "imageTag",
    "publish": "publish",
}
_FIELD_OF = {key: field for field, key in FILE_KEYS.items()}
# Pulumi hands these to the program as JSON strings.
_OBJECT_KEYS = {"subnets", "venues", "publish", "dockerHosts"}
_PREFIX: tuple[PathPart, ...] = ("config",)

VenueCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{2}$")]
# `replicator:venues: all` (or the key left out): every venue of the edition's topology.
ALL_VENUES = "all"
PublishKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*/(web|app|db):\d{1,5}$")]
HostPort = Annotated[int, Strict(), Field(ge=1024, le=65535)]


def _host_url(value: str) -> str:
    problem = docker_host_problem(value)
    if problem:
        raise invalid(problem, DOCKER_HOST_FIX)
    return value


def _file_path(field: str, *rest: PathPart) -> str:
    return render_path([*_PREFIX, f"{NAMESPACE}:{FILE_KEYS.get(field, field)}", *rest])


class Subnets(BaseModel):
    """The site's own networks: `lan` for its services, `edge` towards the WAN."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lan: ipaddress.IPv4Network
    edge: ipaddress.IPv4Network

    @field_validator("lan", "edge", mode="before")
    @classmethod
    def _private(cls, value: object) -> ipaddress.IPv4Network:
        return private_network(value)

    @field_validator("edge")
    @classmethod
    def _apart(cls, value: ipaddress.IPv4Network, info: ValidationInfo) -> ipaddress.IPv4Network:
        lan = info.data.get("lan")
        if lan is not None and value.overlaps(lan):
            raise invalid(
                f"edge subnet {value} overlaps the lan subnet {lan}",
                "give lan and edge separate subnets",
            )
        return value


class StackSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stack: str
    edition: Name
    site: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*$")]
    docker_host: str = DEFAULT_DOCKER_HOST
    # A site spanning several engines lists them all (dockerHost among them: the site's
    # networks are made there): its containers are placed on them by name
    # (replicator.naming.place).
    docker_hosts: list[str] | None = None
    # Inter-site circuits on overlay networks (an edition on several engines) are
    # encrypted unless this is false (a kernel without ESP carries nothing encrypted).
    wan_encrypted: bool = True
    subnets: Subnets
    venues: list[VenueCode] | None = None  # None: every venue of the edition
    image_tag: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")] = (
        "latest"
    )
    publish: dict[PublishKey, HostPort] = Field(default_factory=dict)
    source_file: Path
    _document: Any = PrivateAttr(default=None)

    @field_validator("docker_host")
    @classmethod
    def _docker_host(cls, value: str) -> str:
        return _host_url(value)

    @field_validator("docker_hosts")
    @classmethod
    def _docker_hosts(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise invalid("an empty engine list places nothing",
                              "list the site's engines, or omit the key for dockerHost alone")
            if len(set(value)) != len(value):
                raise invalid("an engine is listed twice", "list each engine once")
            for host in value:
                _host_url(host)
        return value

    @property
    def engines(self) -> list[str]:
        """The site's engines, dockerHost first: dockerHosts, or dockerHost alone."""
        return [self.docker_host, *(h for h in self.docker_hosts or () if h != self.docker_host)]

    def engine_of(self, container: str) -> str:
        """The engine `container` of this site runs on (dockerHost unless the site spans)."""
        return naming.place(container, self.engines)

    @field_validator("venues", mode="before")
    @classmethod
    def _all_venues(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == ALL_VENUES:
            return None
        if isinstance(value, str):
            raise invalid(
                f"{value!r} is neither a list of venue codes nor {ALL_VENUES!r}",
                f"write `{ALL_VENUES}` for every venue of the edition, or a list like [AQC, STA]",
            )
        return value

    @field_validator("venues")
    @classmethod
    def _venues(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise invalid(
                "an empty venue list deploys no venue",
                f"list venue codes, or write `{ALL_VENUES}` for every venue",
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StackSettings:
        problems: list[Problem] = []
        expected = naming.stack_name(self.edition, self.site)
        if self.stack != expected:
            problems.append(
                Problem(
                    f"stack {self.stack!r} must be named <edition>-<site>, and edition "
                    f"{self.edition!r} with site {self.site!r} make {expected!r}",
                    _file_path("site"),
                    f"rename the file to Pulumi.{expected}.yaml, or correct edition/site",
                )
            )
        if self.docker_hosts and self.docker_host not in self.docker_hosts:
            problems.append(
                Problem(
                    f"dockerHost {self.docker_host} is not among dockerHosts",
                    _file_path("docker_host"),
                    "make dockerHost the first of dockerHosts (its networks live there)",
                )
            )
        if self.venues is not None:
            seen: set[str] = set()
            for i, code in enumerate(self.venues):
                if code in seen:
                    problems.append(
                        Problem(
                            f"venue {code} is listed twice",
                            _file_path("venues", i),
                            "list each venue once",
                        )
                    )
                seen.add(code)
        owners: dict[int, str] = {}
        for key, host_port in self.publish.items():
            if host_port in owners:
                problems.append(
                    Problem(
                        f"host port {host_port} is already used by {owners[host_port]!r}",
                        _file_path("publish", key),
                        "give each published port its own host port",
                    )
                )
            owners.setdefault(host_port, key)
        if problems:
            raise TopologyError.from_problems(problems)
        return self

    def __eq__(self, other: object) -> bool:
        # Equal settings, wherever they were read from (the private document is not compared).
        if not isinstance(other, StackSettings):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # mutable containers inside

    def line_of(self, path: str) -> int | None:
        """The line of a file path like ``config.replicator:venues[1]`` (None if unknown)."""
        return line_of(self._document, path) if self._document is not None else None

    def check_against(self, topology: Topology) -> None:
        """Check the references into the topology; raise TopologyError listing every problem."""
        problems = list(_against(self, topology))
        if problems:
            raise TopologyError.from_problems(problems).located(self.source_file, self.line_of)

    def published_targets(self, topology: Topology | None = None) -> list[tuple[str, str, int, int]]:
        """(deployed service, tier, container port, host port) for each published endpoint.

        A per-venue service named by its model name (`ovr/app:8080: 18100`) publishes
        every selected venue's copy, on the host port plus the venue's index among
        the edition's venues: ports stay put when the venue selection changes.
        """
        out = []
        for key, host_port in self.publish.items():
            name, tier, port = _split_publish_key(key)
            venues = _per_venue_codes(topology, name)
            if venues is None:
                out.append((name, tier, port, host_port))
                continue
            selected = set(self.venues) if self.venues is not None else None
            out += [(f"{name}-{code.lower()}", tier, port, host_port + i)
                    for i, code in enumerate(venues) if selected is None or code in selected]
        return out

    def host_port_ranges(self, topology: Topology | None = None) -> dict[str, range]:
        """Publish key -> the host ports it reserves (one per edition venue for per-venue)."""
        return {key: range(host_port, host_port + len(
                    _per_venue_codes(topology, _split_publish_key(key)[0]) or [None]))
                for key, host_port in self.publish.items()}


def _split_publish_key(key: str) -> tuple[str, str, int]:
    endpoint, _, port = key.rpartition(":")
    name, _, tier = endpoint.partition("/")
    return name, tier, int(port)


def _per_venue_codes(topology: Topology | None, name: str) -> list[str] | None:
    """The edition's venue codes when `name` is a per-venue model service, else None."""
    if topology is None:
        return None
    service = next((s for s in topology.services if s.name == name), None)
    if service is None or not service.per_venue:
        return None
    return [v.code for v in topology.venues if v.code]


def _port_overlaps(settings: StackSettings, topology: Topology) -> Iterable[Problem]:
    """Per-venue port ranges must stay below 65536 and clear of the stack's other ports."""
    ranges = settings.host_port_ranges(topology)
    seen: list[tuple[str, range]] = []
    for key, ports in ranges.items():
        if ports.stop - 1 > 65535:
            yield Problem(f"{key} needs host ports {ports.start}-{ports.stop - 1} (one per venue "
                          "of the edition), beyond 65535", _file_path("publish", key),
                          f"start it at {65536 - len(ports)} or lower")
        for other, taken in seen:
            if ports.start < taken.stop and taken.start < ports.stop and len(ports) + len(taken) > 2:
                yield Problem(f"host ports {ports.start}-{ports.stop - 1} of {key} overlap "
                              f"{taken.start}-{taken.stop - 1} of {other}",
                              _file_path("publish", key),
                              "move one of them: a per-venue entry takes one port per venue")
        seen.append((key, ports))


def _against(settings: StackSettings, topology: Topology) -> Iterable[Problem]:
    if settings.edition != topology.edition.code:
        yield Problem(
            f"the stack is for edition {settings.edition!r} but the topology is "
            f"{topology.edition.code!r}",
            _file_path("edition"),
            f"set replicator:edition to {topology.edition.code}",
        )
    if settings.site not in topology.sites:
        yield Problem(
            f"site {settings.site!r} is not in the {topology.edition.code} topology",
            _file_path("site"),
            "use one of: " + ", ".join(topology.sites),
        )
        return
    codes = [v.code for v in topology.venues if v.code]
    selected = []
    for i, code in enumerate(settings.venues or []):
        if code in codes:
            selected.append(code)
        else:
            yield Problem(
                f"venue {code!r} is not a venue of {topology.edition.code}",
                _file_path("venues", i),
                "use codes from: " + ", ".join(codes),
            )
    for key in ("lan", "edge"):
        subnet = getattr(settings.subnets, key)
        if subnet.overlaps(topology.wan.supernet):
            yield Problem(
                f"{key} subnet {subnet} overlaps the WAN supernet {topology.wan.supernet}",
                _file_path("subnets", key),
                f"pick a private subnet outside {topology.wan.supernet}",
            )
    venues = selected if settings.venues is not None else None
    deployed = {d.name: d for d in topology.deployed_services(settings.site, venues)}
    per_venue = {d.service.name: d.service for d in deployed.values() if d.venue is not None}
    yield from _port_overlaps(settings, topology)
    for key in settings.publish:
        name, tier_kind, port = _split_publish_key(key)
        model = per_venue.get(name) or (deployed[name].service if name in deployed else None)
        if model is None:
            yield Problem(
                f"{name!r} is not deployed on site {settings.site}",
                _file_path("publish", key),
                "publish one of this site's services: " + ", ".join([*deployed, *per_venue]),
            )
            continue
        tier = model.tier(tier_kind)
        if tier is None:
            yield Problem(
                f"{name!r} has no {tier_kind} tier",
                _file_path("publish", key),
                "use one of its tiers: " + ", ".join(t.kind for t in model.tiers),
            )
        elif tier.port(port) is None:
            yield Problem(
                f"{name}/{tier_kind} does not listen on port {port}",
                _file_path("publish", key),
                "use one of its ports: " + ", ".join(str(p.port) for p in tier.ports),
            )


def stack_path(project_root: Path, stack: str) -> Path:
    return project_root / STACKS_DIR / f"Pulumi.{stack}.yaml"


def list_stacks(project_root: Path) -> list[str]:
    """Stack names, from ``stacks/Pulumi.<stack>.yaml``, sorted."""
    return sorted(
        p.name[len("Pulumi.") : -len(".yaml")]
        for p in (project_root / STACKS_DIR).glob("Pulumi.*.yaml")
    )


def load_stack_settings(project_root: Path, stack: str, where: str = "STACK") -> StackSettings:
    check_stack_name(stack, where)
    path = stack_path(project_root, stack)
    if not path.is_file():
        raise TopologyError(
            f"no stack {stack!r} (the file does not exist)",
            file=path,
            fix="use one of the stacks available: "
            + (", ".join(list_stacks(project_root)) or "(none)"),
        )
    document = load_yaml(path, error=TopologyError, what="stack file")
    return stack_settings_from_document(document, source=path, stack=stack,
                                        project_root=project_root)


def stack_settings_from_document(document: Any, *, source: Path, stack: str,
                                 project_root: Path | None = None) -> StackSettings:
    """Settings from a stack file's document (as read, or as edited in memory by
    `replicator config`); with `project_root`, the hosts override is laid over it."""
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise TopologyError(
            "a stack file needs a `config:` mapping with the replicator:* keys",
            file=source,
            path="config",
            line=line_of(document, "config") or 1,
            fix="start from stacks/Pulumi.paris2024-itl.yaml",
        )
    if project_root is not None:
        config = _with_override(config, project_root, stack)
    return _settings(config, source=source, stack=stack, document=document)


def stack_settings_from_config(
    config: Mapping[str, object], *, source: str, stack: str | None = None,
    project_root: Path | None = None,
) -> StackSettings:
    """Settings from config already read, e.g. by the Pulumi program.

    Keys are ``replicator:<key>`` (other namespaces are ignored) or bare
    ``<key>``; object values may be JSON strings. `source` names where the
    config came from (the stack file) in errors; `stack` defaults to
    ``<edition>-<site>``. With `project_root`, the untracked host override
    (`replicator hosts up`) is laid over the config.
    """
    if project_root is not None:
        config = _with_override(config, project_root, stack)
    return _settings(config, source=Path(source), stack=stack, document=None)


def _with_override(config: Mapping[str, object], project_root: Path,
                   stack: str | None) -> Mapping[str, object]:
    """The config with `.replicator/hosts/<edition>/override.json` laid over it."""
    from replicator.hosts.override import override_config  # no Docker import: cheap

    def value(key: str) -> object:
        return config.get(f"{NAMESPACE}:{key}", config.get(key))

    edition, site = value("edition"), value("site")
    name = stack or (naming.stack_name(str(edition), site) if isinstance(site, str) else "")
    extra = override_config(project_root, edition, name)
    if not extra:
        return config
    # Drop the file's own spelling of an overridden key (bare or namespaced).
    kept = {k: v for k, v in config.items()
            if f"{NAMESPACE}:{str(k).rpartition(':')[2]}" not in extra}
    return {**kept, **extra}


def _settings(
    config: Mapping[str, object], *, source: Path, stack: str | None, document: Any
) -> StackSettings:
    def locate(exc: TopologyError) -> TopologyError:
        return exc.located(source, lambda p: line_of(document, p) if document is not None else None)

    data: dict[str, object] = {}
    problems: list[Problem] = []
    for raw_key, value in config.items():
        namespace, sep, key = str(raw_key).rpartition(":")
        if sep and namespace != NAMESPACE:
            continue  # another provider's or program's setting
        field = _FIELD_OF.get(key)
        if field is None:
            problems.append(
                Problem(
                    f"unknown setting {NAMESPACE}:{key}",
                    render_path([*_PREFIX, str(raw_key)]),
                    "use one of: " + ", ".join(f"{NAMESPACE}:{k}" for k in FILE_KEYS.values()),
                )
            )
            continue
        # Pulumi hands objects over JSON-encoded; other strings (`all`) are values.
        if key in _OBJECT_KEYS and isinstance(value, str) and value.lstrip().startswith(("[", "{")):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                problems.append(
                    Problem(
                        f"{NAMESPACE}:{key} is not valid JSON ({exc.msg})",
                        _file_path(field),
                        "give it as a YAML mapping or list, or as valid JSON",
                    )
                )
                continue
        data[field] = value
    if problems:
        raise locate(TopologyError.from_problems(problems))
    if stack is None and isinstance(data.get("edition"), str) and isinstance(data.get("site"), str):
        stack = f"{data['edition']}-{data['site']}"
    data["stack"] = stack if stack is not None else ""
    data["source_file"] = source
    try:
        settings = StackSettings.model_validate(data)
    except ValidationError as exc:
        rename = {field: f"{NAMESPACE}:{key}" for field, key in FILE_KEYS.items()}
        problems = problems_from_validation(exc, StackSettings, prefix=_PREFIX, rename=rename)
        raise locate(TopologyError.from_problems(problems)) from None
    except TopologyError as exc:
        raise locate(exc) from None
    settings._document = document
    return settings


def check_stack_set(settings: Sequence[StackSettings], topology: Topology | None = None) -> None:
    """Check stacks that run side by side: disjoint subnets, distinct host ports per Docker host.

    With the `topology`, a per-venue publish entry holds one host port per venue.
    Each problem is reported against the later stack's file and names the earlier one.
    """
    found: list[tuple[StackSettings, Problem]] = []
    subnets: list[tuple[ipaddress.IPv4Network, StackSettings, str]] = []
    ports: dict[tuple[str, int], StackSettings] = {}
    for s in settings:
        for key in ("lan", "edge"):
            net = getattr(s.subnets, key)
            path = _file_path("subnets", key)
            for other_net, other, other_key in subnets:
                if net.overlaps(other_net):
                    found.append(
                        (
                            s,
                            Problem(
                                f"{key} subnet {net} overlaps {other_key} subnet {other_net} of stack "
                                f"{other.stack} ({other.source_file})",
                                path,
                                "give every stack its own subnets",
                                s.line_of(path),
                            ),
                        )
                    )
            subnets.append((net, s, key))
        for key, reserved in s.host_port_ranges(topology).items():
            path = _file_path("publish", key)
            host_port = next((p for p in reserved if (s.docker_host, p) in ports), reserved.start)
            holder = ports.get((s.docker_host, host_port))
            if holder is not None:
                found.append(
                    (
                        s,
                        Problem(
                            f"host port {host_port} is also published by stack {holder.stack} "
                            f"({holder.source_file}) on the same Docker host",
                            path,
                            "give each stack its own host ports",
                            s.line_of(path),
                        ),
                    )
                )
            for reserved_port in reserved:
                ports.setdefault((s.docker_host, reserved_port), s)
    # Links reach per-venue services on another site (CTOC monitoring polls every
    # venue's OVR), so every stack of an edition must select the same venues.
    first = settings[0] if settings else None
    for s in settings[1:]:
        if first is not None and s.edition == first.edition and s.venues != first.venues:
            path = _file_path("venues")
            found.append((s, Problem(
                f"venues {s.venues or 'all'} differ from those of stack {first.stack} "
                f"({first.venues or 'all'}): links between sites reach every selected venue",
                path, f"give every stack of edition {s.edition} the same replicator:venues",
                s.line_of(path) or s.line_of("config"),
            )))
    if found:
        raise TopologyError.from_problems([p for _, p in found], file=found[0][0].source_file)
