"""Pulumi URNs: `urn:pulumi:<stack>::<project>::<qualified type>::<name>`.

The qualified type chains the parent's types with `$`, leaving the root Stack
out, exactly as the Pulumi engine builds them, so that state written here and
state written by a real `pulumi up` name resources the same way.
"""

from __future__ import annotations

STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"


def make_urn(stack: str, project: str, type_: str, name: str, parent_urn: str | None) -> str:
    qualified = type_
    if parent_urn:
        parent_type = qualified_type(parent_urn)
        if parent_type != STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def type_of(urn: str) -> str:
    return qualified_type(urn).split("$")[-1]


def name_of(urn: str) -> str:
    return urn.split("::", 3)[3]


def provider_ref(urn: str, id_: str) -> str:
    return f"{urn}::{id_}"


def parse_provider_ref(ref: str) -> tuple[str, str]:
    urn, _, id_ = ref.rpartition("::")
    return urn, id_


def default_provider_urn(stack: str, project: str, package: str, version: str) -> str:
    suffix = version.replace(".", "_") if version else ""
    name = f"default_{suffix}" if suffix else "default"
    return make_urn(stack, project, f"{PROVIDER_TYPE_PREFIX}{package}", name, None)


def package_of(type_: str) -> str:
    """`docker:index/container:Container` -> `docker`."""
    if type_.startswith(PROVIDER_TYPE_PREFIX):
        return type_[len(PROVIDER_TYPE_PREFIX) :]
    return type_.split(":", 1)[0]
