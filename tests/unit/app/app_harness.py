"""Helpers of the application service tests: HTTP calls, bounded waits, role
processes (``python -m replicator_app <config>`` on 127.0.0.1, a free port, a
temp data dir, stopped by pid) and a throwaway PostgreSQL cluster."""

from __future__ import annotations

import http.client as httpclient
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

APPS = Path(__file__).resolve().parents[3] / "apps"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reply:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body[:300]!r})"


class StubServer:
    """A peer role's stand-in in the test process, on a free loopback port:
    `answer(path, body)` (a subclass's, or `handle`) answers each POST (body
    inflated if gzip) as (status, JSON)."""

    def __init__(self, handle: Callable[[str, bytes], tuple[int, object]] | None = None):
        handle = handle or self.answer

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = zlib.decompress(body, 47)
                status, answer = handle(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str, body: bytes) -> tuple[int, object]:
        return 404, {"error": f"no route for {path}"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def http(method: str, url: str, body=None, headers: dict | None = None,
         timeout: float = 10.0) -> Reply:
    """One HTTP request; JSON-encodes dict/list bodies."""
    assert url.startswith("http://")
    hostport, _, path = url[7:].partition("/")
    host, _, port = hostport.partition(":")
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    conn = httpclient.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        conn.request(method, "/" + path, body, headers)
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                     response.read())
    finally:
        conn.close()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, httpclient.HTTPException, ValueError, KeyError) as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


class Service:
    def __init__(self, name: str, role: str, port: int, config_path: Path, data_dir: Path,
                 log_path: Path):
        self.name, self.role, self.port = name, role, port
        self.config_path, self.data_dir, self.log_path = config_path, data_dir, log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, **kw) -> Reply:
        return http("GET", self.url + path, **kw)

    def post(self, path: str, body=None, **kw) -> Reply:
        return http("POST", self.url + path, body, **kw)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Services:
    """Starts roles as processes; stop()/kill() by pid; everything stopped at teardown."""

    def __init__(self, root: Path, python: str | None = None):
        self.root = root
        # REPLICATOR_APP_PYTHON=/usr/bin/python3 runs the roles with the interpreter of
        # the app image (Debian bookworm) instead of the test's own.
        self.python = python or os.environ.get("REPLICATOR_APP_PYTHON", sys.executable)
        self.key = secrets.token_hex(16)  # 32 characters, like the real key
        self.key_file = root / "odf_api_key"
        self.key_file.write_text(self.key + "\n")
        self.services: dict[str, Service] = {}

    def add(self, name: str, role: str | None = None, **config) -> Service:
        role = role or name
        port = free_port()
        data_dir = self.root / name
        cfg = {"edition": "paris2024", "competition_code": "OG2024", "site": "itl",
               "suite": "test", "service": name, "role": role, "version": f"{role}-1.2.3",
               "instance": 1, "listen": {"host": "127.0.0.1", "port": port},
               "data_dir": str(data_dir), "api_key_file": str(self.key_file), **config}
        path = self.root / f"{name}.json"
        path.write_text(json.dumps(cfg, indent=1))
        service = Service(name, role, port, path, data_dir, self.root / f"{name}.log")
        self.services[name] = service
        return service

    def start(self, service: Service, python: str | None = None, healthy: bool = True,
              timeout: float = 20.0) -> Service:
        env = {**os.environ, "PYTHONPATH": str(APPS)}
        with open(service.log_path, "ab") as log:
            service.proc = subprocess.Popen(
                [python or self.python, "-m", "replicator_app", str(service.config_path)],
                env=env, stdout=log, stderr=subprocess.STDOUT)

        def up():
            if service.proc.poll() is not None:
                raise AssertionError(f"{service.name} exited:\n{service.log()[-3000:]}")
            reply = service.get("/health", timeout=2)
            return reply.status == 200 if healthy else reply.status in (200, 503)

        wait_for(up, timeout, 0.05, f"{service.name} /health")
        return service

    def run(self, name: str, role: str | None = None, python: str | None = None,
            healthy: bool = True, **config) -> Service:
        return self.start(self.add(name, role, **config), python, healthy)

    def stop(self, service: Service, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        proc, service.proc = service.proc, None
        if proc is None or proc.poll() is not None:
            return proc.returncode if proc else 0
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(timeout=5)

    def kill(self, service: Service) -> None:
        self.stop(service, signal.SIGKILL)

    def stop_all(self) -> None:
        for service in self.services.values():
            self.stop(service)


def start_chain(svc: Services, **distributor_options) -> dict[str, Service]:
    """wrs, rma, cis, myinfo, odf-distributor and ovr-aqc, wired together."""
    chain = {name: svc.run(name) for name in ("wrs", "rma", "cis", "myinfo")}
    chain["odf-distributor"] = svc.run(
        "odf-distributor", consumers={n: chain[n].url for n in ("wrs", "rma", "cis", "myinfo")},
        options={"deliver_backoff_max": 0.5, **distributor_options})
    chain["ovr"] = svc.run("ovr-aqc", "ovr", venue="AQC", disciplines=["DIV", "SWA", "WPO"],
                           peers={"odf-distributor": chain["odf-distributor"].url},
                           options={"retry_backoff_max": 0.3})
    return chain


CONSUMERS = ("wrs", "rma", "cis", "myinfo")


def distinct(service: Service) -> int:
    return service.get("/odf/stats").json()["distinct_messages"]


# --------------------------------------------------------------------------- PostgreSQL

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def python_with_psycopg2() -> str | None:
    for candidate in (sys.executable, "/usr/bin/python3"):
        if shutil.which(candidate) or Path(candidate).exists():
            probe = subprocess.run([candidate, "-c", "import psycopg2"], capture_output=True,
                                   check=False)
            if probe.returncode == 0:
                return candidate
    return None


class Postgres:
    def __init__(self, root: Path, port: int):
        self.root, self.port = root, port
        self.proc: subprocess.Popen | None = None
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), user=self.user, capture_output=True, text=True,
                              timeout=60, check=True)

    def start(self) -> None:
        data = self.root / "data"
        self._run(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
        log = open(self.root / "postgres.log", "ab")  # noqa: SIM115 - kept open by the server
        self.proc = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.root), "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            user=self.user, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(lambda: subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", str(self.root), "-p", str(self.port)],
            capture_output=True, check=False).returncode == 0, 30, 0.2,
            "postgres to accept connections")

    def sql(self, statement: str, dbname: str = "postgres") -> str:
        return self._run("/usr/bin/psql", "-h", str(self.root), "-p", str(self.port),
                         "-U", "postgres", "-d", dbname, "-v", "ON_ERROR_STOP=1", "-tAc",
                         statement).stdout

    def create_app_db(self, service: str, password: str) -> dict:
        name = service.replace("-", "_")
        self.sql(f"CREATE ROLE {name}_app LOGIN PASSWORD '{password}'")
        self.sql(f"CREATE DATABASE {name} OWNER {name}_app")
        return {"host": "127.0.0.1", "port": self.port, "dbname": name, "user": f"{name}_app"}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


