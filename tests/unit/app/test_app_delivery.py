"""What the distributor delivers to the consumers (POST /odf/deliver): each message
with the header attributes parsed at intake, so that the four consumers do not
parse the XML again; a consumer checks that header as it would the XML's, and
still reads the XML when a delivery has no header."""

from __future__ import annotations

import json
import time

import pytest
from app_harness import StubServer, http, wait_for
from replicator_app import odf

CODE = "SWMW400MIM------------FNL-000100--"
OTHER = "SWMW200MBK------------FNL-000100--"


class CaptureConsumer(StubServer):
    """A consumer stand-in in the test process: records each delivered message."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        super().__init__()

    def answer(self, path: str, body: bytes) -> tuple[int, dict]:
        messages = json.loads(body)["messages"]
        self.messages.extend(messages)
        return 200, {"accepted": len(messages)}


@pytest.fixture
def capture():
    consumer = CaptureConsumer()
    yield consumer
    consumer.close()


def test_a_delivery_carries_the_header_parsed_at_intake(services, capture):
    dist = services.run("odf-distributor", consumers={"stub": capture.url})
    message = odf.result_message(CODE, 3)
    reply = http("POST", dist.url + "/odf/messages", odf.gzip(message),
                 {"X-API-KEY": services.key, "Content-Encoding": "gzip"})
    assert reply.status == 200, reply
    wait_for(lambda: capture.messages, 10, what="a delivery")
    delivered = capture.messages[0]
    assert delivered["header"] == odf.parse(message).attrs
    assert delivered["xml"] == message.decode() and delivered["seq"] == reply.json()["seq"]


def test_a_consumer_uses_the_delivered_header_checks_it_and_reads_the_xml_without_it(
        services):
    wrs = services.run("wrs")
    message = odf.result_message(CODE, 5)
    attrs = odf.parse(message).attrs
    now = time.time()
    batch = {"messages": [
        # The header the distributor sent wins: the consumer does not parse the XML.
        {"seq": 1, "sent_at": now, "header": attrs | {"Version": "6"}, "xml": message.decode()},
        # A header that fails the checks is refused as a bad XML header would be.
        {"seq": 2, "sent_at": now, "header": attrs | {"Version": "six"},
         "xml": message.decode()},
        # No header (an older distributor): read from the XML.
        {"seq": 3, "sent_at": now, "xml": odf.result_message(OTHER, 2).decode()},
    ]}
    reply = http("POST", wrs.url + "/odf/deliver", json.dumps(batch).encode(),
                 {"X-API-KEY": services.key, "Content-Type": "application/json"})
    assert reply.status == 200, reply
    body = reply.json()
    assert (body["accepted"], body["applied"]) == (2, 2)
    assert [r["index"] for r in body["rejected"]] == [1]
    assert "Version must be a positive integer" in body["rejected"][0]["error"]
    assert wrs.get(f"/results/{CODE}").headers["x-odf-version"] == "6"
    assert wrs.get(f"/results/{OTHER}").headers["x-odf-version"] == "2"
