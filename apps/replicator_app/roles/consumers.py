"""The ODS consumers fed by the distributor: cis, myinfo, wrs, rma.

``POST /odf/deliver`` takes one raw ODF message (XML, plain or gzip) or a batch
``{"messages": [{"xml", "sent_at", "seq"}, ...]}``, persists it (SQLite, one
group-commit transaction) and only then answers 200. The store keeps the latest
Version per identity (every ``*_UPDATE`` is kept) and deduplicates on
identity+Version, so a redelivery has no effect. Each consumer then serves its
view of a DocumentCode:

- wrs  ``GET /results/<DocumentCode>``  HTML page (public results, behind nginx)
- rma  ``GET /api/results/<DocumentCode>``  JSON (mobile app backend)
- cis  ``GET /feed/<DocumentCode>``  the ODF XML itself (commentator screens)
- myinfo ``GET /view/<DocumentCode>``  HTML, plus ``GET/POST /news`` (news service)

``?type=DT_...`` picks a DocumentType; by default DT_RESULT is preferred. Every
view carries the Version (``X-ODF-Version`` header, and in the body).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
import xml.etree.ElementTree as ET
from html import escape

from .. import odf
from ..http import HttpError, Request, Response, html_response, json_response
from ..metrics import percentiles
from ..store import ConsumerStore, JsonStore
from .base import Role

log = logging.getLogger(__name__)

PREFERENCE = ("DT_RESULT", "DT_PHASE_RESULT", "DT_CURRENT", "DT_RANKING", "DT_MEDALLISTS",
              "DT_MEDALS", "DT_SCHEDULE_UPDATE", "DT_SCHEDULE", "DT_PARTIC", "DT_RECORD")


def pick(documents: list[dict], document_type: str | None = None) -> dict | None:
    """The document to show: of `document_type` if given, else by PREFERENCE, newest."""
    if document_type:
        documents = [d for d in documents if d["document_type"] == document_type]
    if not documents:
        return None

    def rank(doc):
        t = doc["document_type"]
        return (PREFERENCE.index(t) if t in PREFERENCE else len(PREFERENCE), -doc["received_at"])

    return min(documents, key=rank)


def summarize(xml: str) -> dict:
    """What a results page shows: event, results rows, units, medals."""
    root = ET.fromstring(xml.encode("utf-8"))
    out: dict = {}
    sport = root.find(".//SportDescription")
    if sport is not None:
        out["discipline"] = sport.get("DisciplineName")
        out["event"] = sport.get("EventName")
    venue = root.find(".//VenueDescription")
    if venue is not None:
        out["venue"] = venue.get("Venue")
    results = []
    for result in root.iter("Result"):
        competitor = result.find("Competitor")
        desc = result.find(".//Description")
        name = (f"{desc.get('GivenName', '')} {desc.get('FamilyName', '')}".strip()
                if desc is not None else (competitor.get("Code") if competitor is not None else ""))
        results.append({"rank": result.get("Rank"), "name": name, "result": result.get("Result"),
                        "organisation": competitor.get("Organisation")
                        if competitor is not None else None})
    if results:
        out["results"] = results
    units = []
    for unit in root.iter("Unit"):
        item = unit.find("ItemName")
        units.append({"code": unit.get("Code"), "status": unit.get("ScheduleStatus"),
                      "start": unit.get("StartDate"), "venue": unit.get("Venue"),
                      "name": item.get("Value") if item is not None else None})
    if units:
        out["units"] = units
    medals = []
    for medal in root.iter("Medal"):
        desc = medal.find(".//Description")
        competitor = medal.find("Competitor")
        medals.append({"medal": medal.get("Type"),
                       "name": f"{desc.get('GivenName', '')} {desc.get('FamilyName', '')}".strip()
                       if desc is not None else None,
                       "organisation": competitor.get("Organisation")
                       if competitor is not None else None})
    if medals:
        out["medallists"] = medals
    lines = [dict(line.attrib) for line in root.iter("MedalLine")]
    if lines:
        out["medal_standings"] = lines
    return out


class ConsumerRole(Role):
    needs_api_key = True

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.store = ConsumerStore(config.data_dir / f"{config.role}-odf.sqlite3",
                                   str(config.option("sqlite_synchronous")).upper())
        self.latencies: collections.deque = collections.deque(maxlen=200_000)
        self.counts = collections.Counter()

    def routes(self, router):
        super().routes(router)
        router.add("POST", "/odf/deliver", self.deliver)
        router.add("GET", "/odf/stats", self.stats)
        router.add("GET", "/odf/latency", self.latency)
        router.add("GET", "/odf/documents", self.documents)

    async def start(self):
        await super().start()
        self.store.start(asyncio.get_running_loop())

    async def stop(self):
        await super().stop()
        await asyncio.to_thread(self.store.stop)

    async def checks(self):
        out = await super().checks()
        out["store"] = "ok" if self.store._thread.is_alive() else "stopped"
        return out

    # -- intake

    async def deliver(self, request: Request) -> Response:
        self.require_key(request)
        body = odf.decode_body(request.body)
        items, rejected = [], []
        if request.header("content-type", "").startswith("application/json"):
            try:
                batch = json.loads(body)
                messages = batch["messages"] if isinstance(batch, dict) else batch
                if isinstance(messages, dict):
                    messages = [messages]
            except (ValueError, KeyError, TypeError):
                raise HttpError(400, 'a batch is {"messages": [{"xml": ..., "sent_at": ...}]}'
                                ) from None
            for i, message in enumerate(messages):
                try:
                    xml = message["xml"]
                    header = _header(message, xml)
                except (KeyError, TypeError, AttributeError, odf.OdfError) as exc:
                    rejected.append({"index": i, "error": str(exc)})
                    continue
                items.append((header, xml, _float(message.get("sent_at"))))
        else:
            try:
                header = odf.parse(body, full=True)
                xml = body.decode("utf-8")
            except (odf.OdfError, UnicodeDecodeError) as exc:
                self.metrics.inc("odf_messages_rejected_total", reason="invalid")
                raise HttpError(400, str(exc)) from None
            items.append((header, xml, _float(request.header(odf.SENT_AT_HEADER.lower()))))
        if rejected:
            self.metrics.inc("odf_messages_rejected_total", len(rejected), reason="invalid")
            log.warning("rejected %d message(s) of a delivery: %s", len(rejected), rejected[:3])
        result = await self.store.apply(items) if items else None
        now = time.time()
        if result is not None:
            for sent_at in result.new_sent_at:
                if sent_at:
                    self.latencies.append((now, now - sent_at))
                    self.metrics.observe_latency(now - sent_at)
            self.counts.update(received=len(items), applied=result.applied,
                               duplicates=result.duplicates, stale=result.stale)
            self.metrics.inc("odf_messages_received_total", len(items))
            self.metrics.inc("odf_messages_applied_total", result.applied)
            self.metrics.inc("odf_messages_duplicate_total", result.duplicates)
        return json_response({"accepted": len(items), "rejected": rejected,
                              "applied": result.applied if result else 0,
                              "duplicates": result.duplicates if result else 0,
                              "stale": result.stale if result else 0})

    # -- operational views

    def stats(self, request: Request) -> Response:
        return json_response({"service": self.config.service, **self.store.counts(),
                              "since_start": dict(self.counts), "commits": self.store.commits})

    def latency(self, request: Request) -> Response:
        """Venue-to-commit latency of messages first received after ?since=<epoch s>.
        ?source=store reads the persisted table (survives restarts); ?samples=1 lists them."""
        try:
            since = float(request.query.get("since", "0"))
        except ValueError:
            raise HttpError(400, "since must be epoch seconds") from None
        if request.query.get("source") == "store":
            rows = self.store.latency(since)
        else:
            rows = [row for row in list(self.latencies) if row[0] > since]
        values = [lat for _, lat in rows]
        body = {"service": self.config.service, "since": since, **percentiles(values)}
        if request.query.get("samples") in ("1", "true"):
            body["samples_ms"] = [round(v * 1000, 3) for v in values]
        return json_response(body)

    def documents(self, request: Request) -> Response:
        limit = request.int_arg("limit", 100, low=1, high=1000)
        return json_response({"items": self.store.documents(request.query.get("type"), limit)})

    def document(self, request: Request) -> tuple[dict, dict]:
        """The picked document for the path's DocumentCode and its summary, or 404."""
        code = request.params["code"]
        doc = pick(self.store.latest(code), request.query.get("type"))
        if doc is None:
            raise HttpError(404, f"no ODF document {code}")
        return doc, summarize(doc["xml"])


