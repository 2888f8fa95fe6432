"""The smaller services: logs -> security events -> tickets, news -> MyInfo,
ODF replays, the venue results monitor and the test orchestrator."""

from __future__ import annotations

import json

from app_harness import distinct, start_chain, wait_for

FAST = {"poll_interval": 0.3, "poll_timeout": 1.0}


def test_logs_become_security_events_then_a_ticket(services):
    desk = services.run("service-desk")
    siem = services.run("security-events", peers={"service-desk": desk.url},
                        options={"security_threshold": 3, "security_window": 30})
    logs = services.run("log-collector", peers={"security-events": siem.url})
    reply = logs.post("/logs", {"records": [
        {"service": "accreditation", "level": "INFO", "message": "started"},
        *[{"service": "odf-distributor", "level": "WARNING",
           "message": "401 missing or wrong X-API-KEY from 10.240.3.7"} for _ in range(3)]]})
    assert reply.status == 200 and reply.json()["accepted"] == 4
    ndjson = b'{"service": "ovr-aqc", "message": "a"}\n{"service": "ovr-aqc", "message": "b"}\n'
    assert logs.post("/logs", ndjson, headers={"Content-Type": "application/x-ndjson"}
                     ).json()["accepted"] == 2
    assert logs.get("/logs?service=ovr-aqc").json()["total"] == 2
    wait_for(lambda: siem.get("/events?type=log_alert").json()["total"] == 3, 10,
             what="security-relevant logs forwarded")
    tickets = wait_for(lambda: desk.get("/tickets?category=security").json()["items"], 10,
                       what="a security ticket")
    assert tickets[0]["severity"] == "high" and tickets[0]["number"].startswith("INC")
    incident = siem.get("/incidents").json()["items"][0]
    wait_for(lambda: siem.get("/incidents").json()["items"][0]["ticket"], 5,
             what="the incident to carry its ticket number")
    assert incident["subject"] == "odf-distributor"


def test_service_desk_ticket_lifecycle(services):
    desk = services.run("service-desk")
    assert desk.post("/tickets", {"severity": "high"}).status == 400
    ticket = desk.post("/tickets", {"title": "CIS screen frozen", "severity": "critical",
                                    "service": "cis"}).json()
    number = ticket["number"]
    assert desk.get(f"/tickets/{number}").json()["status"] == "open"
    updated = desk.post(f"/tickets/{number}", {"status": "resolved", "comment": "restarted"})
    assert updated.status == 200
    assert updated.json()["status"] == "resolved" and updated.json()["comments"]
    assert desk.post(f"/tickets/{number}", {"status": "weird"}).status == 400
    assert desk.get("/tickets?status=open").json()["total"] == 0
    assert desk.get("/tickets/INC9999999").status == 404


def test_news_service_feeds_myinfo_and_survives_its_restart(services):
    myinfo = services.run("myinfo")
    news = services.run("news-service", peers={"myinfo": myinfo.url})
    assert news.post("/news", {"body": "no headline"}).status == 400
    reply = news.post("/news", {"headline": "Marchand wins 200m IM gold",
                                "document_code": "SWMM200MIM------------FNL-000100--"})
    assert reply.status == 200
    wait_for(lambda: myinfo.get("/news").json()["total"] == 1, 10, what="story at MyInfo")
    services.stop(news)
    services.start(news)
    assert news.post("/news/generate", {"count": 5}).json()["generated"] == 5
    wait_for(lambda: myinfo.get("/news").json()["total"] == 6, 10,
             what="only the new stories pushed after the restart")
    assert myinfo.get("/news?limit=1").json()["items"][0]["story_id"].startswith("ONS")


def test_replayer_sends_an_earlier_edition_through_the_ovr(services):
    chain = start_chain(services)
    replayer = services.run("odf-replayer", peers={"ovr-aqc": chain["ovr"].url,
                                                   "odf-distributor":
                                                   chain["odf-distributor"].url})
    library = replayer.get("/replay/messages").json()
    assert library["total"] == 1000  # generated from an earlier edition at first start
    reply = replayer.post("/replay/start", {"count": 60, "rate": 300, "target": "ovr"})
    assert reply.status == 202, reply
    assert replayer.post("/replay/start", {"count": 1}).status == 409
    status = wait_for(lambda: (s := replayer.get("/replay/status").json())["running"] is False
                      and s, 20, what="the replay to finish")
    assert status["sent"] == 60 and status["failed"] == 0
    wait_for(lambda: distinct(chain["wrs"]) == 60, 10, what="replayed messages at wrs")
    recent = chain["odf-distributor"].get("/odf/messages?limit=5").json()["messages"]
    assert {m["CompetitionCode"] for m in recent} == {"OG2020"}
    # Straight to the distributor, renumbered again: new versions, new effects.
    reply = replayer.post("/replay/start", {"count": 10, "rate": 200,
                                            "target": "odf-distributor"})
    assert reply.status == 202
    wait_for(lambda: distinct(chain["wrs"]) == 70, 15, what="second replay at wrs")


def test_venue_results_monitor_and_test_orchestrator(services):
    chain = start_chain(services)
    monitor = services.run("venue-results-monitor", options=FAST, peers={
        "ovr-aqc": chain["ovr"].url, "odf-distributor": chain["odf-distributor"].url})
    orchestrator = services.run("test-orchestrator", peers={
        "ovr-aqc": chain["ovr"].url, "wrs": chain["wrs"].url})
    run = orchestrator.post("/runs", {"scenario": "results-chain", "count": 10, "rate": 100})
    assert run.status == 202
    done = wait_for(lambda: (r := orchestrator.get(f"/runs/{run.json()['id']}").json())
                    ["status"] != "running" and r, 30, what="the run to finish")
    assert done["status"] == "passed", json.dumps(done["steps"], indent=1)
    health = orchestrator.post("/runs", {"scenario": "health"}).json()
    done = wait_for(lambda: (r := orchestrator.get(f"/runs/{health['id']}").json())
                    ["status"] != "running" and r, 10, what="health run")
    assert done["status"] == "passed" and len(done["steps"]) == 2

    def delivered():
        status = monitor.get("/status").json()
        venue = status["venues"][0]
        return (venue["state"] == "ok" and venue["sent"] == 10
                and venue["received_by_ods"] == 10 and status["distributor"]["state"] == "ok")

    wait_for(delivered, 10, what="venue results seen delivered into ODS")
    services.stop(chain["ovr"])
    wait_for(lambda: monitor.get("/status").json()["venues"][0]["state"] == "down", 10,
             what="the stopped OVR reported down")
