"""The smaller services, each doing what its links in the topology say:

- log-collector: ``POST /logs`` (JSON, list or NDJSON), ``GET /logs``; forwards
  security-relevant records to security-events.
- security-events: ``POST /events``; repeated failures of one subject within a
  window become an incident and a service-desk ticket.
- service-desk: ``POST /tickets``, ``GET /tickets``, ``POST /tickets/<id>``.
- venue-results-monitor: watches every OVR's ``/odf/status`` and the
  distributor's delivery into ODS; ``GET /status``.
- test-orchestrator: ``POST /runs {"scenario": ...}`` runs health, functional,
  results-chain or replay scenarios against its peers; ``GET /runs/<id>``.
- odf-replayer: a stored library of earlier editions' ODF messages replayed to the
  OVRs (or straight to the distributor) at a rate: ``POST /replay/start``.
- news-service: ``POST /news`` stores a story and pushes it to MyInfo.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import random
import re
import time

from .. import odf
from ..http import ClientError, HttpError, Request, Response, html_response, json_response
from ..retry import poll, until_done
from ..store import JsonStore
from .base import PollingRole, Role
from .monitoring import _iso
from .ovr import Forwarder, paced, parse_load

log = logging.getLogger(__name__)


def _records(request: Request) -> list[dict]:
    """A JSON object, a list, {"records"|"events"|"stories": [...]} or NDJSON lines."""
    try:
        data = request.json()
    except HttpError:
        try:
            data = [json.loads(line) for line in request.body.decode().splitlines() if line]
        except ValueError:
            raise HttpError(400, "send JSON, a JSON list or NDJSON") from None
    if isinstance(data, dict):
        for key in ("records", "events", "stories", "tickets"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    if not all(isinstance(r, dict) for r in records):
        raise HttpError(400, "every record must be a JSON object")
    return records


def _listing(store: JsonStore, collection: str, request: Request, filter_keys=(),
             default: int = 100, high: int = 1000, **extra) -> Response:
    """GET of a collection, newest first: ?limit= and equality filters on `filter_keys`."""
    limit = request.int_arg("limit", default, low=1, high=high)
    filters = {k: request.query[k] for k in filter_keys if k in request.query}
    return json_response({"items": store.list(collection, limit, filters=filters,
                                              newest_first=True),
                          "total": store.count(collection, filters), **extra})


async def _woken(wake: asyncio.Event, every: float = 5.0) -> None:
    """Return when `wake` is set or after `every` seconds, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), every)
    wake.clear()


# --------------------------------------------------------------------------- log-collector

SECURITY_WORDS = re.compile(r"denied|unauthori[sz]ed|forbidden|\b401\b|failed login|"
                            r"authentication|X-API-KEY", re.IGNORECASE)


class LogCollectorRole(Role):
    title = "CTOC log collector"

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.store = JsonStore(config.data_dir / "log-collector.sqlite3")
        self.outbox: collections.deque = collections.deque(maxlen=10_000)
        self.wake = asyncio.Event()

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/logs", self.ingest)
        router.add("GET", "/logs", self.search)
        router.add("GET", "/logs/stats", self.stats)

    async def start(self):
        await super().start()
        self.spawn(self._forward_security(), "security-forward")
        self.spawn(_retention(self.store, "logs", int(self.config.option("max_records"))),
                   "retention")

    async def ingest(self, request: Request) -> Response:
        records = _records(request)
        now = time.time()
        rows = []
        for r in records:
            record = {"ts": r.get("ts", now), "service": str(r.get("service", "unknown")),
                      "site": str(r.get("site", "")), "host": r.get("host", request.peer),
                      "level": str(r.get("level", "INFO")).upper(),
                      "logger": r.get("logger", ""), "message": str(r.get("message", ""))[:4000],
                      "category": r.get("category", "app")}
            rows.append((None, record))
            if record["category"] == "security" or (
                    record["level"] in ("WARNING", "ERROR", "CRITICAL")
                    and SECURITY_WORDS.search(record["message"])):
                self.outbox.append({"type": "log_alert", "subject": record["service"],
                                    "source": "log-collector", "ts": record["ts"],
                                    "message": record["message"][:500]})
        await asyncio.to_thread(self.store.insert_many, "logs", rows)
        if self.outbox:
            self.wake.set()
        self.metrics.inc("records_total", len(rows), kind="logs")
        return json_response({"accepted": len(rows)})

    def search(self, request: Request) -> Response:
        return _listing(self.store, "logs", request, ("service", "level", "site", "category"))

    def stats(self, request: Request) -> Response:
        return json_response({"by_service_level": self.store.group_count("logs",
                                                                        ("service", "level"))})

    async def _forward_security(self) -> None:
        url = self.config.peer("security-events")
        while True:
            await _woken(self.wake)
            if url and self.outbox:
                await until_done(lambda: self._forward_batch(url), bool, first=1.0, cap=5.0)

    async def _forward_batch(self, url: str) -> bool:
        """Post what the outbox holds to security-events; True once it took it."""
        batch = list(self.outbox)
        try:
            response = await self.client.post_json(url + "/events", {"events": batch})
        except ClientError:
            return False
        if response.status != 200:
            return False
        for _ in batch:
            self.outbox.popleft()
        return True


