"""odf-distributor: the ODS intake and fan-out of ODF messages.

``POST /odf/messages`` checks the key (401), validates the message (400, nothing
stored), appends it to the durable log and answers 200 only once it is on disk.
One delivery loop per consumer reads the log from that consumer's delivered
offset and POSTs batches to ``<consumer>/odf/deliver`` until it answers 200;
offsets are saved a few times a second, so after a crash or restart delivery
resumes where it stopped (the few messages sent again are deduplicated by the
consumers on identity+Version).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from .. import odf
from ..http import ClientError, HttpError, Request, Response, json_response
from ..metrics import percentiles
from ..store import OdfLog, Offsets
from .base import Role

log = logging.getLogger(__name__)


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
        directory = config.data_dir / "odf-log"
        self.log = OdfLog(directory, int(config.option("segment_bytes")))
        self.offsets = Offsets(directory / "offsets.json")
        self.links: dict[str, ConsumerLink] = {}
        self.sources: dict[str, dict] = {}
        self._fragments: dict[int, bytes] = {}
        metrics.gauge_callback(self._gauges)

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/odf/messages", self.intake)
        router.add("GET", "/odf/status", self.status)
        router.add("GET", "/odf/messages", self.recent)

    async def start(self):
        await super().start()
        await asyncio.to_thread(self.log.open, asyncio.get_running_loop())
        for name, url in self.config.consumers.items():
            start = self.offsets.values.get(name, self.log.first_seq - 1)
            # Never beyond the log's end (a log lost with its offsets kept would
            # otherwise skip new messages), never before its first retained record.
            start = min(max(start, self.log.first_seq - 1), self.log.durable_seq)
            link = ConsumerLink(name, url, start)
            self.links[name] = link
            self.offsets.values[name] = link.delivered
            self.spawn(self._deliver(link), f"deliver-{name}")
        self.offsets.values = {n: v for n, v in self.offsets.values.items() if n in self.links}
        self.log.add_listener(self._wake_all)
        self.spawn(self._save_offsets(), "offsets")
        self.spawn(self._retention(), "retention")
        log.info("ODF log at seq %d; consumers %s", self.log.durable_seq,
                 {n: link.delivered for n, link in self.links.items()})

    async def stop(self):
        await super().stop()
        await asyncio.to_thread(self.offsets.save)
        await asyncio.to_thread(self.log.close)

    # -- intake

    async def intake(self, request: Request) -> Response:
        self.require_key(request)
        try:
            body = odf.decode_body(request.body)
            header = odf.parse(body, full=True)
            body.decode("utf-8")
        except UnicodeDecodeError:
            self.metrics.inc("odf_messages_rejected_total", reason="encoding")
            raise HttpError(400, "ODF messages must be UTF-8") from None
        except odf.OdfError as exc:
            self.metrics.inc("odf_messages_rejected_total", reason="invalid")
            raise HttpError(400, str(exc)) from None
        sent_at = _sent_at(request)
        try:
            seq = await self.log.append(body, sent_at)
        except OSError as exc:
            raise HttpError(503, f"cannot store the message: {exc}") from None
        self.metrics.inc("odf_messages_received_total")
        source = self.sources.setdefault(header["Source"], {"messages": 0})
        source.update(messages=source["messages"] + 1, last_document=header.document_code,
                      last_type=header.document_type, last_version=header.version,
                      last_at=time.time())
        return json_response({"status": "stored", "seq": seq, "version": header.version})

    # -- fan-out

    def _wake_all(self) -> None:
        for link in self.links.values():
            link.wake.set()

    async def _deliver(self, link: ConsumerLink) -> None:
        batch = int(self.config.option("deliver_batch"))
        linger = float(self.config.option("deliver_linger"))
        cap = float(self.config.option("deliver_backoff_max"))
        backoff = 0.1
        while True:
            records = self.log.read(link.delivered, batch)
            if not records:
                link.wake.clear()
                if self.log.durable_seq <= link.delivered:
                    await link.wake.wait()
                continue
            wait = linger - (time.time() - records[0].received_at)
            if len(records) < batch // 4 and wait > 0:
                # A small batch of fresh messages: wait a few ms for more, so that a
                # consumer commits (fsyncs) tens of messages at a time, not one.
                await asyncio.sleep(wait)
                records = self.log.read(link.delivered, batch)
            body = b'{"messages":[' + b",".join(map(self._fragment, records)) + b"]}"
            headers = {"Content-Type": "application/json", **self.key_headers()}
            try:
                response = await self.client.request("POST", link.url, body, headers, timeout=30)
                error = "" if response.status == 200 else (
                    f"HTTP {response.status}: {response.body[:200].decode(errors='replace')}")
            except ClientError as exc:
                error = str(exc)
            if not error:
                link.delivered = records[-1].seq
                link.last_ok_at = time.time()
                link.last_error = ""
                self.offsets.values[link.name] = link.delivered
                self.metrics.inc("odf_messages_delivered_total", len(records),
                                 consumer=link.name)
                self._forget_fragments()
                backoff = 0.1
                continue
            if error != link.last_error:
                log.warning("delivery to %s failed (will retry): %s", link.name, error)
            link.last_error = error
            link.retries += 1
            self.metrics.inc("odf_retries_total", target=link.name)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, cap)

    def _fragment(self, record) -> bytes:
        """A record's JSON in a delivery batch, encoded once for all consumers."""
        fragment = self._fragments.get(record.seq)
        if fragment is None:
            fragment = json.dumps({"seq": record.seq, "sent_at": record.sent_at,
                                   "xml": record.payload.decode("utf-8")}).encode()
            if len(self._fragments) < 20_000:  # bounded: a consumer may be away for long
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
        while True:
            await asyncio.sleep(0.25)
            await asyncio.to_thread(self.offsets.save)

    async def _retention(self) -> None:
        while True:
            await asyncio.sleep(30)
            if self.links:
                removed = self.log.trim(min(link.delivered for link in self.links.values()))
                if removed:
                    log.info("removed %d fully delivered log segment(s)", removed)

    # -- views

    def _gauges(self):
        rows = [("odf_log_last_seq", {}, self.log.durable_seq)]
        rows += [("odf_queue_depth", {"consumer": name}, self.log.written_seq - link.delivered)
                 for name, link in self.links.items()]
        return rows

    async def checks(self):
        out = await super().checks()
        out["log"] = "ok" if self.log.healthy else (self.log.error or "stopped")
        return out

    async def status(self, request: Request) -> Response:
        recent = self.log.tail(10_000)
        intake = percentiles([r.received_at - r.sent_at for r in recent])
        return json_response({
            "service": self.config.service, "log": self.log.stats(),
            "intake_latency": intake | {"over_last": len(recent)},
            "consumers": {name: {"url": link.url, "delivered_seq": link.delivered,
                                 "queue_depth": self.log.written_seq - link.delivered,
                                 "last_ok_at": link.last_ok_at, "last_error": link.last_error,
                                 "retries": link.retries}
                          for name, link in self.links.items()},
            "sources": self.sources})

    async def recent(self, request: Request) -> Response:
        """Headers of stored messages after ?after=<seq> (default: the last 50)."""
        limit = request.int_arg("limit", 50, low=1, high=1000)
        after = request.int_arg("after", max(0, self.log.durable_seq - limit))
        out = []
        for record in self.log.read(after, limit):
            header = odf.parse(record.payload, full=False)
            out.append({"seq": record.seq, "sent_at": record.sent_at,
                        "received_at": record.received_at, **header.attrs})
        return json_response({"messages": out, "durable_seq": self.log.durable_seq})


def _sent_at(request: Request) -> float:
    raw = request.header(odf.SENT_AT_HEADER.lower())
    if raw:
        try:
            return float(raw)
        except ValueError:
            pass
    return time.time()
