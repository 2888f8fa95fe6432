"""Ansible's execution strategy for `replicator configure`: Mitogen's, or Ansible's own `free`.

Why Mitogen (issue #9, figures in docs/configure.md): with Ansible's own
strategies every task run on a container is a `docker exec` of a fresh
python3 that unpacks the module's AnsiballZ zip and compiles
`ansible.module_utils` from source, about 0.5 s of a core, plus a worker on
the controller that imports its connection plugin again. Mitogen starts one
Python interpreter per container for the whole run and keeps the imported
modules there; on this 2-core machine 120 `ping` task runs on 40 containers
cost 10 s instead of 66 s once the interpreters are up.

`free` stays available (`--strategy free`) as the reference, and for a
playbook run by hand with `ansible-playbook` (ansible.cfg's default).
"""

from __future__ import annotations

from pathlib import Path

from replicator.errors import EngineUnavailableError
from replicator.inputs.ansible import Strategy


def strategy_env(strategy: Strategy) -> dict[str, str]:
    """The ANSIBLE_* variables that select `strategy` for one ansible-playbook run."""
    if strategy == "free":
        return {"ANSIBLE_STRATEGY": "ansible.builtin.free"}
    try:
        import ansible_mitogen
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EngineUnavailableError(
            "the mitogen strategy needs the `mitogen` package, which is not installed",
            fix="run scripts/setup.sh (or pip install -e '.[configure]'), "
                "or pass --strategy free") from exc
    plugins = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
    return {"ANSIBLE_STRATEGY_PLUGINS": str(plugins), "ANSIBLE_STRATEGY": "mitogen_free"}


# The collections the roles and playbooks use besides the project's own
# (`collections/`): the docker connections, and supervisorctl in campaign drills.
USED_COLLECTIONS = ("community.docker", "community.general")


def collections_env(root: Path, run_dir: Path) -> dict[str, str]:
    """Show Ansible the project's collections and the few installed ones the roles use.

    Why not all of them: Mitogen looks up every installed collection
    (`ansible.collections.list.list_collection_dirs`) each time a worker runs a
    module from a collection, and a worker is forked per task, so nothing is
    remembered. The `ansible` package installs about 185 collections: the look-up
    took about a fifth of the controller's CPU in a re-run (py-spy, issue #9).
    So the installed ones the roles use are linked into the run dir, and
    Ansible does not scan sys.path for the rest.
    """
    import importlib.util

    linked = run_dir / "collections" / "ansible_collections"
    for name in USED_COLLECTIONS:
        spec = importlib.util.find_spec(f"ansible_collections.{name}")
        locations = list(spec.submodule_search_locations or []) if spec else []
        if not locations:
            raise EngineUnavailableError(
                f"the Ansible collection {name} is not installed",
                fix="run scripts/setup.sh (or pip install -e '.[configure]': the `ansible` "
                    "package brings it)")
        namespace, collection = name.split(".")
        link = linked / namespace / collection
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink() or link.resolve() != Path(locations[0]).resolve():
            link.unlink(missing_ok=True)
            link.symlink_to(locations[0], target_is_directory=True)
    return {"ANSIBLE_COLLECTIONS_PATH": f"{root / 'collections'}:{run_dir / 'collections'}",
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False"}