async def _retention(store: JsonStore, collection: str, keep: int) -> None:
    while True:
        await asyncio.sleep(60)
        removed = await asyncio.to_thread(store.trim, collection, keep)
        if removed:
            log.info("retention: removed %d old %s", removed, collection)


# --------------------------------------------------------------------------- security-events

FAILURES = ("access_denied", "auth_failure", "log_alert", "api_key_rejected")


class SecurityEventsRole(Role):
    title = "CTOC security events (SIEM)"

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.store = JsonStore(config.data_dir / "security-events.sqlite3")
        self.threshold = int(config.option("security_threshold"))
        self.window = float(config.option("security_window"))
        self.recent: dict[str, collections.deque] = {}
        self.opened: dict[str, float] = {}  # subject -> when its incident was opened
        self.pending: collections.deque = collections.deque(maxlen=1000)
        self.wake = asyncio.Event()

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/events", self.ingest)
        router.add("GET", "/events", self.list_events)
        router.add("GET", "/incidents", self.list_incidents)

    async def start(self):
        await super().start()
        self.spawn(self._tickets(), "tickets")
        self.spawn(_retention(self.store, "events", int(self.config.option("max_records"))),
                   "retention")

    async def ingest(self, request: Request) -> Response:
        events = _records(request)
        now = time.time()
        rows, incidents = [], []
        for e in events:
            event = {"type": str(e.get("type", "event")), "subject": str(e.get("subject", "")),
                     "source": str(e.get("source", request.peer)), "ts": e.get("ts", now),
                     **{k: v for k, v in e.items() if k not in ("type", "subject", "source",
                                                                "ts")}}
            rows.append((None, event))
            if event["type"] in FAILURES:
                incident = self._correlate(event, now)
                if incident:
                    incidents.append(incident)
        await asyncio.to_thread(self.store.insert_many, "events", rows)
        for incident in incidents:
            doc = await asyncio.to_thread(self.store.insert, "incidents", incident)
            self.pending.append(doc)
            self.wake.set()
            log.warning("security incident: %s", incident["title"], extra={"category": "security"})
        self.metrics.inc("records_total", len(rows), kind="security_events")
        return json_response({"accepted": len(rows), "incidents": len(incidents)})

    def _correlate(self, event: dict, now: float) -> dict | None:
        subject = event["subject"] or event["source"]
        times = self.recent.setdefault(subject, collections.deque())
        times.append(now)
        while times and times[0] < now - self.window:
            times.popleft()
        if len(times) < self.threshold or now - self.opened.get(subject, 0) < self.window:
            return None
        self.opened[subject] = now
        return {"subject": subject, "type": event["type"], "events": len(times),
                "window_s": self.window, "opened_at": _iso(now), "ticket": None,
                "title": f"{len(times)} {event['type']} events for {subject} "
                         f"within {self.window:g} s"}

    async def _tickets(self) -> None:
        """Open a service-desk ticket for each incident (retried until it answers)."""
        while True:
            await _woken(self.wake)
            url = self.config.peer("service-desk")
            while url and self.pending:
                await until_done(lambda: self._open_ticket(url), bool, first=1.0, cap=5.0)

    async def _open_ticket(self, url: str) -> bool:
        """The first pending incident as a ticket; True once service-desk made it."""
        incident = self.pending[0]
        try:
            response = await self.client.post_json(url + "/tickets", {
                "title": incident["title"], "category": "security", "severity": "high",
                "source": self.config.service, "service": incident["subject"],
                "description": json.dumps(incident)})
        except ClientError:
            return False
        if response.status != 201:
            return False
        number = (response.json() or {}).get("number")
        await asyncio.to_thread(self.store.update, "incidents", incident["id"],
                                {"ticket": number})
        self.pending.popleft()
        return True

    def list_events(self, request: Request) -> Response:
        return _listing(self.store, "events", request, ("type", "subject"))

    def list_incidents(self, request: Request) -> Response:
        return _listing(self.store, "incidents", request)


