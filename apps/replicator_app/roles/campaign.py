"""The test-orchestrator's campaign scenarios (on top of health, functional,
results-chain and replay), all run against its declared peers:

- ``sequence``: a unit's ODF messages sent through a venue's OVR at their
  (compressed) times, then every consumer checked for the final Version and status;
- ``load``: a constant-rate load from the odf-replayer through the OVRs, then
  each consumer's count of new messages (loss) and venue-to-commit latency;
- ``schedule-download``: a venue's OVR downloads its schedule from OMS;
- ``volunteer-workforce``: a volunteer accepted becomes workforce staff.

`replicator campaign run` starts these through ``POST /runs`` and reads the
steps back with ``GET /runs/<id>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import time
from urllib.parse import quote

from .. import odf
from ..http import ClientError
from ..retry import poll
from .misc import TestOrchestratorRole

# consumer -> path of a document's view (wrs through its web tier: the public path)
CONSUMER_VIEWS = {"wrs": "/results/{code}", "rma": "/api/results/{code}",
                  "cis": "/feed/{code}", "myinfo": "/view/{code}"}


class CampaignOrchestratorRole(TestOrchestratorRole):
    SCENARIOS = (*TestOrchestratorRole.SCENARIOS, "sequence", "load", "schedule-download",
                 "volunteer-workforce")

    def consumers(self, wanted=None) -> dict[str, str]:
        return {name: url for name in CONSUMER_VIEWS
                if (url := self.config.peer(name)) and (not wanted or name in wanted)}

    # -- a unit's message sequence, checked at every consumer

    async def _sequence(self, params, step) -> None:
        venue = str(params.get("venue", "")).lower()
        url = self.config.peers_of("ovr").get(f"ovr-{venue}") or (
            self.config.peer("ovr") if not venue else None)
        if not step(f"ovr of venue {venue.upper()} is a peer", bool(url)):
            return
        assert url  # step() returns its ok
        messages = params.get("messages") or []
        speed = max(float(params.get("speed", 60.0)), 0.001)
        started = time.monotonic()
        first = messages[0]["offset"] if messages else 0.0
        failures: list[str] = []
        sent_at = time.time()
        # Due messages go out at once, up to 16 in flight, but one identity's
        # Versions strictly in order (each waits for the previous of its identity).
        slots = asyncio.Semaphore(16)
        last: dict[str, asyncio.Task] = {}
        for message in messages:
            delay = (message["offset"] - first) / speed - (time.monotonic() - started)
            if delay > 0:
                await asyncio.sleep(delay)
            identity = odf.parse(message["xml"].encode(), full=False).identity
            await slots.acquire()
            last[identity] = asyncio.create_task(self._send(
                url, message["xml"].encode(), last.get(identity), slots, failures))
        await asyncio.gather(*last.values())
        step(f"{len(messages)} messages sent through ovr-{venue}", not failures,
             {"failures": failures[:5], "seconds": round(time.monotonic() - started, 2)})
        for check in params.get("checks", []):
            await self._check_consumers(check, step, sent_at, params.get("consumers"))

    async def _send(self, url: str, xml: bytes, after: asyncio.Task | None,
                    slots: asyncio.Semaphore, failures: list[str]) -> None:
        try:
            if after is not None:
                await after
            headers = {"Content-Type": "application/xml", **self.key_headers(),
                       odf.SENT_AT_HEADER: f"{time.time():.6f}"}
            response = await self.client.request("POST", url + "/odf/send", xml, headers,
                                                 timeout=60)
            if response.status != 200:
                failures.append(f"HTTP {response.status}: {response.body[:200].decode()}")
        except ClientError as exc:
            failures.append(str(exc))
        finally:
            slots.release()

    async def _check_consumers(self, check: dict, step, since: float, wanted) -> None:
        code, version = check["document_code"], int(check["version"])
        status = str(check.get("status", ""))
        deadline = time.monotonic() + float(check.get("timeout", 30))
        for name, base in sorted(self.consumers(wanted).items()):
            url = base + CONSUMER_VIEWS[name].format(code=quote(code, safe=""))
            seen = await poll(functools.partial(self._view, url),
                              lambda seen: (seen[0] == 200 and seen[1] == str(version)
                                            and status.upper() in seen[2]),
                              every=0.3, timeout=max(0.0, deadline - time.monotonic()))
            ok = seen[0] == 200 and seen[1] == str(version)
            step(f"{name} serves {code} Version {version} {status}", ok,
                 {"status": seen[0], "version": seen[1],
                  "after_s": round(time.time() - since, 2)})

    async def _view(self, url: str) -> tuple[int, str | None, str]:
        """(status, X-ODF-Version, upper-case body) of a consumer's view; 0 if unreachable."""
        try:
            response = await self.client.request("GET", url + "?type=DT_RESULT", timeout=5)
        except ClientError as exc:
            return 0, str(exc), ""
        return (response.status, response.headers.get("x-odf-version"),
                response.body.decode(errors="replace").upper())

    # -- load through the replayer, then loss and latency at each consumer

    async def _load(self, params, step) -> None:
        replayer = self.config.peer("odf-replayer")
        if not step("odf-replayer peer configured", bool(replayer)):
            return
        assert replayer  # step() returns its ok
        rate = float(params.get("rate", 50))
        count = max(1, int(rate * float(params.get("seconds", 10))))
        since = time.time()
        response = await self.client.post_json(replayer + "/replay/start", {
            "count": count, "rate": rate, "target": params.get("target", "ovr")})
        if not step(f"replay of {count} messages at {rate:g}/s started",
                    response.status == 202, response.json()):
            return
        state = await self._replay_done(replayer, count / rate + float(params.get("grace", 90)))
        if state.get("running") is not False:  # late: stop it and count what it did send
            with contextlib.suppress(ClientError, ValueError):
                state = (await self.client.post_json(replayer + "/replay/stop", {})).json()
        sent = int(state.get("sent") or 0)
        step("replayer sent every message", sent == count and not state.get("failed"),
             {k: state.get(k) for k in ("sent", "failed", "seconds", "running")})
        sent_done = time.time()
        await self._drain(params, step, since, sent, sent_done)

    async def _replay_done(self, replayer: str, timeout: float) -> dict:
        async def status() -> dict:
            try:
                return (await self.client.get_json(replayer + "/replay/status"))[1]
            except (ClientError, ValueError):
                return {}  # unknown yet: asked again
        return await poll(status, lambda state: state.get("running") is False, every=0.5,
                          timeout=timeout)

    async def _latency(self, base: str, since: float) -> dict:
        try:
            status, body = await self.client.get_json(
                f"{base}/odf/latency?since={since:.6f}&source=store", timeout=10)
        except (ClientError, ValueError) as exc:
            return {"error": str(exc)}
        # A consumer told to answer errors (the `interface` step's fault) may
        # send an empty body (None) or one that is not an object: asked again.
        return body if isinstance(body, dict) else {"error": f"HTTP {status}"}

    async def _drain(self, params, step, since: float, sent: int, sent_done: float) -> None:
        deadline = time.monotonic() + float(params.get("drain_timeout", 120))
        figures: dict[str, dict] = {}
        for name, base in sorted(self.consumers(params.get("consumers")).items()):
            body = await poll(functools.partial(self._latency, base, since),
                              lambda body: (body.get("count") or 0) >= sent, every=0.5,
                              timeout=max(0.0, deadline - time.monotonic()))
            count = int(body.get("count") or 0)
            figures[name] = {"received": count, "lost": max(0, sent - count),
                             "p50_ms": body.get("p50_ms"), "p99_ms": body.get("p99_ms"),
                             "caught_up_s": round(time.time() - sent_done, 2)}
            step(f"{name} received all {sent} messages", count >= sent, figures[name])

    # -- OMS and venue flows

    async def _schedule_download(self, params, step) -> None:
        venue = str(params.get("venue", "")).lower()
        url = self.config.peers_of("ovr").get(f"ovr-{venue}")
        if not step(f"ovr of venue {venue.upper()} is a peer", bool(url)):
            return
        assert url  # step() returns its ok
        response = await self.client.request("POST", url + "/schedule/download", b"{}",
                                             {"Content-Type": "application/json"}, timeout=60)
        body = response.json() if response.body[:1] in (b"{", b"[") else response.body[:300]
        step(f"ovr-{venue} downloaded its schedule", response.status == 200, body)
        status, got = await self.client.get_json(url + "/schedule")
        units = 0
        if isinstance(got, dict):
            items: list = got.get("items", [])
            units = len(got.get("units", items))
        step(f"ovr-{venue} serves its schedule", status == 200, {"units": units})

    async def _volunteer_workforce(self, params, step) -> None:
        url = self.config.peer("volunteer-portal")
        if not step("volunteer-portal peer configured", bool(url)):
            return
        assert url  # step() returns its ok
        person = {"given_name": "Camille", "family_name": f"TEST{random.randrange(10**6)}",
                  "email": f"campaign{random.randrange(10**9)}@example.org",
                  "languages": ["FRA", "ENG"], "status": "APPLIED"}
        response = await self.client.post_json(url + "/api/volunteers", person)
        if not step("volunteer applied", response.status == 201, response.status):
            return
        volunteer = response.json()
        response = await self.client.post_json(
            f"{url}/api/volunteers/{volunteer['id']}/accept", {})
        step("volunteer accepted into the workforce", response.status in (200, 201),
             response.json() if response.body[:1] == b"{" else response.status)
