"""Where stacks keep their state and their secrets key: the backend.

Two kinds, as `pulumi login` knows them:
- a project's own work dir (`.replicator/`), for this project's stacks;
- a file backend named by a URL (`--backend-url`, else PULUMI_BACKEND_URL, else
  `file://~` like `pulumi login --local`), for any Pulumi project run with
  `--cwd`. Its stacks live in `<root>/.pulumi/stacks/<project>/<stack>.json`, so
  a StackReference `organization/<project>/<stack>` finds another project's
  stack in the same backend.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from replicator.errors import InputError

BACKEND_URL_ENV = "PULUMI_BACKEND_URL"
DEFAULT_URL = "file://~"


@dataclass(frozen=True)
class Backend:
    state_dir: Path
    secrets_dir: Path
    # False for a project's own work dir: one flat directory of `<stack>.json`.
    per_project: bool = True
    url: str = ""

    @classmethod
    def for_workdir(cls, workdir: Path) -> Backend:
        return cls(state_dir=workdir / "state", secrets_dir=workdir, per_project=False)

    @classmethod
    def from_url(cls, url: str | None = None) -> Backend:
        url = url or os.environ.get(BACKEND_URL_ENV) or DEFAULT_URL
        if not url.startswith("file://"):
            raise InputError(
                f"backend {url} is not supported by the embedded engine: it keeps state in "
                "local files only",
                fix="use a file:// URL (e.g. --backend-url file://$HOME), or unset "
                    f"{BACKEND_URL_ENV}")
        root = Path(os.path.expanduser(url[len("file://"):] or "~")).resolve()
        return cls(state_dir=root / ".pulumi" / "stacks", secrets_dir=root / ".replicator",
                   url=f"file://{root}")

    def state_path(self, project: str, stack: str) -> Path:
        if self.per_project:
            return self.state_dir / project / f"{stack}.json"
        return self.state_dir / f"{stack}.json"


def parse_stack_reference(ref: str, project: str) -> tuple[str, str]:
    """`org/project/stack`, `project/stack` or `stack` -> (project, stack)."""
    parts = ref.split("/")
    if len(parts) > 3 or not all(parts):
        raise InputError(f"stack reference {ref!r} is not valid",
                         fix="name the stack as organization/project/stack, or just stack")
    return (parts[-2] if len(parts) >= 2 else project), parts[-1]