# --------------------------------------------------------------------------- service-desk

TICKET_STATES = ("open", "acknowledged", "resolved", "closed")
SEVERITIES = ("low", "medium", "high", "critical")


class ServiceDeskRole(Role):
    title = "TOC service desk"

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.store = JsonStore(config.data_dir / "service-desk.sqlite3")

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/tickets", self.create)
        router.add("GET", "/tickets", self.list)
        router.add("GET", "/tickets/{ident}", self.get)
        router.add("POST", "/tickets/{ident}", self.update)

    def create(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not body.get("title"):
            raise HttpError(400, "a ticket needs a title")
        severity = str(body.get("severity", "medium")).lower()
        if severity not in SEVERITIES:
            raise HttpError(400, f"severity must be one of {', '.join(SEVERITIES)}")
        ticket = {"title": str(body["title"])[:300], "description": body.get("description", ""),
                  "category": body.get("category", "incident"), "severity": severity,
                  "source": body.get("source", request.peer), "service": body.get("service"),
                  "site": body.get("site"), "status": "open", "comments": []}
        [ident] = self.store.add_keyed("tickets", "INC",
                                       [lambda number: {**ticket, "number": number}])
        ticket["number"] = f"INC{ident:07d}"
        log.info("ticket %s opened (%s, %s): %s", ticket["number"], severity,
                 ticket["category"], ticket["title"])
        self.metrics.inc("records_total", kind="tickets")
        return json_response(self.store.get("tickets", ident), 201)

    def list(self, request: Request) -> Response:
        return _listing(self.store, "tickets", request,
                        ("status", "category", "severity", "service"))

    def _find(self, ident: str) -> dict:
        doc = (self.store.get("tickets", int(ident)) if ident.isdigit()
               else self.store.get_by_key("tickets", ident.upper()))
        if doc is None:
            raise HttpError(404, f"no ticket {ident}")
        return doc

    def get(self, request: Request) -> Response:
        return json_response(self._find(request.params["ident"]))

    def update(self, request: Request) -> Response:
        doc = self._find(request.params["ident"])
        body = request.json()
        patch = {}
        if "status" in body:
            if body["status"] not in TICKET_STATES:
                raise HttpError(400, f"status must be one of {', '.join(TICKET_STATES)}")
            patch["status"] = body["status"]
        if "assignee" in body:
            patch["assignee"] = str(body["assignee"])
        if body.get("comment"):
            patch["comments"] = [*doc.get("comments", []),
                                 {"at": _iso(time.time()), "text": str(body["comment"])[:2000]}]
        log.info("ticket %s updated: %s", doc["number"], ", ".join(patch) or "nothing")
        return json_response(self.store.update("tickets", doc["id"], patch))


# --------------------------------------------------------------------------- venue-results-monitor


class VenueResultsMonitorRole(PollingRole):
    title = "TOC venue results monitor"

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.venues: dict[str, dict] = {name: {"name": name, "url": url, "state": "unknown"}
                                        for name, url in config.peers_of("ovr").items()}
        self.distributor: dict = {"state": "unknown"}

    async def poll_forever(self) -> None:
        while True:
            await asyncio.gather(self._poll_distributor(),
                                 *(self._poll_venue(v) for v in self.venues.values()))
            await asyncio.sleep(self.interval)

    async def _poll_venue(self, entry: dict) -> None:
        try:
            status, body = await self.client.get_json(entry["url"] + "/odf/status", self.timeout)
        except (ClientError, ValueError) as exc:
            entry.update(state="down", error=str(exc), checked_at=_iso(time.time()))
            return
        if status != 200 or not isinstance(body, dict):
            entry.update(state="down", error=f"HTTP {status}", checked_at=_iso(time.time()))
            return
        previous_failed = entry.get("failed", 0)
        entry.update({k: body.get(k) for k in ("venue", "source", "sent", "failed", "retries",
                                               "in_flight", "last_sent_at", "last_error")})
        entry["state"] = ("failing" if (body.get("failed") or 0) > previous_failed
                          or (body.get("in_flight") or 0) > 1000 else "ok")
        entry["error"] = None
        entry["checked_at"] = _iso(time.time())

    async def _poll_distributor(self) -> None:
        url = self.config.peer("odf-distributor")
        if not url:
            return
        try:
            status, body = await self.client.get_json(url + "/odf/status", self.timeout)
        except (ClientError, ValueError) as exc:
            self.distributor = {"state": "down", "error": str(exc)}
            return
        if status != 200 or not isinstance(body, dict):
            self.distributor = {"state": "down", "error": f"HTTP {status}"}
            return
        consumers = body.get("consumers", {})
        lagging = {n: c["queue_depth"] for n, c in consumers.items() if c["queue_depth"] > 1000}
        self.distributor = {"state": "lagging" if lagging else "ok", "lagging": lagging,
                            "consumers": {n: {"queue_depth": c["queue_depth"],
                                              "last_error": c["last_error"]}
                                          for n, c in consumers.items()},
                            "sources": body.get("sources", {}),
                            "log": body.get("log", {}), "checked_at": _iso(time.time())}

    def snapshot(self) -> dict:
        sources = self.distributor.get("sources", {})
        venues = []
        for entry in sorted(self.venues.values(), key=lambda e: e["name"]):
            received = sources.get(entry.get("source") or "", {}).get("messages")
            venues.append({**entry, "received_by_ods": received})
        states = collections.Counter(v["state"] for v in venues)
        return {"venues": venues, "distributor": self.distributor,
                "summary": {"venues": len(venues), **states,
                            "distributor": self.distributor.get("state")}}

    async def status(self, request: Request) -> Response:
        return json_response(self.snapshot())

    async def index(self, request: Request) -> Response:
        snap = self.snapshot()
        rows = "".join(f"<tr><td>{v['name']}</td><td>{v['state']}</td><td>{v.get('sent')}</td>"
                       f"<td>{v.get('received_by_ods')}</td><td>{v.get('failed')}</td></tr>"
                       for v in snap["venues"])
        return html_response(
            "<!doctype html><html><head><meta charset='utf-8'><title>Venue results monitor"
            f"</title></head><body><h1>Venue results</h1><p>{json.dumps(snap['summary'])}</p>"
            "<table border='1'><tr><th>OVR</th><th>State</th><th>Sent</th><th>In ODS</th>"
            f"<th>Failed</th></tr>{rows}</table></body></html>")


# --------------------------------------------------------------------------- test-orchestrator


class TestOrchestratorRole(Role):
    title = "ITL test orchestrator"
    SCENARIOS: tuple[str, ...] = ("health", "functional", "results-chain", "replay")

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.store = JsonStore(config.data_dir / "test-orchestrator.sqlite3")
        self.running: dict[int, dict] = {}

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/runs", self.create)
        router.add("GET", "/runs", self.list)
        router.add("GET", "/runs/{ident}", self.get)

    async def create(self, request: Request) -> Response:
        body = request.json()
        scenario = body.get("scenario", "health")
        if scenario not in self.SCENARIOS:
            raise HttpError(400, f"scenario must be one of {', '.join(self.SCENARIOS)}")
        run = await asyncio.to_thread(self.store.insert, "runs", {
            "scenario": scenario, "params": body, "status": "running", "steps": [],
            "started_at": _iso(time.time())})
        self.running[run["id"]] = run
        self.spawn(self._execute(run, body), f"run-{run['id']}")
        return json_response(run, 202)

    async def _execute(self, run: dict, params: dict) -> None:
        steps = run["steps"]

        def step(name: str, ok: bool, detail=None) -> bool:
            steps.append({"step": name, "ok": ok, "detail": detail, "at": _iso(time.time())})
            return ok

        try:
            await getattr(self, "_" + run["scenario"].replace("-", "_"))(params, step)
            status = "passed" if steps and all(s["ok"] for s in steps) else "failed"
        except Exception as exc:  # a scenario bug is a failed run, not a dead task
            log.exception("test run %d (%s) broke", run["id"], run["scenario"])
            step("error", False, repr(exc))
            status = "failed"
        run.update(status=status, finished_at=_iso(time.time()))
        await asyncio.to_thread(self.store.update, "runs", run["id"],
                                {"status": status, "steps": steps,
                                 "finished_at": run["finished_at"]})
        self.running.pop(run["id"], None)
        log.info("test run %d (%s) %s", run["id"], run["scenario"], status)

    async def _health(self, params, step) -> None:
        for name, url in sorted(self.config.peers.items()):
            for i, base in enumerate(url if isinstance(url, list) else [url]):
                label = name if not isinstance(url, list) else f"{name}#{i + 1}"
                try:
                    status, body = await self.client.get_json(base.rstrip("/") + "/health", 5)
                    step(f"health {label}", status == 200, body)
                except (ClientError, ValueError) as exc:
                    step(f"health {label}", False, str(exc))

    async def _functional(self, params, step) -> None:
        url = self.config.peer("accreditation")
        if not step("accreditation peer configured", bool(url)):
            return
        assert url  # step() returns its ok
        record = {"given_name": "Test", "family_name": f"RUN{random.randrange(10**6)}",
                  "organisation": "FRA", "category": "Aa", "venues": ["AQC"],
                  "status": "VALIDATED"}
        response = await self.client.post_json(url + "/api/accreditations", record)
        if not step("create accreditation", response.status == 201, response.status):
            return
        doc = response.json()
        status, got = await self.client.get_json(f"{url}/api/accreditations/{doc['id']}")
        step("read it back", status == 200 and got.get("family_name") == record["family_name"])
        response = await self.client.post_json(url + "/api/access-check", {
            "accreditation_id": doc["key"], "venue": "AQC"})
        step("access granted at AQC", (response.json() or {}).get("granted") is True)
        response = await self.client.request("DELETE", f"{url}/api/accreditations/{doc['id']}")
        step("delete it", response.status == 200)

    async def _results_chain(self, params, step) -> None:
        ovrs = self.config.peers_of("ovr")
        wanted = params.get("venues")
        if wanted:
            ovrs = {n: u for n, u in ovrs.items() if n.removeprefix("ovr-").upper() in
                    [v.upper() for v in wanted]}
        if not step("ovr peers", bool(ovrs), sorted(ovrs)):
            return
        name, url = min(ovrs.items())
        count = min(int(params.get("count", 30)), 10_000)
        response = await self.client.post_json(url + "/odf/generate", {
            "count": count, "rate": float(params.get("rate", 20)),
            "document_types": ["DT_RESULT"]}, timeout=count / 5 + 60)
        body = response.json() or {}
        if not step(f"{name} generated {count} DT_RESULT", body.get("sent") == count, body):
            return
        wrs = self.config.peer("wrs")
        if not wrs:
            step("wrs peer configured", False)
            return
        code = body["document_codes"][-1]
        response = await poll(lambda: self.client.request("GET", f"{wrs}/results/{code}"),
                              lambda answer: answer.status == 200, every=0.5, timeout=20)
        step(f"published on wrs: /results/{code}", response.status == 200,
             response.headers.get("x-odf-version"))

    async def _replay(self, params, step) -> None:
        url = self.config.peer("odf-replayer")
        if not step("odf-replayer peer configured", bool(url)):
            return
        assert url  # step() returns its ok
        response = await self.client.post_json(url + "/replay/start", {
            "count": int(params.get("count", 100)), "rate": float(params.get("rate", 20)),
            "target": params.get("target", "ovr")})
        if not step("replay started", response.status == 202, response.json()):
            return
        _, status = await poll(lambda: self.client.get_json(url + "/replay/status"),
                               lambda answer: not answer[1].get("running"), every=1.0,
                               timeout=float(params.get("timeout", 300)))
        if status.get("running"):
            step("replay finished in time", False)
        else:
            step("replay finished without failures", status.get("failed") == 0, status)

    def list(self, request: Request) -> Response:
        limit = request.int_arg("limit", 50, low=1, high=500)
        return json_response({"items": self.store.list("runs", limit, newest_first=True)})

    def get(self, request: Request) -> Response:
        ident = int(request.params["ident"]) if request.params["ident"].isdigit() else -1
        run = self.running.get(ident) or self.store.get("runs", ident)
        if run is None:
            raise HttpError(404, f"no run {request.params['ident']}")
        return json_response(run)


# --------------------------------------------------------------------------- odf-replayer

EARLIER_EDITIONS = ("OG2020", "OG2016")


class OdfReplayerRole(Role):
    title = "ITL ODF replayer and load injector"
    needs_api_key = True

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.store = JsonStore(config.data_dir / "odf-replayer.sqlite3")
        self.task: asyncio.Task | None = None
        self.state: dict = {"running": False}
        self.versions: dict[str, int] = {}

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/replay/messages", self.add_messages)
        router.add("GET", "/replay/messages", self.library)
        router.add("POST", "/replay/start", self.start_replay)
        router.add("POST", "/replay/stop", self.stop_replay)
        router.add("GET", "/replay/status", self.status)

    async def start(self):
        await super().start()
        if await asyncio.to_thread(self.store.count, "messages") == 0:
            await asyncio.to_thread(self._generate, 1000, EARLIER_EDITIONS[0], None)
            log.info("replay library initialised with 1000 %s messages", EARLIER_EDITIONS[0])

    def _generate(self, count: int, competition_code: str, venue: str | None) -> int:
        venues = [venue.upper()] if venue else sorted(odf.VENUES)[:8]
        feeds = [odf.VenueFeed(v, list(odf.VENUES.get(v, ("ATH",))),
                               competition_code=competition_code, seed=i)
                 for i, v in enumerate(venues)]
        rows = []
        for i in range(count):
            feed = feeds[i % len(feeds)]
            xml = feed.next()
            rows.append((None, {"xml": xml.decode(), "identity": feed.last_identity,
                                "document_code": feed.last_document_code}))
        self.store.insert_many("messages", rows)
        return count

    async def add_messages(self, request: Request) -> Response:
        if request.header("content-type", "").startswith("application/json"):
            body = request.json()
            count = int(body.get("generate", 0))
            if not 1 <= count <= 100_000:
                raise HttpError(400, 'send ODF XML, or {"generate": 1..100000}')
            code = body.get("competition_code", EARLIER_EDITIONS[0])
            await asyncio.to_thread(self._generate, count, code, body.get("venue"))
            return json_response({"added": count,
                                  "total": await asyncio.to_thread(self.store.count,
                                                                   "messages")})
        try:
            xml = odf.decode_body(request.body)
            header = odf.parse(xml, full=True)
        except odf.OdfError as exc:
            raise HttpError(400, str(exc)) from None
        await asyncio.to_thread(self.store.insert, "messages", {
            "xml": xml.decode(), "identity": header.identity,
            "document_code": header.document_code})
        return json_response({"added": 1})

    def library(self, request: Request) -> Response:
        sample = self.store.list("messages", request.int_arg("limit", 5, low=0, high=100))
        return json_response({"total": self.store.count("messages"),
                              "sample": [{"id": m["id"], "document_code": m["document_code"],
                                          "identity": m["identity"]} for m in sample]})

    async def start_replay(self, request: Request) -> Response:
        if self.state.get("running"):
            raise HttpError(409, "a replay is running; POST /replay/stop first")
        body = request.json()
        total = await asyncio.to_thread(self.store.count, "messages")
        if not total:
            raise HttpError(409, "the replay library is empty")
        count, rate, _ = parse_load({"count": body.get("count", total),
                                     "rate": body.get("rate", 50)})
        target = body.get("target", "ovr")
        if target in ("ovr", "ovrs"):
            urls = {n: u + "/odf/send" for n, u in self.config.peers_of("ovr").items()}
        else:
            url = self.config.peer(target)
            urls = {target: url + "/odf/messages"} if url else {}
        if not urls:
            raise HttpError(409, f"no {target} peer configured")
        senders = [Forwarder(self, url, connections=8,
                             retry_seconds=float(self.config.option("send_retry_seconds")),
                             target=name) for name, url in sorted(urls.items())]
        for sender in senders:
            sender.start()
        self.state = {"running": True, "target": target, "targets": sorted(urls),
                      "count": count, "rate": rate, "sent": 0, "failed": 0,
                      "renumber": bool(body.get("renumber", True)),
                      "started_at": _iso(time.time())}
        self.task = self.spawn(self._replay(senders, count, rate, total), "replay")
        return json_response(self.state, 202)

    async def _replay(self, senders: list[Forwarder], count: int, rate: float, total: int):
        # New versions above anything sent before: this process's last ones, and a
        # clock-based floor (100 per second) for what earlier processes sent.
        base = (int(time.time()) - 1_700_000_000) * 100
        versions = self.versions
        futures = []
        page: list[dict] = []
        offset = 0
        cycle = itertools.cycle(senders)
        started = time.monotonic()
        try:
            async for _ in paced(count, rate):
                if not page:
                    page = await asyncio.to_thread(self.store.list, "messages", 500,
                                                   offset % total)
                    offset += len(page)
                message = page.pop(0)
                xml = message["xml"].encode()
                if self.state["renumber"]:
                    version = max(versions.get(message["identity"], 0), base) + 1
                    versions[message["identity"]] = version
                    xml = odf.set_header(xml, Version=str(version))
                future = next(cycle).submit(xml, message["identity"], time.time())
                future.add_done_callback(self._count)
                futures.append(future)
            await asyncio.gather(*futures)
        finally:
            for future in futures:
                future.cancel()
            self.state.update(running=False, finished_at=_iso(time.time()),
                              seconds=round(time.monotonic() - started, 2))
            for sender in senders:
                sender.stop()

    def _count(self, future: asyncio.Future) -> None:
        if future.cancelled():
            return
        ok = future.result()[0]
        self.state["sent" if ok else "failed"] += 1

    async def stop_replay(self, request: Request) -> Response:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        return json_response(self.state)

    async def status(self, request: Request) -> Response:
        return json_response(self.state)


# --------------------------------------------------------------------------- news-service

HEADLINES = ("{name} ({noc}) wins {event} gold", "{event}: {name} sets an Olympic record",
             "{noc} take silver in {event}", "Interview: {name} after the {event} final",
             "{event} heats: favourites through to the semi-finals")


class NewsServiceRole(Role):
    title = "Olympic News Service"

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.store = JsonStore(config.data_dir / "news-service.sqlite3")
        self.wake = asyncio.Event()
        self.delivered_up_to = 0

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/news", self.create)
        router.add("GET", "/news", self.list)
        router.add("POST", "/news/generate", self.generate)

    async def start(self):
        await super().start()
        state = await asyncio.to_thread(self.store.get_by_key, "state", "myinfo")
        self.delivered_up_to = state["delivered_up_to"] if state else 0
        self.spawn(self._push(), "push-myinfo")

    async def create(self, request: Request) -> Response:
        stories = _records(request)
        for story in stories:
            if not story.get("headline"):
                raise HttpError(400, "a story needs a headline")
        saved = []
        for story in stories:
            doc = await asyncio.to_thread(self.store.insert, "stories", {
                "headline": str(story["headline"])[:300], "body": str(story.get("body", "")),
                "language": story.get("language", "ENG"), "discipline": story.get("discipline"),
                "document_code": story.get("document_code"), "author": story.get("author",
                                                                                  "ONS")})
            doc["story_id"] = f"ONS{doc['id']:07d}"
            saved.append(doc)
        self.wake.set()
        self.metrics.inc("records_total", len(saved), kind="stories")
        return json_response({"stored": len(saved), "items": saved})

    async def generate(self, request: Request) -> Response:
        count = max(1, min(int(request.json().get("count", 10)), 10_000))
        rng = random.Random()
        rows = []
        for _ in range(count):
            disc = rng.choice(sorted(odf.DISCIPLINES))
            gender, event, label = rng.choice(odf.DISCIPLINES[disc][1])
            name = f"{rng.choice(odf.GIVEN)} {rng.choice(odf.FAMILY)}"
            noc = rng.choice(odf.NOCS)
            headline = rng.choice(HEADLINES).format(name=name, noc=noc, event=label)
            rows.append((None, {"headline": headline, "body": f"{headline}. ({disc})",
                                "language": "ENG", "discipline": disc, "author": "ONS",
                                "document_code": odf.rsc(disc, gender, event, "FNL-",
                                                         "000100")}))
        await asyncio.to_thread(self.store.insert_many, "stories", rows)
        self.wake.set()
        return json_response({"generated": count})

    def list(self, request: Request) -> Response:
        return _listing(self.store, "stories", request, default=50, high=500,
                        delivered_to_myinfo_up_to=self.delivered_up_to)

    async def _push(self) -> None:
        """Send stories to MyInfo in order; the position survives restarts."""
        while True:
            await _woken(self.wake)
            url = self.config.peer("myinfo")
            if url:
                await self._push_all(url)

    async def _push_all(self, url: str) -> None:
        """Batch after batch until none is left, each retried until MyInfo takes it."""
        while await until_done(lambda: self._push_batch(url), _pushed, first=1.0, cap=5.0):
            pass

    async def _push_batch(self, url: str) -> bool | None:
        """The next stories to MyInfo: True sent, None nothing left, False failed."""
        batch = await asyncio.to_thread(self.store.list, "stories", 200, 0, None, False,
                                        self.delivered_up_to)
        if not batch:
            return None
        stories = [{**s, "story_id": f"ONS{s['id']:07d}"} for s in batch]
        try:
            response = await self.client.post_json(url + "/news", {"stories": stories})
        except ClientError:
            return False
        if response.status != 200:
            return False
        self.delivered_up_to = batch[-1]["id"]
        await asyncio.to_thread(self._save_position)
        return True

    def _save_position(self) -> None:
        state = self.store.get_by_key("state", "myinfo")
        if state:
            self.store.update("state", state["id"], {"delivered_up_to": self.delivered_up_to})
        else:
            self.store.insert("state", {"delivered_up_to": self.delivered_up_to}, key="myinfo")


ROLES = {
    "log-collector": LogCollectorRole,
    "security-events": SecurityEventsRole,
    "service-desk": ServiceDeskRole,
    "venue-results-monitor": VenueResultsMonitorRole,
    "test-orchestrator": TestOrchestratorRole,
    "odf-replayer": OdfReplayerRole,
    "news-service": NewsServiceRole,
}


def _pushed(result: bool | None) -> bool:
    return result is not False
