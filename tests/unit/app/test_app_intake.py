"""ODF intake at the distributor and the OVR: key, XML and header checks; a
refused message is never stored nor forwarded."""

from __future__ import annotations

import re
import time

import pytest
from app_harness import distinct, http, wait_for
from replicator_app import odf

CODE = "DIVW10MPLATFORM-------FNL-000100--"


@pytest.fixture(scope="module")
def chain(module_services):
    wrs = module_services.run("wrs")
    dist = module_services.run("odf-distributor", consumers={"wrs": wrs.url})
    ovr = module_services.run("ovr-aqc", "ovr", venue="AQC",
                              peers={"odf-distributor": dist.url})
    return {"wrs": wrs, "dist": dist, "ovr": ovr, "key": module_services.key}


def post_odf(url: str, message: bytes, key: str | None, gzip: bool = True):
    headers = {"Content-Type": "application/xml"}
    if key is not None:
        headers["X-API-KEY"] = key
    if gzip:
        headers["Content-Encoding"] = "gzip"
        message = odf.gzip(message)
    return http("POST", url, message, headers)


def stored(chain) -> int:
    return chain["dist"].get("/odf/status").json()["log"]["last_seq"]


def without(message: bytes, attribute: str) -> bytes:
    return re.sub(rf' {attribute}="[^"]*"'.encode(), b"", message, count=1)


@pytest.mark.parametrize("attribute", odf.MANDATORY)
def test_missing_mandatory_attribute_is_400_naming_it(chain, attribute):
    before = stored(chain)
    reply = post_odf(chain["dist"].url + "/odf/messages",
                     without(odf.result_message(CODE, 1), attribute), chain["key"])
    assert reply.status == 400, reply
    assert attribute in reply.json()["error"]
    assert stored(chain) == before


@pytest.mark.parametrize("body", [b"<OdfBody CompetitionCode='OG2024'", b"<html>nope</html>",
                                  b"\x00\x01garbage"])
def test_malformed_xml_is_400(chain, body):
    before = stored(chain)
    reply = post_odf(chain["dist"].url + "/odf/messages", body, chain["key"])
    assert reply.status == 400, reply
    assert stored(chain) == before


def test_a_body_that_does_not_inflate_is_400_and_a_gzip_bomb_413(chain):
    before = stored(chain)
    headers = {"Content-Type": "application/xml", "Content-Encoding": "gzip",
               "X-API-KEY": chain["key"]}
    reply = http("POST", chain["dist"].url + "/odf/messages", b"not gzip", headers)
    assert reply.status == 400 and "content-encoding" in reply.json()["error"], reply
    bomb = odf.gzip(b" " * (20 * 1024 * 1024))  # 20 MiB inflated: over the 16 MiB bound
    reply = http("POST", chain["dist"].url + "/odf/messages", bomb, headers, timeout=60)
    assert reply.status == 413, reply
    assert stored(chain) == before


@pytest.mark.parametrize("key", [None, "", "x" * 32])
def test_wrong_key_is_401_and_nothing_is_forwarded(chain, key):
    before, delivered = stored(chain), distinct(chain["wrs"])
    reply = post_odf(chain["dist"].url + "/odf/messages", odf.result_message(CODE, 5), key)
    assert reply.status == 401, reply
    time.sleep(0.3)
    assert stored(chain) == before
    assert distinct(chain["wrs"]) == delivered
    metrics = chain["dist"].get("/metrics").text
    assert 'replicator_odf_messages_rejected_total{reason="api_key"}' in metrics


def test_plain_and_gzip_bodies_are_stored_and_delivered(chain):
    before = distinct(chain["wrs"])
    for version, gz in ((11, True), (12, False)):
        reply = post_odf(chain["dist"].url + "/odf/messages",
                         odf.result_message(CODE, version), chain["key"], gzip=gz)
        assert reply.status == 200, reply
        assert reply.json()["status"] == "stored"
    wait_for(lambda: distinct(chain["wrs"]) == before + 2, 10, what="delivery to wrs")


def test_ovr_send_validates_and_forwards(chain):
    ovr, key = chain["ovr"], chain["key"]
    assert post_odf(ovr.url + "/odf/send", odf.result_message(CODE, 20), "wrong").status == 401
    reply = post_odf(ovr.url + "/odf/send", without(odf.result_message(CODE, 20), "Source"), key)
    assert reply.status == 400 and "Source" in reply.json()["error"]
    before = stored(chain)
    reply = post_odf(ovr.url + "/odf/send", odf.result_message(CODE, 21), key, gzip=False)
    assert reply.status == 200, reply
    assert reply.json()["forwarded"] is True and reply.json()["version"] == 21
    assert stored(chain) == before + 1
    recent = chain["dist"].get(f"/odf/messages?after={before}").json()["messages"]
    assert recent[0]["Version"] == "21" and recent[0]["sent_at"] <= time.time()


def test_generate_is_bounded_and_reports_figures(chain):
    ovr = chain["ovr"]
    assert ovr.post("/odf/generate", {"count": 0}).status == 400
    assert ovr.post("/odf/generate", {"count": 10, "rate": 0}).status == 400
    assert ovr.post("/odf/generate", {"count": 10**7}).status == 400
    assert ovr.post("/odf/generate", {"count": 5, "document_types": ["DT_NOPE"]}).status == 400
    reply = ovr.post("/odf/generate", {"count": 40, "rate": 200,
                                       "document_types": ["DT_RESULT", "DT_CURRENT"]})
    assert reply.status == 200, reply
    figures = reply.json()
    assert figures["sent"] == 40 and figures["failed"] == 0
    assert 0.1 < figures["seconds"] < 10
    # Constant arrival rate: the 40th message is due 39/200 s after the first, never sooner.
    assert 39 / 200 <= figures["send_seconds"] <= figures["seconds"]
    assert figures["offered_rate"] == 200
    assert 0 <= figures["behind_schedule_ms"]["p99"] <= figures["behind_schedule_ms"]["max"]
    assert figures["finished_at"] - figures["started_at"] >= figures["seconds"] - 0.05
    assert all(len(code) == 34 for code in figures["document_codes"])
    status = ovr.get("/odf/status").json()
    assert status["venue"] == "AQC" and status["disciplines"] == ["DIV", "SWA", "WPO"]


def test_health_version_metrics(chain):
    for name in ("wrs", "dist", "ovr"):
        service = chain[name]
        health = service.get("/health")
        assert health.status == 200
        body = health.json()
        assert body["status"] == "ok" and body["version"] == f"{service.role}-1.2.3"
        assert body["checks"]["api_key"] == "ok"
        assert service.get("/version").json()["version"] == f"{service.role}-1.2.3"
        metrics = service.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "replicator_http_requests_total" in metrics.text
        assert f'replicator_info{{role="{service.role}"' in metrics.text
    dist_metrics = chain["dist"].get("/metrics").text
    assert 'replicator_odf_queue_depth{consumer="wrs"}' in dist_metrics
    assert "replicator_odf_messages_received_total" in dist_metrics
    assert "replicator_odf_latency_seconds_bucket" in chain["wrs"].get("/metrics").text
