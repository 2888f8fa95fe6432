"""Where the project and its working files are.

The project root is the directory holding `Pulumi.yaml`. Everything the tool
writes at run time (state, locks, keys, built-image recipes) lives under
`<root>/.replicator/` unless REPLICATOR_HOME says otherwise, so that a clone
is self-contained and tests can use a temporary project.
"""

from __future__ import annotations

import os
from pathlib import Path

from replicator.errors import InputError

PROJECT_FILE = "Pulumi.yaml"


def find_project_root(start: Path | None = None) -> Path:
    env = os.environ.get("REPLICATOR_PROJECT")
    if env:
        root = Path(env).resolve()
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
    env = os.environ.get("REPLICATOR_HOME")
    return Path(env).resolve() if env else project_root / ".replicator"
