"""Where stacks keep their state and their secrets key: the backend.

Both are Pulumi file backends (`pulumi login file://<root>` sees the same
stacks): stacks live in `<root>/.pulumi/stacks/<project>/<stack>.json`, so a
StackReference `organization/<project>/<stack>` finds another project's stack
in the same backend.
- This project's stacks: `<work dir>/pulumi-backend` (also the `--engine
  pulumi` backend), secrets key in the work dir.
- Any project run with `--cwd`: the URL of `--backend-url`, else
  PULUMI_BACKEND_URL, else `file://~` (as `pulumi login --local`); its secrets
  key in `<root>/.replicator/`.
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
    root: Path
    secrets_dir: Path
    # This engine's first layout (`<dir>/<stack>.json`), migrated on first load.
    legacy_dir: Path | None = None

    @property
    def url(self) -> str:
        return f"file://{self.root}"

    @classmethod
    def for_workdir(cls, workdir: Path) -> Backend:
        return cls(root=workdir / "pulumi-backend", secrets_dir=workdir,
                   legacy_dir=workdir / "state")

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
        return cls(root=root, secrets_dir=root / ".replicator")

    def state_path(self, project: str, stack: str) -> Path:
        return self.root / ".pulumi" / "stacks" / project / f"{stack}.json"

    def legacy_path(self, stack: str) -> Path | None:
        return self.legacy_dir / f"{stack}.json" if self.legacy_dir else None


def parse_stack_reference(ref: str, project: str) -> tuple[str, str]:
    """`org/project/stack`, `project/stack` or `stack` -> (project, stack)."""
    parts = ref.split("/")
    if len(parts) > 3 or not all(parts):
        raise InputError(f"stack reference {ref!r} is not valid",
                         fix="name the stack as organization/project/stack, or just stack")
    return (parts[-2] if len(parts) >= 2 else project), parts[-1]
