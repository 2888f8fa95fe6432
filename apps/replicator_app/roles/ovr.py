"""ovr: On-Venue Results, the source of the results chain at each venue.

``POST /odf/send`` validates an ODF message and forwards it to the distributor
(gzip, X-API-KEY, retried with a short bounded backoff); ``POST /odf/generate``
produces the venue's own realistic traffic at a given rate for a bounded count.
Every message carries ``X-ODF-Sent-At`` (when the venue produced it) so that the
consumers can measure venue-to-consumer latency.

Messages go out in batches (what is queued when a sender is free, one request to
``/odf/messages/batch``, acknowledged message by message); versions of one
identity are sent one after the other, so they reach the distributor in order.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import time
import zlib

from .. import odf
from ..http import ClientError, HttpError, Request, Response, json_response
from ..metrics import percentiles
from ..retry import RetryCallState, last_result, until_done
from .base import Role

log = logging.getLogger(__name__)

MAX_COUNT = 1_000_000
MAX_RATE = 10_000.0
MAX_SECONDS = 3600.0
MAX_OUTSTANDING = 10_000
BATCH_BYTES = 1024 * 1024  # a batch stops growing past this much XML


class Forwarder:
    """Sends ODF messages to one URL, retrying each until 200 or a deadline. Versions
    of one identity are sent one after the other, in order; different identities go
    in parallel.

    With `batch` > 1 (the distributor), each of `batch_connections` senders posts
    whatever is queued when it is free, up to `batch` messages, as one request to
    ``<url>/batch``: no waiting added, and under load one request carries many
    messages (the HTTP exchange, not the message, is what costs CPU). The answer
    acknowledges each message on its own, so each keeps its own retries and result.
    A distributor without that endpoint (404/405) gets one message per request
    over `connections` connections, as with `batch` = 1."""

    def __init__(self, role: Role, url: str, *, connections: int = 64,
                 retry_seconds: float = 30.0, backoff_max: float = 1.0,
                 target: str = "odf-distributor", batch: int = 1,
                 batch_connections: int = 2, batch_bytes: int = BATCH_BYTES):
        self.role = role
        self.url = url
        self.batch_url = url.rstrip("/") + "/batch"
        self.connections = max(1, connections)
        self.batch = max(1, batch)
        self.batch_connections = max(1, batch_connections)
        self.batch_bytes = batch_bytes
        self.retry_seconds = retry_seconds
        self.backoff_max = backoff_max
        self.target = target
        self.ready: asyncio.Queue = asyncio.Queue()
        self.waiting: dict[str, collections.deque] = {}  # identity -> messages behind it
        self.sent = self.failed = self.retries = self.requests = 0
        self.last_sent_at = 0.0
        self.last_error = ""
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        if self.batch > 1:
            self.tasks = [self.role.spawn(self._batch_worker(), f"batch-{self.target}-{i}")
                          for i in range(self.batch_connections)]
        else:
            self._start_single()

    def _start_single(self) -> None:
        self.tasks += [self.role.spawn(self._worker(), f"send-{self.target}-{i}")
                       for i in range(self.connections)]

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            self.role.forget(task)

    @property
    def in_flight(self) -> int:
        """Messages accepted and not yet acknowledged (or given up)."""
        return sum(len(q) + 1 for q in self.waiting.values())

    def submit(self, xml: bytes, identity: str, sent_at: float) -> asyncio.Future:
        """Queue a message; the future gives (ok, attempts, error)."""
        future = asyncio.get_running_loop().create_future()
        item = (identity, xml, sent_at, future)
        behind = self.waiting.get(identity)
        if behind is None:
            self.waiting[identity] = collections.deque()
            self.ready.put_nowait(item)
        else:
            behind.append(item)
        return future

    def _finish(self, item: tuple, result: tuple[bool, int, str]) -> None:
        """Report a message's result; the next version of its identity may go."""
        identity, _, _, future = item
        if not future.done():
            future.set_result(result)
        behind = self.waiting[identity]
        if behind:
            self.ready.put_nowait(behind.popleft())
        else:
            del self.waiting[identity]

    async def _worker(self) -> None:
        while True:
            await self._single(await self.ready.get())

    async def _batch_worker(self) -> None:
        while self.batch > 1:
            items = [await self.ready.get()]
            size = len(items[0][1])
            # What is queued now, up to the limits (no waiting for more); the queue
            # holds one message per identity, so a batch never holds two versions of one.
            while len(items) < self.batch and size < self.batch_bytes and not self.ready.empty():
                items.append(self.ready.get_nowait())
                size += len(items[-1][1])
            try:
                results = await self._post_batch(items)
            except Exception as exc:  # a bug must not block these identities forever
                log.exception("sending a batch to %s failed", self.target)
                results = [self._done(False, 1, repr(exc)) for _ in items]
            if any(result is None for result in results):  # no batch endpoint there
                await asyncio.gather(*(self._single(item) for item, result
                                       in zip(items, results) if result is None))
            for item, result in zip(items, results):
                if result is not None:
                    self._finish(item, result)

    async def _single(self, item: tuple) -> None:
        """One message, one request (retried until acknowledged, refused or out of time)."""
        try:
            result = await self._post(item[1], item[2])
        except Exception as exc:  # a bug must not block this identity forever
            log.exception("sending to %s failed", self.target)
            result = self._done(False, 1, repr(exc))
        self._finish(item, result)

    async def _post_batch(self, items: list[tuple]) -> list[tuple[bool, int, str] | None]:
        """One request for `items` (the ones still unacknowledged are sent again, with
        backoff, until each is acknowledged, refused or out of time). A result is None
        for every message if the target has no batch endpoint."""
        results: list[tuple[bool, int, str] | None] = [None] * len(items)
        texts: list[str] = []
        for i, item in enumerate(items):
            try:
                texts.append(item[1].decode("utf-8"))
            except UnicodeDecodeError:
                texts.append("")
                results[i] = self._done(False, 0, "HTTP 400: ODF messages must be UTF-8")
        pending = [i for i, result in enumerate(results) if result is None]
        attempts = 0
        unsupported = False

        def settle(indexes: list[int], ok: bool, error: str) -> None:
            for i in indexes:
                results[i] = self._done(ok, attempts, error)

        async def attempt() -> str:  # the last error ("" if none)
            nonlocal attempts, pending, unsupported
            key = self.role.config.api_key()
            if not key:
                settle(pending, False, "no ODF API key configured")
                pending = []
                return "no ODF API key configured"
            attempts += 1
            self.requests += 1
            body = odf.gzip(json.dumps({"messages": [{"xml": texts[i], "sent_at": items[i][2]}
                                                     for i in pending]}).encode())
            headers = {"Content-Type": "application/json", "Content-Encoding": "gzip",
                       "X-API-KEY": key}
            try:
                response = await self.role.client.request("POST", self.batch_url, body,
                                                          headers, timeout=10)
            except ClientError as exc:
                return str(exc)
            if response.status in (404, 405):
                unsupported = True
                return f"HTTP {response.status}"
            if response.status != 200:
                error = (f"HTTP {response.status}: "
                         f"{response.body[:300].decode(errors='replace')}")
                if response.status in (400, 401, 403, 413):  # the request or key is wrong
                    settle(pending, False, error)
                    pending = []
                return error
            try:
                answers = response.json()["results"]
                statuses = [answer["status"] for answer in answers]
                if len(statuses) != len(pending):
                    raise ValueError(f"{len(statuses)} results for {len(pending)} messages")
            except (ValueError, KeyError, TypeError) as exc:
                return f"invalid batch answer: {exc}"
            stored = [i for i, status in zip(pending, statuses) if status == 200]
            settle(stored, True, "")
            if stored:
                self.role.metrics.inc("odf_messages_forwarded_total", len(stored),
                                      target=self.target)
            error, again = "", []
            for i, answer, status in zip(pending, answers, statuses):
                if status == 200:
                    continue
                error = f"HTTP {status}: {str(answer.get('error', ''))[:300]}"
                if status in (400, 401, 403, 413):  # this message is wrong
                    results[i] = self._done(False, attempts, error)
                else:
                    again.append(i)
            pending = again
            return error

        def retrying(state: RetryCallState) -> None:
            self._note_retry(last_result(state), len(pending))

        error = await until_done(attempt, lambda _: not pending or unsupported,
                                 first=0.05, cap=self.backoff_max,
                                 deadline=self.retry_seconds, on_retry=retrying)
        if unsupported:
            log.warning("%s has no batch endpoint (%s): one message per request from now on",
                        self.batch_url, error)
            if self.batch > 1:
                self.batch = 1
                self._start_single()
            return [None if i in pending else result for i, result in enumerate(results)]
        settle(pending, False, error)  # out of time
        return results

    async def _post(self, xml: bytes, sent_at: float) -> tuple[bool, int, str]:
        """One message, retried with backoff until 200, a refusal or the deadline."""
        body = odf.gzip(xml)
        attempts = 0

        async def attempt() -> tuple[bool, str, bool]:  # ok, error, final
            nonlocal attempts
            key = self.role.config.api_key()
            if not key:
                return False, "no ODF API key configured", True
            attempts += 1
            self.requests += 1
            headers = {"Content-Type": "application/xml", "Content-Encoding": "gzip",
                       "X-API-KEY": key, odf.SENT_AT_HEADER: f"{sent_at:.6f}"}
            try:
                response = await self.role.client.request("POST", self.url, body, headers,
                                                          timeout=10)
            except ClientError as exc:
                return False, str(exc), False
            if response.status == 200:
                self.role.metrics.inc("odf_messages_forwarded_total", target=self.target)
                return True, "", True
            error = f"HTTP {response.status}: {response.body[:300].decode(errors='replace')}"
            return False, error, response.status in (400, 401, 403, 413)  # message/key wrong

        ok, error, _ = await until_done(attempt, lambda result: result[0] or result[2],
                                        first=0.05, cap=self.backoff_max,
                                        deadline=self.retry_seconds, on_retry=self._retrying)
        return self._done(ok, attempts, error)

    def _retrying(self, state: RetryCallState) -> None:
        self._note_retry(last_result(state)[1], 1)

    def _note_retry(self, error: str, messages: int) -> None:
        """`messages` are about to be sent again after `error`."""
        if error != self.last_error:
            log.warning("send to %s failed (retrying): %s", self.target, error)
        self.last_error = error
        self.retries += messages
        self.role.metrics.inc("odf_retries_total", messages, target=self.target)

    def _done(self, ok: bool, attempts: int, error: str) -> tuple[bool, int, str]:
        if ok:
            self.sent += 1
            self.last_sent_at = time.time()
        else:
            self.failed += 1
            self.last_error = error
            log.error("gave up sending to %s after %d attempt(s): %s", self.target, attempts,
                      error)
        return ok, attempts, error


