"""What every role has: /health, /version, /metrics, an index, the ODF key check,
background tasks, and shipping its own log records to the log collector."""

from __future__ import annotations

import asyncio
import collections
import hmac
import logging
import socket
import time

from .. import CODE_VERSION
from ..config import Config
from ..http import ClientError, HttpClient, HttpError, Request, Response, Router, json_response
from ..metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)


class Role:
    """A service's behaviour. Subclasses add routes, checks and background tasks."""

    title = "replicator application service"
    needs_api_key = False  # ODF producers and consumers: /health is degraded without it

    def __init__(self, config: Config, metrics: Metrics, client: HttpClient):
        self.config = config
        self.metrics = metrics
        self.client = client
        self.started = time.time()
        self._tasks: list[asyncio.Task] = []
        self._shipper: LogShipper | None = None
        metrics.set("info", 1, service=config.service, role=config.role, version=config.version,
                    site=config.site)

    # -- wiring

    def routes(self, router: Router) -> None:
        router.add("GET", "/health", self.health)
        router.add("GET", "/version", self.version)
        router.add("GET", "/metrics", self.metrics_text)
        router.add("GET", "/", self.index)

    async def start(self) -> None:
        url = self.config.peer("log-collector")
        if url and self.config.role != "log-collector":
            self._shipper = LogShipper(self, url + "/logs")
            logging.getLogger().addHandler(self._shipper)
            self.spawn(self._shipper.run(), "log-shipper")
        log.info("%s (%s) %s started on %s", self.config.service, self.config.role,
                 self.config.version, socket.gethostname())

    async def stop(self) -> None:
        if self._shipper is not None:
            logging.getLogger().removeHandler(self._shipper)
            await self._shipper.ship()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def spawn(self, coro, name: str) -> asyncio.Task:
        """A background task; an unexpected exception is logged, not swallowed silently."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        task.add_done_callback(_log_task_end)
        self._tasks.append(task)
        return task

    def forget(self, task: asyncio.Task) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    # -- checks and common endpoints

    async def checks(self) -> dict[str, str]:
        """Dependency name -> "ok" or a problem. Subclasses extend it."""
        out: dict[str, str] = {}
        if self.needs_api_key:
            out["api_key"] = "ok" if self.config.api_key() else "missing"
        return out

    async def health(self, request: Request) -> Response:
        checks = await self.checks()
        healthy = all(value == "ok" for value in checks.values())
        body = {"status": "ok" if healthy else "degraded", "service": self.config.service,
                "role": self.config.role, "version": self.config.version,
                "site": self.config.site, "instance": self.config.instance,
                "checks": checks, "uptime_seconds": round(time.time() - self.started, 1)}
        if self.config.venue:
            body["venue"] = self.config.venue
        return json_response(body, 200 if healthy else 503)

    async def version(self, request: Request) -> Response:
        return json_response({"version": self.config.version, "service": self.config.service,
                              "role": self.config.role, "code_version": CODE_VERSION})

    async def metrics_text(self, request: Request) -> Response:
        return Response(200, self.metrics.render(), CONTENT_TYPE)

    async def index(self, request: Request) -> Response:
        return json_response({"service": self.config.service, "role": self.config.role,
                              "title": self.title, "version": self.config.version,
                              "site": self.config.site})

    def require_key(self, request: Request) -> None:
        """401 unless X-API-KEY is the edition's ODF key (compared in constant time)."""
        expected = self.config.api_key()
        given = request.header("x-api-key") or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            self.metrics.inc("odf_messages_rejected_total", reason="api_key")
            raise HttpError(401, "missing or wrong X-API-KEY")

    def key_headers(self) -> dict[str, str]:
        key = self.config.api_key()
        return {"X-API-KEY": key} if key else {}


class PollingRole(Role):
    """A role that watches others: reads poll_interval and poll_timeout, serves
    GET /status and runs `poll_forever` in the background."""

    def __init__(self, config: Config, metrics: Metrics, client: HttpClient):
        super().__init__(config, metrics, client)
        self.interval = float(config.option("poll_interval"))
        self.timeout = float(config.option("poll_timeout"))

    def routes(self, router: Router) -> None:
        super().routes(router)
        router.add("GET", "/status", self.status)

    async def start(self) -> None:
        await super().start()
        self.spawn(self.poll_forever(), "poll")

    async def poll_forever(self) -> None:
        raise NotImplementedError

    async def status(self, request: Request) -> Response:
        raise NotImplementedError


def _log_task_end(task: asyncio.Task) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("background task %s stopped: %r", task.get_name(), exc, exc_info=exc)


class LogShipper(logging.Handler):
    """Buffers this process's log records (INFO and up) and posts them to the log
    collector every few seconds; drops the oldest when the collector is away."""

    def __init__(self, role: Role, url: str, capacity: int = 5000):
        super().__init__(logging.INFO)
        self.role = role
        self.url = url
        self.buffer: collections.deque = collections.deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(__name__):
            return
        cfg = self.role.config
        self.buffer.append({"ts": record.created, "service": cfg.service, "site": cfg.site,
                            "host": socket.gethostname(), "level": record.levelname,
                            "logger": record.name, "message": record.getMessage(),
                            "category": getattr(record, "category", "app")})

    async def run(self, interval: float = 5.0) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.ship()

    async def ship(self) -> None:
        if not self.buffer:
            return
        records = list(self.buffer)
        try:
            response = await self.role.client.post_json(self.url, {"records": records},
                                                        timeout=5)
        except ClientError:
            return
        if response.status == 200:
            for _ in records:
                if self.buffer:
                    self.buffer.popleft()