def _header(message: dict, xml: str) -> odf.Header:
    """A delivered message's header: the attributes the distributor parsed and sent
    with it (``"header"``), else read from the XML's root tag."""
    attrs = message.get("header")
    if isinstance(attrs, dict) and all(isinstance(v, str) for v in attrs.values()):
        return odf.Header(odf.validate(attrs))  # the same checks as the XML's header
    if not isinstance(xml, str):
        raise TypeError(f"xml must be a string, got {type(xml).__name__}")
    return odf.parse(xml.encode("utf-8"), full=False)


def _float(raw) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _version_headers(doc: dict) -> dict[str, str]:
    return {"X-ODF-Version": str(doc["version"]), "X-ODF-Document-Type": doc["document_type"],
            "Cache-Control": "max-age=1"}


def _describe(doc: dict) -> dict:
    header = doc["header"]
    return {"document_code": doc["document_code"], "document_type": doc["document_type"],
            "version": doc["version"], "result_status": header.get("ResultStatus"),
            "competition_code": header.get("CompetitionCode"), "source": header.get("Source"),
            "language": header.get("Language"), "date": header.get("Date"),
            "time": header.get("Time"), "received_at": doc["received_at"]}


def render_page(title: str, doc: dict, summary: dict, site_name: str) -> str:
    info = _describe(doc)
    rows = "".join(
        f"<tr><td>{escape(str(r['rank'] or ''))}</td><td>{escape(r['name'] or '')}</td>"
        f"<td>{escape(r['organisation'] or '')}</td><td>{escape(str(r['result'] or ''))}</td></tr>"
        for r in summary.get("results", []))
    table = (f"<table class='results'><tr><th>Rank</th><th>Name</th><th>NOC</th><th>Result</th>"
             f"</tr>{rows}</table>") if rows else ""
    units = "".join(f"<li>{escape(u['name'] or u['code'] or '')} - {escape(u['status'] or '')} "
                    f"{escape(u['start'] or '')}</li>" for u in summary.get("units", []))
    medals = "".join(f"<li>{escape(m['medal'] or '')}: {escape(m['name'] or '')} "
                     f"({escape(m['organisation'] or '')})</li>"
                     for m in summary.get("medallists", []))
    event = " - ".join(x for x in (summary.get("discipline"), summary.get("event")) if x)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta name='odf-version' content='{info['version']}'>"
        f"<title>{escape(title)} - {escape(doc['document_code'])}</title></head><body>"
        f"<h1>{escape(site_name)}</h1><h2>{escape(event or doc['document_code'])}</h2>"
        f"<p class='odf' data-document-code='{escape(doc['document_code'])}' "
        f"data-version='{info['version']}'>{escape(info['document_type'])} "
        f"{escape(info['result_status'] or '')} - Version {info['version']} - "
        f"{escape(info['date'] or '')} {escape(info['time'] or '')}</p>"
        f"{table}{'<ul class=units>' + units + '</ul>' if units else ''}"
        f"{'<ul class=medals>' + medals + '</ul>' if medals else ''}</body></html>")


