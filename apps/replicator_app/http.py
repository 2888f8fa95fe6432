"""HTTP for the service: aiohttp's server and client behind the small interface
the roles use.

aiohttp (Debian's python3-aiohttp) speaks the protocol: keep-alive, chunked
bodies, ``Expect: 100-continue`` and gzip/deflate request bodies. This module maps
its requests to :class:`Request`, a role's :class:`HttpError` to a JSON answer,
and reports every request with its route for the metrics. Handlers are
``async def handler(request) -> Response``; plain functions (for example ones
that use psycopg2) run in the default thread pool.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, overload

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
import yarl

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024  # ODF messages are up to 10 MB (checked after inflating)
IDLE_TIMEOUT = 75.0          # server side keep-alive
EXPECT_100_ABOVE = 64 * 1024  # client: ask before sending a body larger than this
SHUTDOWN_GRACE = 5.0         # requests in progress may finish within this at a stop


class HttpError(Exception):
    """Raised by a handler to answer ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    peer: str = ""

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HttpError(400, f"invalid JSON body: {exc}") from None

    @overload
    def header(self, name: str) -> str | None: ...
    @overload
    def header(self, name: str, default: str) -> str: ...

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def int_arg(self, name: str, default: int, *, low: int = 0, high: int = 10**9) -> int:
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise HttpError(400, f"query parameter {name} must be an integer") from None
        return max(low, min(high, value))


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] | None = None


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    return Response(status, json.dumps(obj, default=str).encode(), "application/json", headers)


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
                  headers: dict[str, str] | None = None) -> Response:
    return Response(status, text.encode(), content_type, headers)


def html_response(html: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return text_response(html, status, "text/html; charset=utf-8", headers)


Handler = Callable[[Request], Awaitable[Response] | Response]
OnRequest = Callable[[str, str, int], None]


class Router:
    """Method + path routes; ``{name}`` segments become ``request.params``.
    GET routes answer HEAD too."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, str, Handler]] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        self.routes.append((method, path, handler))

    def install(self, app: web.Application) -> None:
        for method, path, handler in self.routes:
            if method == "GET":
                app.router.add_get(path, _adapt(handler), allow_head=True)
            else:
                app.router.add_route(method, path, _adapt(handler))


def _adapt(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler around one of ours (sync handlers go to the thread pool)."""
    is_async = inspect.iscoroutinefunction(handler)

    async def run(raw: web.Request) -> web.Response:
        try:
            body = await raw.read()
        except RequestPayloadError as exc:  # e.g. a gzip body that does not inflate
            raise HttpError(400, f"invalid request body: {exc}") from None
        except HttpProcessingError as exc:
            raise HttpError(400, f"invalid request body: {exc.message}") from None
        request = Request(raw.method, raw.path, dict(raw.query),
                          {k.lower(): v for k, v in raw.headers.items()}, body,
                          dict(raw.match_info), raw.remote or "")
        if is_async:
            pending = handler(request)
            assert not isinstance(pending, Response)  # an async def returns a coroutine
            response = await pending
        else:
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(None, handler, request)
            assert isinstance(answer, Response)  # a plain function returns its answer
            response = answer
        return _to_aiohttp(response)

    return run


def _to_aiohttp(response: Response) -> web.Response:
    headers = {"Content-Type": response.content_type, **(response.headers or {})}
    return web.Response(status=response.status, body=response.body, headers=headers)


def _error(status: int, message: str) -> web.Response:
    return _to_aiohttp(json_response({"error": message}, status))


def _errors_as_json(on_request: OnRequest):
    """Middleware: every answer is counted by route; errors are JSON bodies."""

    @web.middleware
    async def middleware(raw: web.Request, handler) -> web.StreamResponse:
        resource = raw.match_info.route.resource
        route = resource.canonical if resource is not None else "-"
        try:
            response = await handler(raw)
        except HttpError as exc:
            response = _error(exc.status, exc.message)
        except web.HTTPException as exc:  # 404, 405, 413 raised by aiohttp itself
            response = _error(exc.status, _reason(exc, raw))
        except Exception:
            log.exception("%s %s failed", raw.method, raw.path_qs)
            response = _error(500, "internal error")
        on_request(raw.method, route, response.status)
        return response

    return middleware


def _reason(exc: web.HTTPException, raw: web.Request) -> str:
    if exc.status == 404:
        return f"no route for {raw.path}"
    if exc.status == 405:
        return f"method {raw.method} not allowed on {raw.path}"
    return exc.reason


class HttpServer:
    """Serves a Router; `on_request(method, route, status)` feeds the metrics."""

    def __init__(self, router: Router, on_request: OnRequest | None = None):
        self.app = web.Application(client_max_size=MAX_BODY,
                                   middlewares=[_errors_as_json(on_request or _ignore)])
        router.install(self.app)
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None,
                                     keepalive_timeout=IDLE_TIMEOUT)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=512, reuse_address=True,
                           shutdown_timeout=SHUTDOWN_GRACE)
        await site.start()

    async def stop(self) -> None:
        """Stop accepting, let requests in progress finish (bounded), close keep-alives."""
        if self._runner is not None:
            await self._runner.cleanup()


def _ignore(method: str, route: str, status: int) -> None:
    return None


# --------------------------------------------------------------------------- client


@dataclass(slots=True)
class ClientResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class ClientError(Exception):
    """The request could not be completed (connection refused, timeout, bad reply)."""


# A role posts to a handful of URLs, thousands of times a second: parse each once.
@functools.lru_cache(maxsize=1024)
def _url(url: str) -> yarl.URL:
    return yarl.URL(url)


@functools.lru_cache(maxsize=64)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


class HttpClient:
    """aiohttp's client session: a keep-alive pool per host, answers read whole
    (gzip answers inflated), any failure raised as :class:`ClientError`."""

    def __init__(self, max_idle_per_host: int = 64):
        self._max_per_host = max_idle_per_host
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No total connection cap: a role's own semaphores bound its concurrency.
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=0,
                                             keepalive_timeout=30.0)
            # No cookies between services: the dummy jar skips the per-request cookie work.
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True,
                                                  cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def request(self, method: str, url: str, body: bytes | None = None,
                      headers: dict[str, str] | None = None, timeout: float = 10.0
                      ) -> ClientResponse:
        if not url.startswith("http://"):
            raise ValueError(f"only http:// URLs are supported: {url!r}")
        try:
            async with self._open().request(
                    method, _url(url), data=body, headers=headers,
                    expect100=body is not None and len(body) > EXPECT_100_ABOVE,
                    timeout=_timeout(timeout)) as response:
                data = await response.read()
                return ClientResponse(response.status,
                                      {k.lower(): v for k, v in response.headers.items()},
                                      data)
        except asyncio.TimeoutError:
            raise ClientError(f"{method} {url}: timed out after {timeout:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ClientError(f"{method} {url}: {exc!r}") from None

    async def get_json(self, url: str, timeout: float = 5.0) -> tuple[int, Any]:
        response = await self.request("GET", url, timeout=timeout)
        return response.status, response.json()

    async def post_json(self, url: str, obj: Any, timeout: float = 10.0,
                        headers: dict[str, str] | None = None) -> ClientResponse:
        merged = {"Content-Type": "application/json", **(headers or {})}
        return await self.request("POST", url, json.dumps(obj, default=str).encode(), merged,
                                  timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
