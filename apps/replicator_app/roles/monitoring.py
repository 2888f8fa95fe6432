"""CTOC monitoring and the TOC operations dashboard.

monitoring polls every ``monitor_targets`` entry's ``/health`` every
``poll_interval`` seconds (each check bounded by ``poll_timeout``) and serves
``GET /status`` (JSON) and ``GET /`` (HTML). A target is ``up`` (200),
``degraded`` (503, e.g. its database is down) or ``down`` (anything else,
refused, timed out). The operations dashboard reads monitoring's ``/status``
and the service desk's open tickets and serves them together.
"""

from __future__ import annotations

import asyncio
import time
from html import escape

from ..http import ClientError, Request, Response, html_response, json_response
from .base import PollingRole


def _iso(ts: float) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts else None


def summarize(services: list[dict]) -> dict:
    counts = {"total": len(services), "up": 0, "degraded": 0, "down": 0, "unknown": 0}
    for entry in services:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    return counts


class MonitoringRole(PollingRole):
    title = "CTOC monitoring"

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.targets = [t for t in config.monitor_targets if t.get("url")]
        self.results: dict[str, dict] = {
            t["url"]: {"service": t.get("service", t["url"]), "site": t.get("site", ""),
                       "url": t["url"], "status": "unknown", "version": None,
                       "latency_ms": None, "checked_at": None, "since": None}
            for t in self.targets}
        self.rounds = 0
        self.last_round_at = 0.0
        metrics.gauge_callback(lambda: [
            ("target_up", {"service": r["service"], "site": r["site"]},
             1 if r["status"] == "up" else 0) for r in self.results.values()])

    async def poll_forever(self) -> None:
        limit = asyncio.Semaphore(32)
        while True:
            started = time.monotonic()
            await asyncio.gather(*(self._check(url, limit) for url in self.results))
            self.rounds += 1
            self.last_round_at = time.time()
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def _check(self, url: str, limit: asyncio.Semaphore) -> None:
        entry = self.results[url]
        async with limit:
            t0 = time.monotonic()
            error = None
            version = entry["version"]
            try:
                response = await self.client.request("GET", url, timeout=self.timeout)
                try:
                    body = response.json() or {}
                except ValueError:
                    body = {}
                version = body.get("version", version) if isinstance(body, dict) else version
                if response.status == 200:
                    status = "up"
                elif response.status == 503:
                    status = "degraded"
                    error = _failing_checks(body)
                else:
                    status, error = "down", f"HTTP {response.status}"
            except ClientError as exc:
                status, error = "down", str(exc)
            latency = round((time.monotonic() - t0) * 1000, 1)
        now = time.time()
        if status != entry["status"]:
            entry["since"] = _iso(now)
        entry.update(status=status, version=version, latency_ms=latency, checked_at=_iso(now),
                     error=error)

    def snapshot(self) -> dict:
        services = sorted(self.results.values(), key=lambda e: (e["site"], e["service"]))
        return {"monitor": {"service": self.config.service, "site": self.config.site,
                            "poll_interval": self.interval, "rounds": self.rounds,
                            "last_round_at": _iso(self.last_round_at)},
                "services": services, "summary": summarize(services)}

    async def status(self, request: Request) -> Response:
        return json_response(self.snapshot())

    async def index(self, request: Request) -> Response:
        snap = self.snapshot()
        return html_response(render_status_page("CTOC monitoring", snap["services"],
                                                snap["summary"], self.interval))


COLOURS = {"up": "#1b873f", "degraded": "#c77700", "down": "#c62828", "unknown": "#777"}


def render_status_page(title: str, services: list[dict], summary: dict, refresh: float,
                       extra: str = "") -> str:
    rows = "".join(
        f"<tr><td>{escape(e['site'])}</td><td>{escape(e['service'])}</td>"
        f"<td style='color:{COLOURS.get(e['status'], '#000')}'><b>{escape(e['status'])}</b></td>"
        f"<td>{escape(str(e.get('version') or ''))}</td><td>{e.get('latency_ms') or ''}</td>"
        f"<td>{escape(e.get('checked_at') or '')}</td><td>{escape(e.get('error') or '')}</td></tr>"
        for e in services)
    counts = ", ".join(f"{k} {v}" for k, v in summary.items())
    return (f"<!doctype html><html><head><meta charset='utf-8'>"
            f"<meta http-equiv='refresh' content='{max(1, int(refresh))}'>"
            f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
            f"<p class='summary'>{escape(counts)}</p>{extra}<table border='1' cellpadding='3'>"
            f"<tr><th>Site</th><th>Service</th><th>Status</th><th>Version</th><th>ms</th>"
            f"<th>Checked</th><th>Error</th></tr>{rows}</table></body></html>")


def _failing_checks(body) -> str:
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    failing = [f"{k}: {v}" for k, v in checks.items() if v != "ok"]
    return "; ".join(failing) or "degraded"


class DashboardRole(PollingRole):
    title = "TOC operations dashboard"

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        self.timeout *= 2
        self.view: dict = {"summary": {}, "services": [], "incidents": {"open": 0, "items": []},
                           "sources": {}, "fetched_at": None}

    async def poll_forever(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.interval)

    async def refresh(self) -> None:
        sources = {}
        monitoring = self.config.peer("monitoring")
        if monitoring:
            try:
                status, body = await self.client.get_json(monitoring + "/status", self.timeout)
                if status == 200 and isinstance(body, dict):
                    self.view["summary"] = body.get("summary", {})
                    self.view["services"] = body.get("services", [])
                    sources["monitoring"] = "ok"
                else:
                    sources["monitoring"] = f"HTTP {status}"
            except (ClientError, ValueError) as exc:
                sources["monitoring"] = f"unreachable: {exc}"
        desk = self.config.peer("service-desk")
        if desk:
            try:
                status, body = await self.client.get_json(
                    desk + "/tickets?status=open&limit=20", self.timeout)
                if status == 200 and isinstance(body, dict):
                    self.view["incidents"] = {"open": body.get("total", len(body.get("items", []))),
                                              "items": body.get("items", [])}
                    sources["service-desk"] = "ok"
                else:
                    sources["service-desk"] = f"HTTP {status}"
            except (ClientError, ValueError) as exc:
                sources["service-desk"] = f"unreachable: {exc}"
        self.view["sources"] = sources
        self.view["fetched_at"] = _iso(time.time())

    async def status(self, request: Request) -> Response:
        return json_response(self.view)

    async def index(self, request: Request) -> Response:
        incidents = "".join(f"<li>{escape(str(t.get('number', '')))} "
                            f"[{escape(str(t.get('severity', '')))}] "
                            f"{escape(str(t.get('title', '')))}</li>"
                            for t in self.view["incidents"]["items"])
        sources = ", ".join(f"{k}: {v}" for k, v in self.view["sources"].items())
        extra = (f"<p>Sources: {escape(sources)}</p><h2>Open incidents "
                 f"({self.view['incidents']['open']})</h2><ul>{incidents}</ul>")
        return html_response(render_status_page("TOC operations dashboard",
                                                self.view["services"], self.view["summary"],
                                                self.interval, extra))


ROLES = {"monitoring": MonitoringRole, "operations-dashboard": DashboardRole}
