"""The test-orchestrator's campaign scenarios on real role processes (loopback):
a unit's sequence checked at every consumer, a load with loss and latency."""

from __future__ import annotations

import json
from pathlib import Path

from app_harness import start_chain, wait_for

from replicator.campaign.schedule import load_schedule
from replicator.campaign.sequence import final_result, messages

ROOT = Path(__file__).resolve().parents[3]


def _run(orchestrator, body: dict, timeout: float = 60) -> dict:
    reply = orchestrator.post("/runs", body)
    assert reply.status == 202, reply
    return wait_for(lambda: (r := orchestrator.get(f"/runs/{reply.json()['id']}").json())
                    ["status"] != "running" and r, timeout, what=f"{body['scenario']} run")


def _orchestrator(services, chain, **extra):
    consumers = {n: chain[n].url for n in ("wrs", "rma", "cis", "myinfo")}
    return services.run("test-orchestrator", peers={"ovr-aqc": chain["ovr"].url, **consumers,
                                                    **extra})


def test_sequence_of_a_unit_ends_official_at_every_consumer(services):
    chain = start_chain(services)
    orchestrator = _orchestrator(services, chain)
    unit = next(u for u in load_schedule(ROOT, "paris2024").units()
                if u.venue == "AQC" and u.discipline == "DIV" and u.final)
    sequence = messages(unit, "judged", version_floor=1000)
    version, status = final_result(unit, "judged", version_floor=1000)
    done = _run(orchestrator, {
        "scenario": "sequence", "venue": "AQC", "speed": 1e6,
        "messages": [{"offset": o, "xml": x.decode()} for o, x in sequence],
        "checks": [{"document_code": unit.code, "version": version, "status": status}]})
    assert done["status"] == "passed", json.dumps(done["steps"], indent=1)
    assert [s["step"].split()[0] for s in done["steps"][2:]] == ["cis", "myinfo", "rma", "wrs"]
    # A Version the chain never saw: every consumer check fails, with its evidence.
    done = _run(orchestrator, {"scenario": "sequence", "venue": "AQC", "messages": [],
                               "checks": [{"document_code": unit.code, "version": version + 5,
                                           "status": status, "timeout": 1}]})
    assert done["status"] == "failed"
    assert all(s["detail"]["version"] == str(version) for s in done["steps"][2:])


def test_load_through_the_replayer_counts_every_message_at_every_consumer(services):
    chain = start_chain(services)
    replayer = services.run("odf-replayer", peers={"ovr-aqc": chain["ovr"].url})
    orchestrator = _orchestrator(services, chain, **{"odf-replayer": replayer.url})
    done = _run(orchestrator, {"scenario": "load", "rate": 100, "seconds": 1})
    assert done["status"] == "passed", json.dumps(done["steps"], indent=1)
    figures = [s["detail"] for s in done["steps"] if "received all" in s["step"]]
    assert len(figures) == 4
    assert all(f["received"] >= 100 and f["lost"] == 0 and f["p99_ms"] is not None
               for f in figures)


def test_a_consumer_answering_errors_is_a_failed_count_not_a_broken_run(services):
    """A consumer that answers 500 with an empty body (as under the `interface`
    step's "erroring" fault) is asked again until the drain times out, then
    judged: its step fails with the messages it lost; the run does not break."""
    import http.server
    import threading

    class Erroring(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Erroring)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        chain = start_chain(services)
        replayer = services.run("odf-replayer", peers={"ovr-aqc": chain["ovr"].url})
        orchestrator = _orchestrator(services, chain, **{
            "odf-replayer": replayer.url, "wrs": f"http://127.0.0.1:{server.server_port}"})
        done = _run(orchestrator, {"scenario": "load", "rate": 50, "seconds": 1,
                                   "drain_timeout": 3})
    finally:
        server.shutdown()
        server.server_close()
    steps = {s["step"].split()[0]: s for s in done["steps"] if "received all" in s["step"]}
    assert done["status"] == "failed", json.dumps(done["steps"], indent=1)
    assert not any(s["step"] == "error" for s in done["steps"]), done["steps"]
    assert steps["wrs"]["ok"] is False and steps["wrs"]["detail"]["received"] == 0
    assert steps["wrs"]["detail"]["lost"] >= 50
    assert all(steps[n]["ok"] for n in ("cis", "myinfo", "rma")), steps
