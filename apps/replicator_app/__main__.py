"""``python3 -m replicator_app /etc/replicator/app.json``: run the configured role
until SIGTERM/SIGINT, then stop accepting, finish requests in progress, flush
stores and exit 0 (supervisord's default stop signal is SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .config import ConfigError, load
from .http import HttpClient, HttpServer, Router
from .metrics import Metrics
from .roles import create

log = logging.getLogger("replicator_app")
DEFAULT_CONFIG = "/etc/replicator/app.json"


async def serve(config) -> None:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=16, thread_name_prefix="handler"))
    metrics = Metrics()
    client = HttpClient()
    role = create(config, metrics, client)
    router = Router()
    role.routes(router)
    server = HttpServer(router, lambda method, route, status: metrics.inc(
        "http_requests_total", method=method, route=route, status=str(status)))
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await role.start()
    await server.start(config.host, config.port)
    log.info("%s listening on %s:%d", config.service, config.host, config.port)
    await stopping.wait()
    log.info("%s stopping", config.service)
    await server.stop()
    await role.stop()
    await client.close()
    log.info("%s stopped", config.service)


def _run(main_coroutine: Coroutine[Any, Any, None]) -> None:
    # The stores commit on their own threads and hand each result back to the loop: with
    # the default 5 ms GIL switch interval every handoff waited up to 5 ms behind the busy
    # loop, which capped the distributor's group commits (measured: 3x more commits/s).
    sys.setswitchinterval(0.0005)
    """Run on uvloop (Debian's python3-uvloop, libuv's event loop: a fraction of asyncio's
    cost per socket operation), or on asyncio's own loop where uvloop is not installed."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_coroutine)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main_coroutine)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load(argv[0] if argv else DEFAULT_CONFIG)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    for name in config.unknown_options():
        log.warning("ignoring unknown option %r", name)
    try:
        _run(serve(config))
    except OSError as exc:  # e.g. the port is taken
        log.error("cannot serve: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
