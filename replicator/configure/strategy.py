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