class WrsRole(ConsumerRole):
    title = "Web Results System"

    def routes(self, router):
        super().routes(router)
        router.add("GET", "/results/{code}", self.results_page)
        router.add("GET", "/results", self.results_index)

    def results_page(self, request: Request) -> Response:
        doc, summary = self.document(request)
        return html_response(render_page("Results", doc, summary, "Olympic Games Paris 2024"),
                             headers=_version_headers(doc))

    def results_index(self, request: Request) -> Response:
        items = self.store.documents(request.query.get("type", "DT_RESULT"), 200)
        links = "".join(f"<li><a href='/results/{escape(d['document_code'])}'>"
                        f"{escape(d['document_code'])}</a> {escape(d['result_status'] or '')} "
                        f"v{d['version']}</li>" for d in items)
        return html_response(f"<!doctype html><html><head><meta charset='utf-8'><title>Results"
                             f"</title></head><body><h1>Results</h1><ul>{links}</ul></body></html>")


class RmaRole(ConsumerRole):
    title = "Results Mobile App backend"

    def routes(self, router):
        super().routes(router)
        router.add("GET", "/api/results/{code}", self.result)
        router.add("GET", "/api/results", self.results)

    def result(self, request: Request) -> Response:
        doc, summary = self.document(request)
        others = [_describe(d) for d in self.store.latest(doc["document_code"])]
        return json_response({**_describe(doc), **summary, "documents": others},
                             headers=_version_headers(doc))

    def results(self, request: Request) -> Response:
        limit = request.int_arg("limit", 100, low=1, high=1000)
        return json_response({"items": self.store.documents(request.query.get("type"), limit)})


