"""Where the project and its working files are.

The project root is the directory holding `Pulumi.yaml`. Everything the tool
writes at run time (state, locks, keys, built-image recipes) lives under
`<root>/.replicator/` unless REPLICATOR_HOME says otherwise, so that a clone
is self-contained and tests can use a temporary project.
"""

from __future__ import annotations

from pathlib import Path

from replicator.errors import InputError
from replicator.inputs.env import env_path
from replicator.inputs.project import PROJECT_FILE, read_project_file


def find_project_root(start: Path | None = None) -> Path:
    """The project root, its Pulumi.yaml checked (exit 2 on a bad one)."""
    root = _project_root(start)
    read_project_file(root)
    return root


def _project_root(start: Path | None) -> Path:
    env = env_path("REPLICATOR_PROJECT")
    if env is not None:
        root = env.resolve()
        if not (root / PROJECT_FILE).is_file():
            raise InputError(
                f"REPLICATOR_PROJECT={env} has no {PROJECT_FILE}",
                fix="point REPLICATOR_PROJECT at the replicator checkout, or unset it",
            )
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / PROJECT_FILE).is_file():
            return candidate
    # Fall back to the checkout this package was installed from (editable installs).
    pkg_root = Path(__file__).resolve().parent.parent
    if (pkg_root / PROJECT_FILE).is_file():
        return pkg_root
    raise InputError(
        f"no {PROJECT_FILE} in {here} or its parents",
        fix="run replicator from the project checkout, or set REPLICATOR_PROJECT",
    )


def work_dir(project_root: Path) -> Path:
    """The directory for run-time files (state, locks, keys)."""
    env = env_path("REPLICATOR_HOME")
    return env.resolve() if env is not None else project_root / ".replicator"
