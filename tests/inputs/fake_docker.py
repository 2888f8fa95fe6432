"""A fake Docker engine on a loopback Unix socket, for tests that must not reach a real one.

`FakeDocker(path, answer=...)` accepts connections and counts them. Requests
whose path matches `answer` get a minimal Docker API reply (enough for
docker-py's version negotiation); every other request is held open without an
answer until the server stops, like a dockerd whose network calls hang.
"""

from __future__ import annotations

import json
import re
import socketserver
import threading
from pathlib import Path

_REPLIES = {
    "/version": {"ApiVersion": "1.41", "Version": "20.10.24", "MinAPIVersion": "1.12"},
    "/_ping": "OK",
    "/info": {"ID": "FAKE", "Name": "fake-engine", "ServerVersion": "20.10.24"},
}


class FakeDocker:
    def __init__(self, path: Path, answer: str | None = None) -> None:
        self.path = path
        self.connections = 0
        self.requests: list[str] = []
        self._answer = re.compile(answer) if answer else None
        self._stop = threading.Event()
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                fake.connections += 1
                while not fake._stop.is_set():
                    request = self._read_request()
                    if request is None:
                        return
                    fake.requests.append(request)
                    if not fake._reply(self.wfile, request):
                        fake._stop.wait(600)  # hang, bounded, until the server stops
                        return

            def _read_request(self) -> str | None:
                line = self.rfile.readline(65536).decode("latin-1")
                if not line:
                    return None
                length = 0
                while (header := self.rfile.readline(65536)) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip() or 0)
                if length:
                    self.rfile.read(length)
                return line.strip()

        self._server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _reply(self, wfile, request: str) -> bool:
        parts = request.split()
        target = re.sub(r"^/v[0-9.]+", "", parts[1] if len(parts) > 1 else "/").split("?")[0]
        if self._answer is None or not self._answer.search(target) or target not in _REPLIES:
            return False
        body = _REPLIES[target]
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        kind = "text/plain" if isinstance(body, str) else "application/json"
        wfile.write(f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nApi-Version: 1.41\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        wfile.flush()
        return True

    def __enter__(self) -> FakeDocker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

