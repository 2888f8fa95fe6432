"""The ODF module in process: validation, identity, RSC, builder, venue feed."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import pytest
from replicator_app import odf

from replicator import odf as host_odf

CODE = "SWMW100MFR------------FNL-000100--"


def without(message: bytes, attribute: str) -> bytes:
    return re.sub(rf' {attribute}="[^"]*"'.encode(), b"", message, count=1)


def test_host_shim_is_the_container_module():
    assert host_odf.OdfError is odf.OdfError
    assert host_odf.parse is odf.parse


def test_rsc_layout():
    assert odf.rsc("SWM", "W", "100MFR", "FNL", "000100") == CODE
    assert len(CODE) == 34
    assert odf.parse_rsc(CODE) == {"discipline": "SWM", "gender": "W", "event": "100MFR",
                                   "phase": "FNL", "unit": "000100"}
    with pytest.raises(odf.OdfError):
        odf.parse_rsc("SWM")


def test_valid_result_message_header_and_identity():
    message = odf.result_message(CODE, 3, status="OFFICIAL", source="OVRAQC")
    header = odf.parse(message)
    assert header.document_code == CODE
    assert header.version == 3
    assert header["ResultStatus"] == "OFFICIAL"
    assert header.identity == f"OG2024|{CODE}||DT_RESULT||ENG|OVRAQC"
    assert header.key == header.identity + "|3"
    assert not header.is_update


@pytest.mark.parametrize("attribute", odf.MANDATORY)
def test_each_missing_mandatory_attribute_is_named(attribute):
    message = without(odf.result_message(CODE, 1), attribute)
    with pytest.raises(odf.OdfError) as info:
        odf.parse(message)
    assert "missing mandatory header attribute" in str(info.value)
    assert attribute in str(info.value)


def test_optional_attributes_may_be_missing():
    message = odf.result_message(CODE, 1)
    for attribute in ("ResultStatus", "Language", "DocumentSubcode", "DocumentSubtype"):
        message = without(message, attribute)
    assert odf.parse(message).version == 1


@pytest.mark.parametrize("body, problem", [
    (b"<OdfBody CompetitionCode='OG2024'", "malformed XML"),
    (b"<OdfBody><Competition></OdfBody>", "malformed XML"),
    (b"", "empty body"),
    (b"not xml at all", "malformed XML"),
    (b"<Other/>", "expected <OdfBody>"),
])
def test_malformed_messages(body, problem):
    with pytest.raises(odf.OdfError, match=problem):
        odf.parse(body)


def test_truncated_body_is_malformed_even_if_the_header_is_complete():
    message = odf.result_message(CODE, 1)
    with pytest.raises(odf.OdfError, match="malformed XML"):
        odf.parse(message[:-40])
    assert odf.parse(message[:-40], full=False).version == 1  # header-only read


@pytest.mark.parametrize("attribute, value, problem", [
    ("Version", "two", "Version must be a positive integer"),
    ("FeedFlag", "X", "FeedFlag must be P or T"),
    ("Time", "2130", "Time must be hhmmssfff"),
    ("Date", "28/07/2024", "Date must be YYYY-MM-DD"),
    ("ResultStatus", "FINISHED", "ResultStatus 'FINISHED'"),
    ("DocumentCode", "SWM", "34-character RSC"),
])
def test_invalid_header_values(attribute, value, problem):
    message = odf.set_header(odf.result_message(CODE, 1), **{attribute: value})
    with pytest.raises(odf.OdfError, match=re.escape(problem)):
        odf.parse(message)


def test_logical_date_ends_at_three():
    assert odf.now_attrs(datetime(2024, 7, 29, 2, 59, tzinfo=odf.PARIS))["LogicalDate"] == \
        "2024-07-28"
    attrs = odf.now_attrs(datetime(2024, 7, 29, 3, 0, 0, 120000, tzinfo=odf.PARIS))
    assert attrs == {"Date": "2024-07-29", "Time": "030000120", "LogicalDate": "2024-07-29"}


def test_update_types_are_flagged():
    message = odf.build("DT_SCHEDULE_UPDATE", CODE, 4, source="OVRAQC")
    assert odf.parse(message).is_update


def test_venue_feed_is_realistic_and_never_reuses_a_version():
    feed = odf.VenueFeed("AQC", ["DIV", "SWA", "WPO"], seed=1)
    seen = set()
    types = set()
    for _ in range(600):
        header = odf.parse(feed.next())
        assert header.key not in seen
        seen.add(header.key)
        types.add((header.document_type, header["ResultStatus"]))
        assert header["Source"] == "OVRAQC"
        assert header.document_code[:3] in ("DIV", "SWA", "WPO")
    for expected in [("DT_SCHEDULE_UPDATE", ""), ("DT_RESULT", "START_LIST"),
                     ("DT_RESULT", "LIVE"), ("DT_CURRENT", "LIVE"), ("DT_RESULT", "OFFICIAL"),
                     ("DT_PHASE_RESULT", "OFFICIAL"), ("DT_MEDALLISTS", "OFFICIAL"),
                     ("DT_MEDALS", "")]:
        assert expected in types
    restored = odf.VenueFeed("AQC", ["DIV"], versions=dict(feed.versions))
    assert restored.next_version(tuple(next(iter(feed.versions)).split("|"))) > 1


def test_feed_filters_document_types():
    feed = odf.VenueFeed("LDA", ["SWM"])
    headers = [odf.parse(feed.next(["DT_RESULT"])) for _ in range(30)]
    assert {h.document_type for h in headers} == {"DT_RESULT"}
    assert odf.parse(feed.next(["DT_KA"])).document_type == "DT_KA"


def test_gzip_round_trip_and_set_header():
    message = odf.result_message(CODE, 1)
    assert odf.decode_body(odf.gzip(message)) == message
    assert odf.decode_body(message) == message
    changed = odf.set_header(message, Version="9", ResultStatus="OFFICIAL")
    header = odf.parse(changed)
    assert (header.version, header["ResultStatus"]) == (9, "OFFICIAL")


def test_venue_table_matches_the_topology():
    from app_harness import APPS

    from replicator.topology import load_edition
    topology = load_edition(APPS.parent, "paris2024")
    venues = {v.code: tuple(v.disciplines) for v in topology.venues}
    assert venues == odf.VENUES
    assert all(d in odf.DISCIPLINES for discs in venues.values() for d in discs)


@pytest.mark.parametrize("tick", [0.0, 0.02])
def test_paced_yields_each_message_not_before_its_due_time_waking_at_most_once_a_tick(tick):
    from replicator_app.roles.ovr import paced

    async def main() -> tuple[list[float], int]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        early: list[float] = []
        wakes, last = 0, -1.0
        async for i in paced(60, 200.0, tick):
            now = loop.time() - start
            if now - i / 200.0 < -1e-3:  # before its due time (1 ms of clock slack)
                early.append(now - i / 200.0)
            if now - last > 0.002:  # a burst is yielded within microseconds
                wakes += 1
            last = now
        return early, wakes

    early, wakes = asyncio.run(main())
    assert early == []
    if tick:  # 0.3 s of messages: the first burst, then one wake per tick at most
        assert wakes <= 0.3 / tick + 2
    else:  # a wake per message, 5 ms apart
        assert wakes > 30
