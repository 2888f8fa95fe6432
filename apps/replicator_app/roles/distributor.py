"""odf-distributor: the ODS intake and fan-out of ODF messages.

``POST /odf/messages`` checks the key (401), validates the message (400, nothing
stored), appends it to the durable queue (SQLite WAL, ``odf_queue.py``) and
answers 200 only once it is committed. ``POST /odf/messages/batch`` does the same
for many messages in one request (one transaction, one result per message). One
delivery loop per consumer reads the queue from that consumer's delivered offset
and POSTs batches to ``<consumer>/odf/deliver``, retried until it answers 200;
offsets are committed a few times a second, so after a crash or restart delivery
resumes where it stopped (the few messages sent again are deduplicated by the
consumers on identity+Version).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time

from .. import odf
from ..http import ClientError, HttpError, Request, Response, json_response
from ..metrics import percentiles
from ..odf_queue import OdfQueue, Record
from ..retry import RetryCallState, last_result, until_done
from .base import Role

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # messages in one POST /odf/messages/batch
MAX_FRAGMENTS = 20_000  # delivery fragments kept: bounded, a consumer may be away for long


class ConsumerLink:
    def __init__(self, name: str, url: str, delivered: int):
        self.name = name
        self.url = url.rstrip("/") + "/odf/deliver"
        self.delivered = delivered
        self.wake = asyncio.Event()
        self.last_error = ""
        self.last_ok_at = 0.0
        self.retries = 0


class DistributorRole(Role):
    title = "ODF distribution (ODS intake and fan-out)"
    needs_api_key = True

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        # segment_bytes (the retention unit of the earlier log) is now the size of
        # delivered messages kept for GET /odf/messages.
        self.queue = OdfQueue(config.data_dir / "odf-queue.sqlite3",
                              int(config.option("segment_bytes")))
        self.offsets: dict[str, int] = {}
        self.links: dict[str, ConsumerLink] = {}
        self.sources: dict[str, dict] = {}
        self._fragments: dict[int, bytes] = {}
        metrics.gauge_callback(self._gauges)

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/odf/messages", self.intake)
        router.add("POST", "/odf/messages/batch", self.intake_batch)
        router.add("GET", "/odf/status", self.status)
        router.add("GET", "/odf/messages", self.recent)

    async def start(self):
        await super().start()
        queue = self.queue
        await asyncio.to_thread(queue.open, asyncio.get_running_loop())
        for name, url in self.config.consumers.items():
            start = queue.offsets.get(name, queue.first_seq - 1)
            # Never before the first retained message, never beyond the end.
            start = min(max(start, queue.first_seq - 1), queue.durable_seq)
            link = ConsumerLink(name, url, start)
            self.links[name] = link
            self.offsets[name] = link.delivered
            self.spawn(self._deliver(link), f"deliver-{name}")
        queue.save_offsets(self.offsets)
        queue.add_listener(self._wake_all)
        self.spawn(self._save_offsets(), "offsets")
        self.spawn(self._retention(), "retention")
        log.info("ODF queue at seq %d; consumers %s", queue.durable_seq,
                 {n: link.delivered for n, link in self.links.items()})

    async def stop(self):
        await super().stop()
        self.queue.save_offsets(self.offsets)
        await asyncio.to_thread(self.queue.close)

    # -- intake

    async def intake(self, request: Request) -> Response:
        self.require_key(request)
        try:
            body = odf.decode_body(request.body)
        except odf.OdfError as exc:
            self.metrics.inc("odf_messages_rejected_total", reason="invalid")
            raise HttpError(400, str(exc)) from None
        header = self._check(body)
        if isinstance(header, HttpError):
            raise header
        sent_at = _sent_at(request)
        try:
            seq = await self.queue.append(body, sent_at)
        except OSError as exc:
            raise HttpError(503, f"cannot store the message: {exc}") from None
        self._prepare(Record(seq, sent_at, 0.0, body), header)
        self._received([header])
        return json_response({"status": "stored", "seq": seq, "version": header.version})

    async def intake_batch(self, request: Request) -> Response:
        """Up to MAX_BATCH messages in one request, each checked on its own: the valid
        ones are committed in one transaction, then every message gets its own answer
        (status 200 with its seq, or 400 naming the problem), in the request's order.
        A 503 (nothing stored) if the queue cannot be written."""
        self.require_key(request)
        messages = _batch_messages(request)
        now = time.time()
        results: list[dict] = []
        valid: list[tuple[bytes, float]] = []
        headers: list[odf.Header] = []
        for i, message in enumerate(messages):
            body = b""
            header: odf.Header | HttpError
            if not isinstance(message, dict) or not isinstance(message.get("xml"), str):
                self.metrics.inc("odf_messages_rejected_total", reason="invalid")
                header = HttpError(400, 'each message is {"xml": "<OdfBody ...", "sent_at": '
                                        '<epoch s>}')
            else:
                try:
                    body = message["xml"].encode("utf-8")
                except UnicodeEncodeError:
                    self.metrics.inc("odf_messages_rejected_total", reason="encoding")
                    header = HttpError(400, "ODF messages must be UTF-8")
                else:
                    header = self._check(body)
            if isinstance(header, HttpError):
                results.append({"index": i, "status": header.status, "error": header.message})
                continue
            results.append({"index": i, "status": 200, "version": header.version})
            valid.append((body, _float(message.get("sent_at")) or now))
            headers.append(header)
        try:
            seqs = await self.queue.append_many(valid)
        except OSError as exc:
            raise HttpError(503, f"cannot store the messages: {exc}") from None
        stored = iter(seqs)
        for result in results:
            if result["status"] == 200:
                result["seq"] = next(stored)
        for seq, (body, sent_at), header in zip(seqs, valid, headers, strict=True):
            self._prepare(Record(seq, sent_at, 0.0, body), header)
        self._received(headers)
        return json_response({"stored": len(seqs), "rejected": len(results) - len(seqs),
                              "results": results})

    def _check(self, body: bytes) -> odf.Header | HttpError:
        """The header of one (inflated) message, or the 400 that refuses it."""
        try:
            header = odf.parse(body, full=True)
            body.decode("utf-8")
        except UnicodeDecodeError:
            self.metrics.inc("odf_messages_rejected_total", reason="encoding")
            return HttpError(400, "ODF messages must be UTF-8")
        except odf.OdfError as exc:
            self.metrics.inc("odf_messages_rejected_total", reason="invalid")
            return HttpError(400, str(exc))
        return header

    def _received(self, headers: list[odf.Header]) -> None:
        """Count messages just stored, per source."""
        if not headers:
            return
        self.metrics.inc("odf_messages_received_total", len(headers))
        now = time.time()
        for header in headers:
            source = self.sources.setdefault(header["Source"], {"messages": 0})
            source.update(messages=source["messages"] + 1, last_document=header.document_code,
                          last_type=header.document_type, last_version=header.version,
                          last_at=now)

    # -- fan-out

    def _wake_all(self) -> None:
        for link in self.links.values():
            link.wake.set()

    async def _deliver(self, link: ConsumerLink) -> None:
        """Batches from the link's offset, each retried (backoff) until the consumer
        answers 200; the offset moves only then."""
        batch = int(self.config.option("deliver_batch"))
        cap = float(self.config.option("deliver_backoff_max"))
        headers = {"Content-Type": "application/json", **self.key_headers()}
        while True:
            records = await self._next_batch(link, batch)
            body = b'{"messages":[' + b",".join(map(self._fragment, records)) + b"]}"

            async def attempt() -> str:  # "" once delivered
                try:
                    response = await self.client.request("POST", link.url, body, headers,
                                                         timeout=30)
                except ClientError as exc:
                    return str(exc)
                return "" if response.status == 200 else (
                    f"HTTP {response.status}: {response.body[:200].decode(errors='replace')}")

            await until_done(attempt, lambda error: not error, first=0.1, cap=cap,
                             on_retry=functools.partial(self._retrying, link))
            link.delivered = records[-1].seq
            link.last_ok_at = time.time()
            link.last_error = ""
            self.offsets[link.name] = link.delivered
            self.metrics.inc("odf_messages_delivered_total", len(records), consumer=link.name)
            self._forget_fragments()

    async def _next_batch(self, link: ConsumerLink, batch: int) -> list:
        """Durable records after the link's offset; waits for some if there are none."""
        linger = float(self.config.option("deliver_linger"))
        while True:
            records = self.queue.read(link.delivered, batch)
            if records:
                break
            link.wake.clear()
            if self.queue.durable_seq <= link.delivered:
                await link.wake.wait()
        wait = linger - (time.time() - records[0].received_at)
        if len(records) < batch // 4 and wait > 0:
            # A small batch of fresh messages: wait a few ms for more, so that a
            # consumer commits (fsyncs) tens of messages at a time, not one.
            await asyncio.sleep(wait)
            records = self.queue.read(link.delivered, batch)
        return records

    def _retrying(self, link: ConsumerLink, state: RetryCallState) -> None:
        error = last_result(state)
        if error != link.last_error:
            log.warning("delivery to %s failed (will retry): %s", link.name, error)
        link.last_error = error
        link.retries += 1
        self.metrics.inc("odf_retries_total", target=link.name)

    def _prepare(self, record: Record, header: odf.Header) -> None:
        """At intake: the record's fragment, while the cache has room (else it would be
        encoded here for nothing, and again at delivery)."""
        if len(self._fragments) < MAX_FRAGMENTS:
            self._fragment(record, header)

    def _fragment(self, record: Record, header: odf.Header | None = None) -> bytes:
        """A record's JSON in a delivery batch, encoded once for all consumers (at
        intake, where its header is known). It carries the header's attributes, so
        the four consumers need not parse the XML again."""
        fragment = self._fragments.get(record.seq)
        if fragment is None:
            if header is None:  # read back from the database (after a restart)
                header = odf.parse(record.payload, full=False)
            fragment = json.dumps({"seq": record.seq, "sent_at": record.sent_at,
                                   "header": header.attrs,
                                   "xml": record.payload.decode("utf-8")}).encode()
            if len(self._fragments) < MAX_FRAGMENTS:
                self._fragments[record.seq] = fragment
        return fragment

    def _forget_fragments(self) -> None:
        low = min(link.delivered for link in self.links.values())
        fragments = self._fragments
        while fragments:
            seq = next(iter(fragments))
            if seq > low:
                break
            del fragments[seq]

    async def _save_offsets(self) -> None:
        saved: dict[str, int] = {}
        while True:
            await asyncio.sleep(0.25)
            if self.offsets != saved:
                saved = dict(self.offsets)
                self.queue.save_offsets(saved)

    async def _retention(self) -> None:
        # Often, so each trim is small: the queue decides from sizes in memory and
        # deletes at most TRIM_ROWS per transaction.
        while True:
            await asyncio.sleep(1)
            self.queue.trim()

    # -- views

    def _gauges(self):
        rows = [("odf_log_last_seq", {}, self.queue.durable_seq)]
        rows += [("odf_queue_depth", {"consumer": name}, self.queue.written_seq - link.delivered)
                 for name, link in self.links.items()]
        return rows

    async def checks(self):
        out = await super().checks()
        out["log"] = "ok" if self.queue.healthy else (self.queue.error or "stopped")
        return out

    async def status(self, request: Request) -> Response:
        recent = self.queue.tail(10_000)
        intake = percentiles([r.received_at - r.sent_at for r in recent])
        return json_response({
            "service": self.config.service, "log": self.queue.stats(),
            "intake_latency": intake | {"over_last": len(recent)},
            "consumers": {name: {"url": link.url, "delivered_seq": link.delivered,
                                 "queue_depth": self.queue.written_seq - link.delivered,
                                 "last_ok_at": link.last_ok_at, "last_error": link.last_error,
                                 "retries": link.retries}
                          for name, link in self.links.items()},
            "sources": self.sources})

    async def recent(self, request: Request) -> Response:
        """Headers of stored messages after ?after=<seq> (default: the last 50)."""
        limit = request.int_arg("limit", 50, low=1, high=1000)
        after = request.int_arg("after", max(0, self.queue.durable_seq - limit))
        out = []
        for record in self.queue.read(after, limit):
            header = odf.parse(record.payload, full=False)
            out.append({"seq": record.seq, "sent_at": record.sent_at,
                        "received_at": record.received_at, **header.attrs})
        return json_response({"messages": out, "durable_seq": self.queue.durable_seq})


def _batch_messages(request: Request) -> list:
    """The messages of a batch body (JSON, plain or gzip), or a 400 for the request."""
    try:
        batch = json.loads(odf.decode_body(request.body))
        messages = batch["messages"]
    except (odf.OdfError, ValueError, KeyError, TypeError):
        raise HttpError(400, 'a batch is {"messages": [{"xml": "<OdfBody ...", "sent_at": '
                             '<epoch s>}, ...]} (JSON, plain or gzip)') from None
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_BATCH:
        raise HttpError(400, f"a batch holds 1 to {MAX_BATCH} messages")
    return messages


def _float(raw: object) -> float | None:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def _sent_at(request: Request) -> float:
    raw = request.header(odf.SENT_AT_HEADER.lower())
    if raw:
        try:
            return float(raw)
        except ValueError:
            pass
    return time.time()