def parse_load(body: dict) -> tuple[int, float, list[str] | None]:
    """(count, rate, document_types) of a /odf/generate or replay request, bounded."""
    try:
        count = int(body.get("count", 100))
        rate = float(body.get("rate", 50))
    except (TypeError, ValueError):
        raise HttpError(400, "count must be an integer and rate a number") from None
    if not 1 <= count <= MAX_COUNT:
        raise HttpError(400, f"count must be between 1 and {MAX_COUNT}")
    if not 0 < rate <= MAX_RATE:
        raise HttpError(400, f"rate must be above 0 and at most {MAX_RATE:g} messages/s")
    if count / rate > MAX_SECONDS:
        raise HttpError(400, f"count/rate would run over {MAX_SECONDS:g} s")
    types = body.get("document_types")
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types) or not types:
            raise HttpError(400, "document_types must be a non-empty list of strings")
        unknown = [t for t in types if t not in odf.DOCUMENT_TYPES]
        if unknown:
            raise HttpError(400, f"unknown document type(s): {', '.join(unknown)}")
    return count, rate, types


async def paced(count: int, rate: float, tick: float = 0.0):
    """Yield 0..count-1 at `rate` per second (bursts of what is due, no drift),
    waking at most once per `tick` seconds (0: at each message's due time)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    i = 0
    while i < count:
        now = loop.time()
        due = min(count, int((now - start) * rate) + 1)
        while i < due:
            yield i
            i += 1
        if i < count:
            await asyncio.sleep(max(0.0, start + i / rate - now, tick))


class OvrRole(Role):
    title = "On-Venue Results"
    needs_api_key = True

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.venue = config.venue or config.service.removeprefix("ovr-").upper()[:3] or "VEN"
        self.disciplines = (config.disciplines or list(odf.VENUES.get(self.venue, ()))
                            or [_fallback_discipline(self.venue)])
        self.versions_path = config.data_dir / "ovr-versions.json"
        self.feed = odf.VenueFeed(self.venue, self.disciplines,
                                  competition_code=config.competition_code,
                                  versions=self._load_versions())
        distributor = config.peer("odf-distributor") or "http://odf-distributor-app:8080"
        self.forwarder = Forwarder(self, distributor + "/odf/messages",
                                   connections=int(config.option("ovr_connections")),
                                   batch=int(config.option("ovr_batch")),
                                   batch_connections=int(config.option("ovr_batch_connections")),
                                   retry_seconds=float(config.option("send_retry_seconds")),
                                   backoff_max=float(config.option("retry_backoff_max")))
        self.generating = 0
        self.last_run: dict = {}
        self.schedule: list = []

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/odf/send", self.send)
        router.add("POST", "/odf/generate", self.generate)
        router.add("GET", "/odf/status", self.status)
        router.add("POST", "/schedule/download", self.download_schedule)
        router.add("GET", "/schedule", self.get_schedule)

    async def start(self):
        await super().start()
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.forwarder.start()
        self.spawn(self._save_versions_loop(), "versions")

    async def stop(self):
        await super().stop()
        self._save_versions(clean=True)

    # -- ODF

    async def send(self, request: Request) -> Response:
        self.require_key(request)
        try:
            xml = odf.decode_body(request.body)
            header = odf.parse(xml, full=True)
        except odf.OdfError as exc:
            self.metrics.inc("odf_messages_rejected_total", reason="invalid")
            raise HttpError(400, str(exc)) from None
        self.metrics.inc("odf_messages_received_total")
        sent_at = _float(request.header(odf.SENT_AT_HEADER.lower())) or time.time()
        ok, attempts, error = await self.forwarder.submit(xml, header.identity, sent_at)
        body = {"forwarded": ok, "attempts": attempts, "document_code": header.document_code,
                "document_type": header.document_type, "version": header.version}
        if not ok:
            body["error"] = error
        return json_response(body, 200 if ok else 502)

    async def generate(self, request: Request) -> Response:
        """Constant-arrival-rate load: message i is due at start + i/rate. Each carries
        its due time as its sent time, so a sender that falls behind shows up in the
        consumers' latency instead of hiding it (no coordinated omission)."""
        count, rate, types = parse_load(request.json())
        outstanding = asyncio.Semaphore(MAX_OUTSTANDING)
        futures = []
        codes: list[str] = []
        behind: list[float] = []
        retries_before = self.forwarder.retries
        requests_before = self.forwarder.requests
        self.generating += 1
        # A venue runs a few units at once; a load far above Games levels is spread
        # over more simultaneous units (each identity's versions stay in order).
        self.feed.active_units = max(4, min(256, int(rate / 4)))
        started_at = time.time()
        started = time.monotonic()
        last_send = started
        try:
            async for i in paced(count, rate, float(self.config.option("pace_tick"))):
                xml = self.feed.next(types)
                code = self.feed.last_document_code
                if len(codes) < 20 and code not in codes:
                    codes.append(code)
                await outstanding.acquire()
                last_send = time.monotonic()
                due = i / rate
                behind.append(max(0.0, last_send - started - due))
                future = self.forwarder.submit(xml, self.feed.last_identity, started_at + due)
                future.add_done_callback(lambda _: outstanding.release())
                futures.append(future)
            results = await asyncio.gather(*futures)
        finally:
            self.generating -= 1
            self._save_versions()
        seconds = time.monotonic() - started
        sent = sum(1 for ok, _, _ in results if ok)
        errors = sorted({error for ok, _, error in results if not ok})[:5]
        lag = percentiles(behind)
        self.last_run = {"sent": sent, "failed": len(results) - sent,
                         "offered_rate": rate, "seconds": round(seconds, 3),
                         "send_seconds": round(last_send - started, 3),
                         "rate": round(sent / seconds, 1) if seconds else 0.0,
                         "behind_schedule_ms": {"p99": lag.get("p99_ms", 0.0),
                                                "max": lag.get("max_ms", 0.0)},
                         "retries": self.forwarder.retries - retries_before,
                         "requests": self.forwarder.requests - requests_before,
                         "document_codes": codes, "errors": errors,
                         "started_at": started_at, "finished_at": time.time()}
        return json_response(self.last_run)

    async def status(self, request: Request) -> Response:
        f = self.forwarder
        return json_response({"service": self.config.service, "venue": self.venue,
                              "disciplines": self.disciplines, "source": self.feed.source,
                              "distributor": f.url, "sent": f.sent, "failed": f.failed,
                              "retries": f.retries, "in_flight": f.in_flight,
                              "requests": f.requests, "batch": f.batch,
                              "last_sent_at": f.last_sent_at, "last_error": f.last_error,
                              "generating": self.generating > 0, "last_run": self.last_run,
                              "schedule_units": len(self.schedule)})

    # -- venue schedule download (from competition-schedule)

    async def download_schedule(self, request: Request) -> Response:
        url = self.config.peer("competition-schedule")
        if not url:
            raise HttpError(409, "no competition-schedule peer configured")
        try:
            status, data = await self.client.get_json(
                f"{url}/api/schedule_units?venue={self.venue}&limit=1000", timeout=10)
        except ClientError as exc:
            raise HttpError(502, f"competition-schedule unreachable: {exc}") from None
        if status != 200:
            raise HttpError(502, f"competition-schedule answered {status}")
        self.schedule = data.get("items", []) if isinstance(data, dict) else []
        return json_response({"venue": self.venue, "units": len(self.schedule)})

    async def get_schedule(self, request: Request) -> Response:
        return json_response({"venue": self.venue, "items": self.schedule})

    # -- versions survive restarts

    def _load_versions(self) -> dict[str, int]:
        """Saved versions; after an unclean stop (the last periodic save may be up to
        2 s old) every one jumps by 1000 so no identity+Version is ever reused."""
        try:
            saved = json.loads(self.versions_path.read_text())
            versions = {k: int(v) for k, v in saved["versions"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}
        if not saved.get("clean"):
            versions = {k: v + 1000 for k, v in versions.items()}
        return versions

    def _save_versions(self, clean: bool = False) -> None:
        tmp = self.versions_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps({"clean": clean, "versions": self.feed.versions}))
            os.replace(tmp, self.versions_path)
        except OSError:
            log.exception("cannot save %s", self.versions_path)

    async def _save_versions_loop(self) -> None:
        saved = self.feed.produced
        while True:
            await asyncio.sleep(2)
            if self.feed.produced != saved:
                saved = self.feed.produced
                self._save_versions()


def _fallback_discipline(venue: str) -> str:
    codes = sorted(odf.DISCIPLINES)
    return codes[zlib.crc32(venue.encode()) % len(codes)]


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None
