"""Configuration management of a deployed replica: Ansible roles over the containers.

`prepare` turns the stacks' outputs and the topology model into an inventory
(`<workdir>/ansible/<edition>/inventory/<target>.yml`, no secrets), makes
sure the edition's secrets exist (`replicator.secrets_store`) and names the
version of the application service the app image must carry (the code is
baked into the image: `replicator.images.recipes.app_version`); `configure` runs `playbooks/site.yml` through
ansible-runner, twice with the idempotence gate (a second pass that changes
anything fails, like Molecule's idempotence check).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replicator.configure.inventory import Inventory, build_inventory
from replicator.configure.results import EventHandler, PlaybookResult, TaskOutcome
from replicator.configure.run import run_passes
from replicator.configure.strategy import Strategy
from replicator.errors import InputError, ReplicatorError
from replicator.paths import work_dir
from replicator.secrets_store import EditionSecrets, SecretsStore
from replicator.stacks import CheckedStack

PLAYBOOK = Path("playbooks") / "site.yml"

__all__ = ["ConfigureResult", "IdempotenceReport", "Prepared", "configure", "idempotence_report",
           "prepare", "run_dir"]


def run_dir(root: Path, edition: str) -> Path:
    """The private data dir of ansible-runner for an edition (inventory, artifacts)."""
    return work_dir(root) / "ansible" / edition


@dataclass
class Prepared:
    root: Path
    edition: str
    label: str  # the stack name, or the edition for all its stacks
    inventory: Inventory
    inventory_path: Path
    secrets: EditionSecrets
    run_dir: Path


def _db_services(targets: Sequence[CheckedStack]) -> list[str]:
    topology = targets[0].topology
    venues = targets[0].settings.venues
    return [d.name for d in topology.deployed_services(venues=venues) if d.service.tier("db")]


def prepare(root: Path, targets: Sequence[CheckedStack], label: str | None = None) -> Prepared:
    if not targets:
        raise InputError("nothing to configure: no stack given")
    editions = {t.settings.edition for t in targets}
    if len(editions) != 1:
        raise InputError(f"stacks of several editions given ({', '.join(sorted(editions))})",
                         fix="configure one edition at a time")
    edition = editions.pop()
    from replicator.engine import StackRunner

    runner = StackRunner(root, work_dir(root))
    outputs = []
    for target in targets:
        state = runner.load_state(target.name)
        if not state.outputs:
            raise ReplicatorError(f"stack {target.name} has no outputs: it has not been deployed",
                                  fix=f"run `replicator up {target.name}` first")
        outputs.append((target.name, state.outputs))
    inventory = build_inventory(targets[0].topology, outputs)
    _check_roles(root, inventory)
    directory = run_dir(root, edition)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    from replicator.images.recipes import app_version

    # The version the image build bakes in (apps/ of the checkout replicator runs from).
    inventory.data["all"]["vars"]["replicator_app_version"] = app_version()
    label = label or (targets[0].name if len(targets) == 1 else edition)
    path = inventory.write(directory / "inventory" / f"{label}.yml")
    db_services = sorted(set(inventory.db_services) | set(_db_services(targets)))
    secrets = SecretsStore(work_dir(root)).ensure(edition, db_services)
    return Prepared(root=root, edition=edition, label=label, inventory=inventory,
                    inventory_path=path, secrets=secrets, run_dir=directory)


def _check_roles(root: Path, inventory: Inventory) -> None:
    """Every container's service has its role: checked once here, not as a task on every host."""
    roles = {str(inventory.hostvars(h)["replicator_role"]) for h in inventory.hosts}
    missing = sorted(r for r in roles if not (root / "roles" / r / "meta" / "main.yml").is_file())
    if missing:
        raise InputError(f"no Ansible role for service(s) {', '.join(missing)} of the topology",
                         fix=f"add roles/{missing[0]} (defaults/main.yml with its settings, "
                             "meta/main.yml), as roles/wrs is")


@dataclass
class IdempotenceReport:
    """What the second pass changed: every (host, task) is an idempotence failure."""

    offenders: list[TaskOutcome] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.offenders

    def lines(self) -> list[str]:
        """Molecule's wording: one `* [host] => role : task` line per offender."""
        if self.passed:
            return ["Idempotence completed successfully."]
        out = ["Idempotence test failed because of the following tasks:"]
        out += [f"* [{o.host}] => {o.label}" + (" (handler)" if o.handler else "")
                for o in self.offenders]
        return out

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "offenders": [o.to_json() for o in self.offenders]}


def idempotence_report(second: PlaybookResult) -> IdempotenceReport:
    seen: set[tuple[str, str, str]] = set()
    offenders = []
    for change in second.changes:
        key = (change.host, change.role, change.task)
        if key not in seen:
            seen.add(key)
            offenders.append(change)
    return IdempotenceReport(offenders)


@dataclass
class ConfigureResult:
    prepared: Prepared
    passes: list[PlaybookResult]
    idempotence: IdempotenceReport | None = None

    @property
    def succeeded(self) -> bool:
        if not self.passes or not all(p.succeeded for p in self.passes):
            return False
        return self.idempotence is None or self.idempotence.passed

    def to_json(self) -> dict[str, Any]:
        return {"edition": self.prepared.edition, "target": self.prepared.label,
                "succeeded": self.succeeded,
                "inventory": str(self.prepared.inventory_path),
                "passes": [p.to_json() for p in self.passes],
                "idempotence": self.idempotence.to_json() if self.idempotence else None}


def configure(prepared: Prepared, *, check: bool = False, limit: str | None = None,
              idempotence: bool = False, forks: int | None = None,
              strategy: Strategy = "mitogen", verbosity: int = 0,
              on_pass: Callable[[int, str], EventHandler | None] | None = None,
              after_pass: Callable[[int, PlaybookResult], None] | None = None) -> ConfigureResult:
    """Run the site playbook (twice with `idempotence`; the second pass must change nothing)."""
    if check and idempotence:
        raise InputError("--check and --idempotence do not mix: a dry run changes nothing",
                         fix="drop one of them")
    # The gate's second pass runs in the same ansible-playbook process as the first
    # (`passes`): the controller and Mitogen's interpreters in the containers are
    # started once, not twice.
    names = ["configure", "idempotence"] if idempotence else ["check" if check else "configure"]
    passes = run_passes(
        root=prepared.root, run_dir=prepared.run_dir, inventory=prepared.inventory_path,
        playbook=prepared.root / PLAYBOOK, secrets_env=prepared.secrets.env(),
        labels=[f"{prepared.label}-{name}" for name in names], check=check, limit=limit,
        forks=forks, strategy=strategy, verbosity=verbosity,
        on_start=(lambda number: on_pass(number, names[number - 1])) if on_pass else None,
        on_end=after_pass)
    report = None
    if idempotence and len(passes) == 2 and passes[1].succeeded:
        report = idempotence_report(passes[1])
    return ConfigureResult(prepared=prepared, passes=passes, idempotence=report)
