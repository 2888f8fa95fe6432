"""The roles' contracts, checked once here instead of as tasks on every host.

playbooks/site.yml includes roles with `rolespec_validate: false` (a validation
task costs a worker process per host and role, issue #9). So every role's
`meta/argument_specs.yml` is checked here against what the role really gets:
its own defaults, and the host vars `replicator configure` generates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from replicator.configure import _check_roles
from replicator.configure.inventory import build_inventory
from replicator.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parents[3]

ROLES = PROJECT_ROOT / "roles"
SPEC_ROLES = sorted(p.parents[1].name for p in ROLES.glob("*/meta/argument_specs.yml"))


def _spec(role: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    return doc["argument_specs"]["main"]["options"]


def _defaults(role: str) -> dict[str, Any]:
    path = ROLES / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def _untemplated(values: dict[str, Any]) -> dict[str, Any]:
    """What can be checked without Ansible's templating: values with no `{{`."""
    return {k: v for k, v in values.items() if not (isinstance(v, str) and "{{" in v)}


def test_every_role_has_an_argument_spec():
    roles = sorted(p.name for p in ROLES.iterdir() if (p / "meta" / "main.yml").is_file())
    assert roles == SPEC_ROLES


@pytest.mark.parametrize("role", SPEC_ROLES)
def test_defaults_are_declared_and_match_their_spec(role):
    spec, defaults = _spec(role), _defaults(role)
    assert set(defaults) <= set(spec), f"roles/{role}: defaults not in the argument spec"
    # Templated defaults are resolved per host; the required ones come from the inventory.
    relaxed = {k: {**v, "required": False} for k, v in spec.items()}
    result = ArgumentSpecValidator(relaxed).validate(_untemplated(defaults))
    assert not result.error_messages, f"roles/{role}: {result.error_messages}"


def test_app_settings_of_the_inventory_match_the_spec(paris, paris_outputs):
    """The host vars app_service maps to its options have the declared types."""
    inv = build_inventory(paris, paris_outputs)
    relaxed = {k: {**v, "required": False} for k, v in _spec("app_service").items()}
    hosts = [h for h in inv.hosts if inv.hostvars(h)["replicator_tier"] == "app"]
    assert hosts
    for host in hosts:
        hostvars = inv.hostvars(host)
        values = {"app_service_port": hostvars["replicator_port"],
                  "app_service_peers": hostvars.get("replicator_peers", {})}
        result = ArgumentSpecValidator(relaxed).validate(values)
        assert not result.error_messages, f"{host}: {result.error_messages}"


def test_service_roles_carry_settings_only():
    """A service role with tasks or dependencies would be skipped or double-run by site.yml."""
    for role in SPEC_ROLES:
        if role in ("common", "app_service", "db_tier", "web_tier"):
            continue
        meta = yaml.safe_load((ROLES / role / "meta" / "main.yml").read_text())
        assert meta.get("dependencies") == [], role
        assert not (ROLES / role / "tasks").exists(), role
        for key in _defaults(role):
            assert key.startswith(f"{role}_"), f"roles/{role}: {key} must be {role}_<setting>"


def test_a_service_without_a_role_is_refused_before_ansible(paris, paris_outputs, tmp_path):
    root = tmp_path / "project"
    for role in SPEC_ROLES:
        if role != "wrs":
            (root / "roles" / role / "meta").mkdir(parents=True)
            (root / "roles" / role / "meta" / "main.yml").write_text("---\n")
    inv = build_inventory(paris, paris_outputs)
    with pytest.raises(InputError) as caught:
        _check_roles(root, inv)
    assert "wrs" in str(caught.value) and "roles/wrs" in caught.value.fix
    _check_roles(PROJECT_ROOT, inv)  # the real project has them all


def test_site_playbook_loads_the_service_settings_then_includes_its_tier():
    play = yaml.safe_load(Path(PROJECT_ROOT / "playbooks" / "site.yml").read_text())[0]
    assert play["vars_files"] == ["../roles/{{ replicator_role }}/defaults/main.yml"]
    names = [t["ansible.builtin.include_role"]["name"] for t in play["tasks"]]
    assert names == ["{{ tier_roles[replicator_tier] }}"]
    assert play["vars"]["tier_roles"] == {"db": "db_tier", "app": "app_service", "web": "web_tier"}
