"""ODF access to a configured replica from this machine.

OVRs and consumers are not published on the host: requests run *inside* the
container (`docker exec` of a few lines of python3, in every image), so they
travel the replica's own networks. The API key is read there from the
container's own secret file: it never appears on a command line.
"""

from __future__ import annotations

import io
import secrets
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replicator.errors import InputError, ReplicatorError
from replicator.outputs import StackOutputs
from replicator.paths import work_dir
from replicator.secrets_store import SecretsStore
from replicator.stacks import CheckedStack, edition_stacks
from replicator.topology import list_stacks

API_KEY_FILE = "/etc/replicator/secrets/odf_api_key"
# consumer -> (tier that serves, path template); wrs answers through its web tier (nginx).
CONSUMER_PATHS = {
    "wrs": ("web", "/results/{code}"),
    "rma": ("app", "/api/results/{code}"),
    "cis": ("app", "/feed/{code}"),
    "myinfo": ("app", "/view/{code}"),
}

# Runs inside a container: argv = method, url, body file ('-': none), key file ('-': none).
_HTTP_SCRIPT = r"""
import sys, urllib.request, urllib.error
method, url, body_path, key_file = sys.argv[1:5]
data = open(body_path, "rb").read() if body_path != "-" else None
req = urllib.request.Request(url, data=data, method=method)
if key_file != "-":
    req.add_header("X-API-KEY", open(key_file).read().strip())
if data is not None:
    req.add_header("Content-Type", "application/xml")
try:
    with urllib.request.urlopen(req, timeout=60) as resp:
        status, body, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
except urllib.error.HTTPError as exc:
    status, body, ctype = exc.code, exc.read(), exc.headers.get("Content-Type", "")
except OSError as exc:
    status, body, ctype = 0, str(exc).encode(), "text/plain"
sys.stdout.write("%d %s\n" % (status, ctype))
sys.stdout.flush()
sys.stdout.buffer.write(body)
"""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        import json

        return json.loads(self.body)


def default_edition(root: Path, edition: str | None) -> str:
    if edition:
        return edition
    editions = sorted({s.rsplit("-", 1)[0] for s in list_stacks(root)})
    if len(editions) == 1:
        return editions[0]
    raise InputError("which edition? several have stacks" if editions else "no stacks defined",
                     fix=f"give --edition ({', '.join(editions) or 'none'})")


def api_key(root: Path, edition: str) -> str:
    found = SecretsStore(work_dir(root)).load(edition)
    if found is None:
        raise ReplicatorError(f"edition {edition} has no secrets yet",
                              fix=f"run `replicator configure --edition {edition}` first")
    return found.odf_api_key


@dataclass(frozen=True)
class Located:
    container: str
    docker_host: str
    service: str
    port: int


def deployed_outputs(root: Path, targets: list[CheckedStack]) -> list[StackOutputs]:
    """The outputs of each deployed stack of `targets`, in their order (undeployed: skipped)."""
    from replicator.engine import StackRunner
    from replicator.engine.properties import reveal

    runner = StackRunner(root, work_dir(root))
    raw = {t.name: reveal(runner.load_state(t.name).outputs or {}) for t in targets}
    return [StackOutputs.read(name, outputs) for name, outputs in raw.items() if outputs]


def locate(root: Path, edition: str, *, model_service: str, tier: str,
           venue: str | None = None) -> Located:
    """The first container of a service's tier (of the venue's copy for OVR)."""
    for outputs in deployed_outputs(root, edition_stacks(root, edition)):
        for name, svc in sorted(outputs.services.items()):
            if svc.service != model_service:
                continue
            if venue is not None and (svc.venue or "").upper() != venue.upper():
                continue
            info = svc.tiers.get(tier)
            if not info or not info.containers:
                continue
            return Located(container=info.containers[0],
                           docker_host=outputs.engine_of(info.containers[0]),
                           service=name, port=(info.ports or [8080])[0])
    where = f" at venue {venue.upper()}" if venue else ""
    raise InputError(f"edition {edition} has no deployed {model_service}/{tier}{where}",
                     fix="check the venue code (`replicator outputs <edition>-toc`) and that the "
                         "stacks are deployed")


def _client(docker_host: str):
    from replicator.dockerd import connect

    return connect(docker_host)


def exec_http(target: Located, method: str, path: str, *, body: bytes | None = None,
              with_key: bool = False) -> HttpAnswer:
    """An HTTP request from inside the container to its own tier (127.0.0.1:<port>)."""
    client = _client(target.docker_host)
    try:
        container = client.containers.get(target.container)
        body_path = "-"
        if body is not None:
            body_path = f"/tmp/replicator-odf-{secrets.token_hex(6)}.xml"
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                info = tarfile.TarInfo(Path(body_path).name)
                info.size, info.mode, info.mtime = len(body), 0o600, int(time.time())
                tar.addfile(info, io.BytesIO(body))
            container.put_archive("/tmp", buf.getvalue())
        try:
            url = f"http://127.0.0.1:{target.port}{path}"
            code, output = container.exec_run(
                ["python3", "-c", _HTTP_SCRIPT, method, url, body_path,
                 API_KEY_FILE if with_key else "-"], demux=True)
        finally:
            if body is not None:
                container.exec_run(["rm", "-f", body_path])
    finally:
        client.close()
    stdout, stderr = output if isinstance(output, tuple) else (output, b"")
    stdout = stdout or b""
    if code != 0 or b"\n" not in stdout:
        raise ReplicatorError(f"request inside {target.container} failed (exit {code}): "
                              f"{(stderr or stdout or b'').decode(errors='replace')[-400:]}")
    head, _, rest = stdout.partition(b"\n")
    status, _, ctype = head.decode().partition(" ")
    return HttpAnswer(status=int(status), content_type=ctype, body=rest)


def send_via_ovr(root: Path, edition: str, venue: str, message: bytes) -> tuple[Located, HttpAnswer]:
    target = locate(root, edition, model_service="ovr", tier="app", venue=venue)
    return target, exec_http(target, "POST", "/odf/send", body=message, with_key=True)


def get_from_consumer(root: Path, edition: str, consumer: str,
                      document_code: str) -> tuple[Located, HttpAnswer]:
    if consumer not in CONSUMER_PATHS:
        raise InputError(f"no ODF consumer {consumer!r}",
                         fix=f"use one of: {', '.join(CONSUMER_PATHS)}")
    tier, template = CONSUMER_PATHS[consumer]
    target = locate(root, edition, model_service=consumer, tier=tier)
    from urllib.parse import quote

    return target, exec_http(target, "GET", template.format(code=quote(document_code, safe="")))