class CisRole(ConsumerRole):
    title = "Commentator Information System"

    def routes(self, router):
        super().routes(router)
        router.add("GET", "/feed/{code}", self.feed)
        router.add("GET", "/feed", self.feed_index)

    def feed(self, request: Request) -> Response:
        code = request.params["code"]
        doc = pick(self.store.latest(code), request.query.get("type"))
        if doc is None:
            raise HttpError(404, f"no ODF document {code}")
        if request.query.get("format") == "json":
            return json_response({**_describe(doc), **summarize(doc["xml"])},
                                 headers=_version_headers(doc))
        return Response(200, doc["xml"].encode("utf-8"), "application/xml; charset=utf-8",
                        _version_headers(doc))

    def feed_index(self, request: Request) -> Response:
        limit = request.int_arg("limit", 100, low=1, high=1000)
        return json_response({"items": self.store.documents(request.query.get("type"), limit)})


class MyInfoRole(ConsumerRole):
    title = "MyInfo (INFO) for journalists"

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.news = JsonStore(config.data_dir / "myinfo-news.sqlite3")

    def routes(self, router):
        super().routes(router)
        router.add("GET", "/view/{code}", self.view)
        router.add("GET", "/news", self.list_news)
        router.add("POST", "/news", self.add_news)

    def view(self, request: Request) -> Response:
        doc, summary = self.document(request)
        stories = self.news.list("news", 5, filters={"document_code": doc["document_code"]},
                                 newest_first=True)
        page = render_page("MyInfo", doc, summary, "MyInfo")
        if stories:
            items = "".join(f"<li><b>{escape(s.get('headline', ''))}</b> "
                            f"{escape(s.get('body', '')[:300])}</li>" for s in stories)
            page = page.replace("</body>", f"<h3>News</h3><ul class=news>{items}</ul></body>")
        return html_response(page, headers=_version_headers(doc))

    def list_news(self, request: Request) -> Response:
        limit = request.int_arg("limit", 50, low=1, high=500)
        filters = {k: v for k, v in request.query.items() if k in ("discipline", "document_code")}
        return json_response({"items": self.news.list("news", limit, filters=filters,
                                                      newest_first=True),
                              "total": self.news.count("news")})

    def add_news(self, request: Request) -> Response:
        data = request.json()
        stories = data if isinstance(data, list) else data.get("stories", [data])
        saved = []
        for story in stories:
            if not isinstance(story, dict) or not story.get("headline"):
                raise HttpError(400, "a story needs a headline")
            key = story.get("story_id")
            existing = self.news.get_by_key("news", str(key)) if key else None
            saved.append(existing or self.news.insert("news", story,
                                                      key=str(key) if key else None))
        return json_response({"stored": len(saved), "items": saved})


ROLES = {"wrs": WrsRole, "rma": RmaRole, "cis": CisRole, "myinfo": MyInfoRole}
