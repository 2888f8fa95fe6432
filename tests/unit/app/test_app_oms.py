"""OMS services: JSON collections, seeding, the links between OMS services and the
initial download into ODS; with PostgreSQL when a local server binary exists."""

from __future__ import annotations

import secrets

import pytest
from app_harness import free_port, http, wait_for
from replicator_app import odf


def test_volunteer_accepted_joins_workforce_and_is_accredited(services):
    accreditation = services.run("accreditation")
    workforce = services.run("workforce", peers={"accreditation": accreditation.url})
    portal = services.run("volunteer-portal", peers={"workforce": workforce.url})
    volunteer = portal.post("/api/volunteers", {"given_name": "Ana", "family_name": "LOPEZ",
                                                "organisation": "ESP", "preferred_venue": "AQC",
                                                "status": "APPLIED"})
    assert volunteer.status == 201, volunteer
    assert volunteer.json()["volunteer_id"].startswith("VOL")
    accepted = portal.post(f"/api/volunteers/{volunteer.json()['id']}/accept")
    assert accepted.status == 200, accepted
    staff = accepted.json()["workforce"]
    assert staff["type"] == "VOLUNTEER" and staff["venue"] == "AQC"
    assert staff["accreditation"]["requested"] is True
    acr = accreditation.get(f"/api/accreditations/{staff['accreditation']['accreditation_id']}")
    assert acr.status == 200 and acr.json()["category"] == "V"
    assert portal.get("/api/volunteers?status=ACCEPTED").json()["count"] == 1


def test_votes_need_an_accredited_athlete_once(services):
    accreditation = services.run("accreditation")
    voting = services.run("athletes-voting", peers={"accreditation": accreditation.url})
    athlete = accreditation.post("/api/accreditations", {"category": "Aa", "given_name": "Kim",
                                                         "organisation": "KOR"}).json()
    press = accreditation.post("/api/accreditations", {"category": "E"}).json()
    vote = {"voter": athlete["key"], "candidate_id": "CAN0000001"}
    assert voting.post("/api/votes", vote).status == 201
    assert voting.post("/api/votes", vote).status == 409  # one vote per athlete
    assert voting.post("/api/votes", {"voter": press["key"], "candidate_id": "CAN0000001"}
                       ).status == 403
    assert voting.post("/api/votes", {"voter": "ACR9999999", "candidate_id": "CAN0000001"}
                       ).status == 403
    services.stop(accreditation)
    assert voting.post("/api/votes", {"voter": "ACR0000042", "candidate_id": "C"}).status == 503


def test_sqlite_collections_crud_seed_and_access_check(services):
    security = services.run("security-events")
    accreditation = services.run("accreditation", peers={"security-events": security.url})
    seeded = accreditation.post("/api/seed", {"count": 20000}, timeout=120)
    assert seeded.status == 200 and seeded.json()["inserted"] == 20000, seeded
    overview = accreditation.get("/api").json()
    assert overview["backend"] == "sqlite" and overview["collections"]["accreditations"] == 20000
    page = accreditation.get("/api/accreditations?limit=5&offset=10").json()
    assert page["count"] == 5 and page["items"][0]["id"] == 11
    record = page["items"][0]
    assert record["accreditation_id"].startswith("ACR") and record["category"]
    one = accreditation.get(f"/api/accreditations/{record['accreditation_id']}").json()
    assert one["id"] == 11
    venue = one["venues"][0]
    assert accreditation.post("/api/access-check", {"accreditation_id": one[
        "accreditation_id"], "venue": venue}).json()["granted"] is (one["status"] != "CANCELLED")
    denied = accreditation.post("/api/access-check", {"accreditation_id": "ACR0000000",
                                                      "venue": "AQC"}).json()
    assert denied == {"granted": False, "reason": "unknown accreditation", "venue": "AQC",
                      "accreditation_id": "ACR0000000"}
    wait_for(lambda: security.get("/events?type=access_denied").json()["total"] == 1, 5,
             what="the refused access as a security event")
    assert _put(accreditation, "/api/accreditations/11", {"status": "CANCELLED"})["status"] == \
        "CANCELLED"
    assert accreditation.get("/api/unknown").status == 404


