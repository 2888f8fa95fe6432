"""A small HTTP/1.1 server, router and client on asyncio streams.

Enough HTTP for the service and fast enough for the results chain (keep-alive,
Content-Length or chunked bodies, ``Expect: 100-continue``, gzip request bodies).
Handlers are ``async def handler(request) -> Response``; plain functions (for
example ones that use psycopg2) run in the default thread pool.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024  # ODF messages are up to 10 MB
MAX_INFLATED = 64 * 1024 * 1024
IDLE_TIMEOUT = 75.0


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
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    peer: str = ""

    def json(self):
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HttpError(400, f"invalid JSON body: {exc}") from None

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


def json_response(obj, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(obj, default=str).encode(), "application/json", headers)


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
                  headers: dict[str, str] | None = None) -> Response:
    return Response(status, text.encode(), content_type, headers)


def html_response(html: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return text_response(html, status, "text/html; charset=utf-8", headers)


def inflate(body: bytes) -> bytes:
    """gunzip (or zlib-inflate) a body, bounded in size; raises HttpError 400."""
    try:
        out = zlib.decompressobj(47)  # 32 + 15: gzip or zlib header, auto-detected
        data = out.decompress(body, MAX_INFLATED)
        if out.unconsumed_tail:
            raise HttpError(413, "inflated body too large")
        return data
    except zlib.error as exc:
        raise HttpError(400, f"invalid gzip body: {exc}") from None


def is_gzip(body: bytes) -> bool:
    return body[:2] == b"\x1f\x8b"


Handler = Callable[[Request], Awaitable[Response] | Response]


class Router:
    """Method + path routing; ``{name}`` segments become ``request.params``."""

    def __init__(self):
        self._exact: dict[tuple[str, str], tuple[Handler, bool]] = {}
        self._patterns: list[tuple[str, re.Pattern, str, Handler, bool]] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        is_async = inspect.iscoroutinefunction(handler)
        if "{" not in path:
            self._exact[(method, path)] = (handler, is_async)
            return
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
        if path.endswith("{path*}"):
            regex = path.replace("{path*}", "(?P<path>.+)")
        self._patterns.append((method, re.compile(f"^{regex}$"), path, handler, is_async))

    def get(self, path: str):
        return lambda fn: (self.add("GET", path, fn), fn)[1]

    def post(self, path: str):
        return lambda fn: (self.add("POST", path, fn), fn)[1]

    def match(self, method: str, path: str):
        """(handler, is_async, params, route) or a HttpError 404/405."""
        lookup = "GET" if method == "HEAD" else method
        hit = self._exact.get((lookup, path))
        if hit is not None:
            return hit[0], hit[1], {}, path
        allowed = False
        for route_method, regex, route, handler, is_async in self._patterns:
            m = regex.match(path)
            if m is None:
                continue
            if route_method != lookup:
                allowed = True
                continue
            return handler, is_async, m.groupdict(), route
        if allowed or any(p == path for (_, p) in self._exact):
            raise HttpError(405, f"method {method} not allowed on {path}")
        raise HttpError(404, f"no route for {path}")


class HttpServer:
    """Serves a Router; `on_request(method, route, status)` feeds the metrics."""

    def __init__(self, router: Router, on_request: Callable[[str, str, int], None] | None = None):
        self.router = router
        self.on_request = on_request or (lambda m, r, s: None)
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._closing = False

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(
            self._serve, host, port, limit=256 * 1024, backlog=512, reuse_address=True
        )

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let requests in progress finish (bounded), close keep-alives."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        deadline = asyncio.get_running_loop().time() + grace
        while self._busy and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        for writer in list(self._connections):
            writer.close()

    _busy = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        peer = writer.get_extra_info("peername")
        peer = peer[0] if isinstance(peer, tuple) else ""
        try:
            while not self._closing:
                try:
                    async with asyncio.timeout(IDLE_TIMEOUT):
                        head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                        ConnectionError):
                    return
                self._busy += 1
                try:
                    keep_alive = await self._one(head, reader, writer, peer)
                finally:
                    self._busy -= 1
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _one(self, head: bytes, reader, writer, peer: str) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            writer.write(_encode(Response(400, b'{"error": "bad request line"}'), False, False))
            return False
        headers = _headers(lines)
        conn = headers.get("connection", "").lower()
        keep_alive = (conn != "close") if version == "HTTP/1.1" else (conn == "keep-alive")
        if self._closing:
            keep_alive = False
        route = "-"
        body = None
        try:
            body = await self._read_body(headers, reader, writer)
            path, _, qs = target.partition("?")
            request = Request(method, unquote(path), dict(parse_qsl(qs)) if qs else {},
                              headers, body, peer=peer)
            handler, is_async, params, route = self.router.match(method, request.path)
            request.params = params
            if is_async:
                response = await handler(request)
            else:
                response = await asyncio.get_running_loop().run_in_executor(None, handler, request)
        except HttpError as exc:
            response = json_response({"error": exc.message}, exc.status)
            if body is None:  # the body was not read: the connection is out of step
                keep_alive = False
        except Exception:
            log.exception("%s %s failed", method, target)
            response = json_response({"error": "internal error"}, 500)
        self.on_request(method, route, response.status)
        writer.write(_encode(response, keep_alive, method == "HEAD"))
        if writer.transport.get_write_buffer_size() > 256 * 1024:
            await writer.drain()
        return keep_alive

    @staticmethod
    async def _read_body(headers: dict[str, str], reader, writer) -> bytes:
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        try:
            length = int(headers.get("content-length", "0") or 0) if not chunked else 0
        except ValueError:
            raise HttpError(400, "invalid Content-Length") from None
        if length > MAX_BODY or length < 0:
            raise HttpError(413, f"body larger than {MAX_BODY} bytes")
        if headers.get("expect", "").lower() == "100-continue" and (length or chunked):
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if chunked:
            body = await _read_chunked(reader)
        elif length:
            body = await reader.readexactly(length)
        else:
            body = b""
        if headers.get("content-encoding", "").lower() in ("gzip", "x-gzip", "deflate"):
            body = inflate(body)
        return body


def _headers(lines: list[str]) -> dict[str, str]:
    headers = {}
    for line in lines[1:]:
        i = line.find(":")
        if i > 0:
            headers[line[:i].rstrip().lower()] = line[i + 1:].strip()
    return headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY:
            raise HttpError(413, f"body larger than {MAX_BODY} bytes")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _encode(response: Response, keep_alive: bool, head_only: bool) -> bytes:
    status = response.status
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    out = [(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\n")]
    if not keep_alive:
        out.append("Connection: close\r\n")
    if response.headers:
        out.extend(f"{k}: {v}\r\n" for k, v in response.headers.items())
    out.append("\r\n")
    head = "".join(out).encode("latin-1")
    return head if head_only else head + response.body


# --------------------------------------------------------------------------- client


@dataclass(slots=True)
class ClientResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None


class ClientError(Exception):
    """The request could not be completed (connection refused, timeout, bad reply)."""


@lru_cache(maxsize=1024)
def _split(url: str) -> tuple[str, int, str, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http:// URLs are supported: {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host_header = parts.netloc
    return parts.hostname, parts.port or 80, path, host_header


class HttpClient:
    """HTTP/1.1 client with a keep-alive pool per host (one request per connection at a time)."""

    def __init__(self, max_idle_per_host: int = 32):
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self._max_idle = max_idle_per_host

    async def request(self, method: str, url: str, body: bytes | None = None,
                      headers: dict[str, str] | None = None, timeout: float = 10.0
                      ) -> ClientResponse:
        host, port, path, host_header = _split(url)
        head = [(f"{method} {path} HTTP/1.1\r\nHost: {host_header}\r\n"
                 f"Content-Length: {len(body) if body else 0}\r\n")]
        if headers:
            head.extend(f"{k}: {v}\r\n" for k, v in headers.items())
        head.append("\r\n")
        payload = "".join(head).encode("latin-1") + (body or b"")
        try:
            async with asyncio.timeout(timeout):
                for attempt in (0, 1):
                    reused, reader, writer = await self._connect(host, port)
                    try:
                        writer.write(payload)
                        response, keep = await _read_response(reader, method)
                    except (ConnectionError, asyncio.IncompleteReadError) as exc:
                        writer.close()
                        if reused and attempt == 0:
                            continue  # a keep-alive connection the server had closed
                        raise ClientError(f"{method} {url}: {exc!r}") from None
                    except BaseException:
                        writer.close()
                        raise
                    if keep:
                        self._release(host, port, reader, writer)
                    else:
                        writer.close()
                    return response
        except TimeoutError:
            raise ClientError(f"{method} {url}: timed out after {timeout:g} s") from None
        except OSError as exc:
            raise ClientError(f"{method} {url}: {exc.strerror or exc!r}") from None
        raise ClientError(f"{method} {url}: connection lost")  # pragma: no cover

    async def get_json(self, url: str, timeout: float = 5.0):
        response = await self.request("GET", url, timeout=timeout)
        return response.status, response.json()

    async def post_json(self, url: str, obj, timeout: float = 10.0,
                        headers: dict[str, str] | None = None) -> ClientResponse:
        merged = {"Content-Type": "application/json", **(headers or {})}
        return await self.request("POST", url, json.dumps(obj, default=str).encode(), merged,
                                  timeout)

    async def _connect(self, host: str, port: int):
        idle = self._idle.get((host, port))
        while idle:
            reader, writer = idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return True, reader, writer
            writer.close()
        reader, writer = await asyncio.open_connection(host, port, limit=256 * 1024)
        return False, reader, writer

    def _release(self, host, port, reader, writer) -> None:
        idle = self._idle.setdefault((host, port), [])
        if len(idle) < self._max_idle:
            idle.append((reader, writer))
        else:
            writer.close()

    async def close(self) -> None:
        for idle in self._idle.values():
            for _, writer in idle:
                writer.close()
        self._idle.clear()


async def _read_response(reader: asyncio.StreamReader, method: str) -> tuple[ClientResponse, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        raise ConnectionError(f"bad status line {lines[0]!r}") from None
    headers = _headers(lines)
    keep = headers.get("connection", "").lower() != "close" and parts[0] == "HTTP/1.1"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:  # no length: the body ends with the connection
        chunks = []
        while chunk := await reader.read(65536):
            chunks.append(chunk)
        body = b"".join(chunks)
        keep = False
    if headers.get("content-encoding", "").lower() == "gzip":
        body = inflate(body)
    return ClientResponse(status, headers, body), keep
