"""CTOC monitoring and the TOC operations dashboard."""

from __future__ import annotations

from app_harness import free_port, wait_for

FAST = {"poll_interval": 0.3, "poll_timeout": 1.0}


def by_service(status: dict) -> dict[str, dict]:
    return {entry["service"]: entry for entry in status["services"]}


def test_monitoring_reports_up_down_and_degraded(services):
    desk = services.run("service-desk")
    news = services.run("news-service")
    # An OMS service whose database is unreachable answers 503 on /health.
    voting = services.add("athletes-voting", db={"host": "127.0.0.1", "port": free_port(),
                                                 "dbname": "x", "user": "x"})
    python = __import__("app_harness").python_with_psycopg2()
    targets = [{"service": "service-desk", "site": "toc", "url": desk.url + "/health"},
               {"service": "news-service", "site": "itl", "url": news.url + "/health"},
               {"service": "nowhere", "site": "itl",
                "url": f"http://127.0.0.1:{free_port()}/health"}]
    if python:
        services.start(voting, python=python, healthy=False)
        targets.append({"service": "athletes-voting", "site": "itl",
                        "url": voting.url + "/health"})
    monitoring = services.run("monitoring", monitor_targets=targets, options=FAST)

    def statuses():
        status = monitoring.get("/status").json()
        return {name: entry["status"] for name, entry in by_service(status).items()}

    expected = {"service-desk": "up", "news-service": "up", "nowhere": "down"}
    if python:
        expected["athletes-voting"] = "degraded"
    wait_for(lambda: statuses() == expected, 10, what=f"statuses {expected}")
    status = monitoring.get("/status").json()
    entry = by_service(status)["service-desk"]
    assert entry["version"] == "service-desk-1.2.3" and entry["site"] == "toc"
    assert entry["latency_ms"] is not None and entry["checked_at"].endswith("Z")
    assert status["summary"]["down"] == 1 and status["summary"]["total"] == len(targets)
    # A target that stops is reported down.
    services.stop(news)
    wait_for(lambda: statuses()["news-service"] == "down", 10, what="news-service down")
    page = monitoring.get("/")
    assert page.status == 200 and "news-service" in page.text and "down" in page.text
    assert 'replicator_target_up{service="service-desk",site="toc"} 1' in \
        monitoring.get("/metrics").text


def test_dashboard_reads_monitoring_and_open_tickets(services):
    desk = services.run("service-desk")
    assert desk.post("/tickets", {"title": "Scoreboard down at AQC", "severity": "high"}
                     ).status == 201
    monitoring = services.run("monitoring", monitor_targets=[
        {"service": "service-desk", "site": "toc", "url": desk.url + "/health"}], options=FAST)
    dashboard = services.run("operations-dashboard", options=FAST, peers={
        "monitoring": monitoring.url, "service-desk": desk.url})

    def ready():
        view = dashboard.get("/status").json()
        return (view["sources"] == {"monitoring": "ok", "service-desk": "ok"}
                and view["summary"].get("up") == 1 and view["incidents"]["open"] == 1)

    wait_for(ready, 10, what="dashboard view")
    assert "Scoreboard down at AQC" in dashboard.get("/").text
    services.stop(monitoring)
    wait_for(lambda: dashboard.get("/status").json()["sources"]["monitoring"]
             .startswith("unreachable"), 10, what="monitoring reported unreachable")