def test_seeding_after_deletes_keeps_keys_unique(services):
    portal = services.run("volunteer-portal")
    assert portal.post("/api/seed", {"count": 10}).json()["total"] == 10
    assert http("DELETE", portal.url + "/api/volunteers/10").status == 200
    assert portal.post("/api/seed", {"count": 5}).json()["total"] == 14
    items = portal.get("/api/volunteers?limit=100").json()["items"]
    keys = [v["volunteer_id"] for v in items]
    assert len(set(keys)) == 14 and keys[-1] == "VOL0000015"


def test_initial_download_into_ods(services):
    wrs = services.run("wrs")
    dist = services.run("odf-distributor", consumers={"wrs": wrs.url})
    schedule = services.run("competition-schedule", peers={"odf-distributor": dist.url})
    assert schedule.post("/api/seed", {"count": 250}).json()["inserted"] == 250
    units = schedule.get("/api/schedule_units?venue=AQC&limit=1000").json()["items"]
    assert all(u["discipline"] in odf.VENUES["AQC"] for u in units)
    reply = schedule.post("/api/odf-download", {"limit": 250, "per_message": 100})
    assert reply.status == 200, reply
    assert reply.json()["messages"] == 3 and reply.json()["document_type"] == "DT_SCHEDULE"
    wait_for(lambda: wrs.get("/odf/stats").json()["distinct_messages"] == 3, 10,
             what="the download at wrs")


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg_accreditation(postgres, module_services):
    password = secrets.token_urlsafe(16)
    db = postgres.create_app_db("accreditation", password)
    secret = module_services.root / "db_password"
    secret.write_text(password + "\n")
    service = module_services.add("accreditation", db={**db, "password_file": str(secret)})
    module_services.start(service, python=postgres.python)
    return service


def test_pg_schema_is_created_and_health_reports_the_db(pg_accreditation, postgres):
    health = pg_accreditation.get("/health").json()
    assert health["status"] == "ok" and health["checks"]["db"] == "ok"
    tables = postgres.sql("SELECT string_agg(tablename, ',') FROM pg_tables "
                          "WHERE schemaname = 'public'", "accreditation").strip()
    assert tables == "accreditations"
    assert pg_accreditation.get("/api").json()["backend"] == "postgresql"


def test_pg_seed_and_crud_work(pg_accreditation):
    # Seeding speed is a figure for a bench, not an assertion: here, what it stored.
    reply = pg_accreditation.post("/api/seed", {"count": 20_000}, timeout=300)
    assert reply.status == 200, reply
    figures = reply.json()
    assert figures["inserted"] == 20_000 and figures["total"] == 20_000
    page = pg_accreditation.get("/api/accreditations?organisation=FRA&limit=3&total=1").json()
    assert page["count"] == 3 and all(r["organisation"] == "FRA" for r in page["items"])
    assert 0 < page["total"] < 20_000
    created = pg_accreditation.post("/api/accreditations", {"given_name": "Teddy",
                                                           "family_name": "RINER",
                                                           "category": "Aa"})
    assert created.status == 201
    doc = created.json()
    assert doc["id"] == 20_001 and doc["accreditation_id"] == "ACR0020001"
    assert pg_accreditation.post("/api/accreditations", {"accreditation_id": "ACR0020001"}
                                 ).status == 409
    updated = _put(pg_accreditation, f"/api/accreditations/{doc['id']}", {"status": "PRINTED"})
    assert updated["status"] == "PRINTED" and updated["family_name"] == "RINER"
    assert pg_accreditation.get("/api/accreditations/ACR0020001").json()["status"] == "PRINTED"


def test_pg_restart_is_idempotent(pg_accreditation, postgres, module_services):
    module_services.stop(pg_accreditation)
    module_services.start(pg_accreditation, python=postgres.python)
    assert pg_accreditation.get("/api").json()["collections"]["accreditations"] >= 1


def test_db_unreachable_is_503(postgres, services):
    service = services.add("sport-entries", db={"host": "127.0.0.1", "port": free_port(),
                                                "dbname": "sport_entries",
                                                "user": "sport_entries_app"})
    services.start(service, python=postgres.python, healthy=False)
    health = service.get("/health")
    assert health.status == 503
    body = health.json()
    assert body["status"] == "degraded" and body["checks"]["db"].startswith("unreachable")
    assert body["version"] == "sport-entries-1.2.3"
    assert service.get("/api/entries").status == 503
    assert service.get("/version").status == 200


def _put(service, path: str, body: dict) -> dict:
    reply = http("PUT", service.url + path, body)
    assert reply.status == 200, reply
    return reply.json()
