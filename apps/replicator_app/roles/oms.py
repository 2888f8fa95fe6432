"""OMS services (accreditation, sport-entries, competition-schedule, athletes-voting,
volunteer-portal, workforce) and historical-results: JSON collections under
``/api/<collection>``.

Services with a db tier keep them in their PostgreSQL (psycopg2; schema created
idempotently at start, retried until the database answers); the others in a
local SQLite file. ``POST /api/seed {"count": N}`` generates N realistic records
with COPY (hundreds of thousands in seconds). The links of the topology are
real calls: volunteers accepted join the workforce, workforce and entries ask
accreditation, votes check the voter's accreditation, refused venue access
becomes a security event, and ``POST /api/odf-download`` sends the records to
the ODF distributor as the initial download into ODS.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import threading
import time
from datetime import datetime, timedelta

from .. import odf
from ..http import ClientError, HttpError, Request, Response, json_response
from ..retry import RetryCallState, until_no_error
from ..store import JsonStore
from .base import Role

log = logging.getLogger(__name__)

# -------------------------------------------------------------------- record makers

CATEGORIES = (("Aa", "Athlete", 40), ("Ao", "Team official", 12), ("E", "Press", 8),
              ("Ep", "Photographer", 3), ("O", "Olympic Family", 4), ("F", "Sport federation", 4),
              ("Pf", "Workforce - paid staff", 12), ("V", "Workforce - volunteer", 15),
              ("RT", "Broadcaster", 2))
_CATEGORY_WEIGHTS = [c[2] for c in CATEGORIES]
FUNCTIONAL_AREAS = ("TEC", "SPT", "ACR", "TRA", "SEC", "MED", "LOG", "CMS", "EVS", "VEM")
EDITIONS = ("Tokyo 2020", "Rio 2016", "London 2012", "Beijing 2008", "Athens 2004")
GAMES_START = datetime(2024, 7, 26, 8, 0)


def _person(rng: random.Random) -> dict:
    return {"given_name": rng.choice(odf.GIVEN), "family_name": rng.choice(odf.FAMILY),
            "gender": rng.choice("MW"), "organisation": rng.choice(odf.NOCS)}


def _event(rng: random.Random) -> tuple[str, str, str, str]:
    disc = rng.choice(sorted(odf.DISCIPLINES))
    gender, event, label = rng.choice(odf.DISCIPLINES[disc][1])
    return disc, gender, event, label


def _venue_of(disc: str, rng: random.Random) -> str:
    venues = [v for v, discs in odf.VENUES.items() if disc in discs]
    return rng.choice(venues) if venues else "STA"


def make_accreditation(rng, key):
    code, function, _ = rng.choices(CATEGORIES, _CATEGORY_WEIGHTS)[0]
    venues = rng.sample(sorted(odf.VENUES), rng.randint(1, 4))
    return {"accreditation_id": key, **_person(rng), "category": code, "function": function,
            "venues": venues, "zones": sorted(rng.sample("1234567", rng.randint(1, 4))),
            "status": rng.choice(("VALIDATED", "PRINTED", "COLLECTED", "COLLECTED")),
            "valid_from": "2024-07-18", "valid_to": "2024-09-08"}


def make_entry(rng, key):
    disc, gender, event, label = _event(rng)
    return {"entry_id": key, **_person(rng), "discipline": disc,
            "event": odf.rsc(disc, gender, event)[:22], "event_name": label,
            "qualification": rng.choice(("QS", "QS", "QH", "QR", "Universality", "Host")),
            "status": rng.choice(("ENTERED", "CONFIRMED", "CONFIRMED", "WITHDRAWN"))}


def make_schedule_unit(rng, key):
    disc, gender, event, label = _event(rng)
    phase, count = rng.choice(odf.PHASES)
    start = GAMES_START + timedelta(days=rng.randrange(16), minutes=30 * rng.randrange(28))
    return {"unit_code": odf.rsc(disc, gender, event, phase, f"{rng.randint(1, count):04d}00"),
            "schedule_id": key, "discipline": disc, "venue": _venue_of(disc, rng),
            "name": f"{label} {phase.rstrip('-')}", "start": start.isoformat(),
            "end": (start + timedelta(minutes=rng.choice((20, 45, 90, 120)))).isoformat(),
            "status": "SCHEDULED", "medal": phase.startswith("FNL")}


def make_candidate(rng, key):
    disc = rng.choice(sorted(odf.DISCIPLINES))
    return {"candidate_id": key, **_person(rng), "discipline": disc,
            "sport": odf.DISCIPLINES[disc][0]}


def make_vote(rng, key):
    return {"vote_id": key, "voter": f"ACR{rng.randrange(1, 500_000):07d}",
            "candidate_id": f"CAN{rng.randrange(1, 40):07d}",
            "cast_at": (GAMES_START + timedelta(seconds=rng.randrange(14 * 86400))).isoformat()}


def make_volunteer(rng, key):
    return {"volunteer_id": key, **_person(rng),
            "languages": rng.sample(("fr", "en", "es", "de", "it", "zh", "ar", "pt"), 2),
            "skills": rng.sample(("driving", "first aid", "languages", "IT", "sport",
                                  "hospitality", "logistics"), 2),
            "availability_days": rng.randint(10, 30), "preferred_venue": rng.choice(
                sorted(odf.VENUES)), "status": rng.choice(("APPLIED", "INTERVIEWED", "ACCEPTED"))}


def make_staff(rng, key):
    return {"staff_id": key, **_person(rng), "type": rng.choice(("PAID_STAFF", "VOLUNTEER",
                                                                 "CONTRACTOR")),
            "functional_area": rng.choice(FUNCTIONAL_AREAS), "venue": rng.choice(
                sorted(odf.VENUES))}


def make_shift(rng, key):
    start = GAMES_START + timedelta(days=rng.randrange(30), hours=rng.choice((6, 14, 22)))
    return {"shift_id": key, "staff_id": f"STF{rng.randrange(1, 100_000):07d}",
            "venue": rng.choice(sorted(odf.VENUES)), "functional_area": rng.choice(
                FUNCTIONAL_AREAS), "start": start.isoformat(),
            "end": (start + timedelta(hours=8)).isoformat(),
            "role": rng.choice(("supervisor", "operator", "technician", "host"))}


def make_historical(rng, key):
    disc, gender, event, label = _event(rng)
    return {"result_id": key, "edition": rng.choice(EDITIONS), "discipline": disc,
            "event": odf.rsc(disc, gender, event)[:22], "event_name": label,
            "rank": rng.randint(1, 8), **_person(rng),
            "result": f"{rng.uniform(9.5, 300):.2f}"}


# service -> {collection: (key prefix, maker, indexed fields)}, ODF initial download
SERVICES: dict[str, dict] = {
    "accreditation": {"collections": {
        "accreditations": ("ACR", make_accreditation, ("organisation", "category"))},
        "odf": ("DT_PARTIC", "ACR")},
    "sport-entries": {"collections": {
        "entries": ("SEQ", make_entry, ("discipline", "organisation"))},
        "odf": ("DT_PARTIC", "SEQ")},
    "competition-schedule": {"collections": {
        "schedule_units": ("SCH", make_schedule_unit, ("venue", "discipline"))},
        "odf": ("DT_SCHEDULE", None)},
    "athletes-voting": {"collections": {
        "candidates": ("CAN", make_candidate, ("discipline",)),
        "votes": ("VOT", make_vote, ("candidate_id",))}},
    "volunteer-portal": {"collections": {
        "volunteers": ("VOL", make_volunteer, ("status",))}},
    "workforce": {"collections": {
        "staff": ("STF", make_staff, ("venue", "functional_area")),
        "shifts": ("SHF", make_shift, ("venue", "staff_id"))}},
    "historical-results": {"collections": {
        "results": ("HR", make_historical, ("edition", "discipline"))},
        "odf": ("DT_RECORD", "HR")},
}


# -------------------------------------------------------------------- backends


class Unavailable(Exception):
    """The database cannot be reached (-> 503)."""


class SqliteCollections:
    """JSON collections in data_dir/<service>.sqlite3 (services without a db tier)."""

    def __init__(self, path, collections: dict):
        self.collections = collections
        self.store = JsonStore(path)

    def ensure_schema(self) -> None:
        pass

    def ping(self) -> None:
        self.store.ping()

    def insert(self, collection, data: dict, key: str | None, key_field: str) -> dict:
        if key:
            return self.store.insert(collection, data, key) | {"key": key}
        prefix = self.collections[collection][0]
        [ident] = self.store.add_keyed(collection, prefix, [lambda k: {key_field: k, **data}])
        row = self.store.get(collection, ident)
        assert row is not None  # just inserted
        return row | {"key": f"{prefix}{ident:07d}"}

    def get(self, collection, ident: str) -> dict | None:
        if ident.isdigit():
            return self.store.get(collection, int(ident))
        return self.store.get_by_key(collection, ident)

    def list(self, collection, limit, offset, filters) -> list[dict]:
        return self.store.list(collection, limit, offset, filters)

    def update(self, collection, ident: int, patch: dict) -> dict | None:
        return self.store.update(collection, ident, patch)

    def delete(self, collection, ident: int) -> bool:
        return self.store.delete(collection, ident)

    def count(self, collection, filters=None) -> int:
        return self.store.count(collection, filters)

    def seed(self, collection, count: int, rng: random.Random) -> int:
        prefix, make, _ = self.collections[collection]
        done = 0
        while done < count:  # in chunks, so other requests get the database in between
            n = min(50_000, count - done)
            self.store.add_keyed(collection, prefix, [lambda k: make(rng, k)] * n)
            done += n
        return done


class PgCollections:
    """JSON collections in PostgreSQL: one table per collection
    (id bigserial, key text unique, data jsonb, created_at, updated_at)."""

    def __init__(self, config, collections: dict):
        import psycopg2  # only services with a db tier need it
        import psycopg2.pool
        self.psycopg2 = psycopg2
        self.config = config
        self.collections = collections
        self._pool = None
        self._pool_lock = threading.Lock()
        self.schema_ready = False

    def _connect_pool(self):
        with self._pool_lock:
            if self._pool is None:
                db = self.config.db
                try:
                    self._pool = self.psycopg2.pool.ThreadedConnectionPool(
                        1, 16, host=db.get("host"), port=int(db.get("port", 5432)),
                        dbname=db.get("dbname"), user=db.get("user"),
                        password=self.config.db_password(), connect_timeout=3,
                        application_name=self.config.service)
                except self.psycopg2.Error as exc:
                    raise Unavailable(_pg_error(exc)) from None
            return self._pool

    def run(self, fn):
        """fn(cursor) in a transaction; connection problems become Unavailable."""
        pool = self._connect_pool()
        try:
            conn = pool.getconn()
        except self.psycopg2.Error as exc:
            raise Unavailable(_pg_error(exc)) from None
        broken = False
        try:
            with conn, conn.cursor() as cur:
                return fn(cur)
        except (self.psycopg2.OperationalError, self.psycopg2.InterfaceError) as exc:
            broken = True
            raise Unavailable(_pg_error(exc)) from None
        finally:
            pool.putconn(conn, close=broken or conn.closed != 0)

    def ensure_schema(self) -> None:
        def create(cur):
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('replicator_schema'))")
            for name, (_, _, indexed) in self.collections.items():
                cur.execute(f"""CREATE TABLE IF NOT EXISTS {name} (
                    id BIGSERIAL PRIMARY KEY, key TEXT UNIQUE, data JSONB NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    updated_at TIMESTAMPTZ NOT NULL DEFAULT now())""")
                for field in indexed:
                    cur.execute(f"CREATE INDEX IF NOT EXISTS {name}_{field} "
                                f"ON {name} ((data->>'{field}'))")
        self.run(create)
        self.schema_ready = True

    def ping(self) -> None:
        self.run(lambda cur: cur.execute("SELECT 1"))

    @staticmethod
    def _doc(row) -> dict:
        ident, data, created, updated = row
        return {"id": ident, **data, "created_at": created.isoformat(),
                "updated_at": updated.isoformat()}

    def insert(self, collection, data: dict, key: str | None, key_field: str) -> dict:
        prefix = self.collections[collection][0]

        def insert(cur):
            cur.execute(f"SELECT nextval('{collection}_id_seq')")
            ident = cur.fetchone()[0]
            new_key = key or f"{prefix}{ident:07d}"
            record = data if key else {key_field: new_key, **data}
            cur.execute(f"INSERT INTO {collection} (id, key, data) VALUES (%s, %s, %s) "
                        "RETURNING id, data, created_at, updated_at",
                        (ident, new_key, json.dumps(record)))
            return self._doc(cur.fetchone()) | {"key": new_key}
        return self.run(insert)

    def get(self, collection, ident: str) -> dict | None:
        column = "id" if ident.isdigit() else "key"

        def get(cur):
            cur.execute(f"SELECT id, data, created_at, updated_at FROM {collection} "
                        f"WHERE {column} = %s", (int(ident) if column == "id" else ident,))
            row = cur.fetchone()
            return self._doc(row) if row else None
        return self.run(get)

    def list(self, collection, limit, offset, filters) -> list[dict]:
        where, args = _where(filters)

        def select(cur):
            cur.execute(f"SELECT id, data, created_at, updated_at FROM {collection}{where} "
                        "ORDER BY id LIMIT %s OFFSET %s", (*args, limit, offset))
            return [self._doc(row) for row in cur.fetchall()]
        return self.run(select)

    def update(self, collection, ident: int, patch: dict) -> dict | None:
        def update(cur):
            cur.execute(f"UPDATE {collection} SET data = data || %s::jsonb, updated_at = now() "
                        "WHERE id = %s RETURNING id, data, created_at, updated_at",
                        (json.dumps(patch), ident))
            row = cur.fetchone()
            return self._doc(row) if row else None
        return self.run(update)

    def delete(self, collection, ident: int) -> bool:
        def delete(cur):
            cur.execute(f"DELETE FROM {collection} WHERE id = %s", (ident,))
            return cur.rowcount > 0
        return self.run(delete)

    def count(self, collection, filters=None) -> int:
        where, args = _where(filters)

        def count(cur):
            cur.execute(f"SELECT count(*) FROM {collection}{where}", args)
            return cur.fetchone()[0]
        return self.run(count)

    def seed(self, collection, count: int, rng: random.Random) -> int:
        """Reserve `count` ids from the sequence, then COPY the records in chunks."""
        prefix, make, _ = self.collections[collection]

        def seed(cur):
            cur.execute(f"SELECT pg_advisory_xact_lock(hashtext('seed_{collection}'))")
            cur.execute(f"SELECT nextval('{collection}_id_seq')")
            first = cur.fetchone()[0]
            cur.execute(f"SELECT setval('{collection}_id_seq', %s)", (first + count - 1,))
            done = 0
            while done < count:
                n = min(50_000, count - done)
                buf = io.StringIO()
                for ident in range(first + done, first + done + n):
                    key = f"{prefix}{ident:07d}"
                    data = json.dumps(make(rng, key)).replace("\\", "\\\\")
                    buf.write(f"{ident}\t{key}\t{data}\n")
                buf.seek(0)
                cur.copy_expert(f"COPY {collection} (id, key, data) FROM STDIN", buf)
                done += n
            return done
        return self.run(seed)


def _where(filters: dict | None) -> tuple[str, tuple]:
    if not filters:
        return "", ()
    clauses = " AND ".join("data->>%s = %s" for _ in filters)
    args = tuple(x for item in filters.items() for x in (item[0], str(item[1])))
    return f" WHERE {clauses}", args


def _pg_error(exc) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# -------------------------------------------------------------------- the role


class OmsRole(Role):
    title = "Olympic Management System service"

    def __init__(self, config, metrics, client):
        super().__init__(config, metrics, client)
        spec = SERVICES.get(config.role, {"collections": {
            "records": ("REC", make_accreditation, ())}})
        self.collections = spec["collections"]
        self.odf_download = spec.get("odf")
        if config.db:
            self.db = PgCollections(config, self.collections)
        else:
            self.db = SqliteCollections(config.data_dir / f"{config.role}.sqlite3",
                                        self.collections)
        self.rng = random.Random()
        self._seed_lock = threading.Lock()

    def routes(self, router):
        super().routes(router)
        router.add("GET", "/api", self.overview)
        router.add("POST", "/api/seed", self.seed)
        if self.odf_download:
            router.add("POST", "/api/odf-download", self.download)
        if self.config.role == "accreditation":
            router.add("POST", "/api/access-check", self.access_check)
        if self.config.role == "volunteer-portal":
            router.add("POST", "/api/volunteers/{ident}/accept", self.accept_volunteer)
        router.add("GET", "/api/{collection}", self.list)
        router.add("POST", "/api/{collection}", self.create)
        router.add("GET", "/api/{collection}/{ident}", self.get)
        router.add("PUT", "/api/{collection}/{ident}", self.update)
        router.add("DELETE", "/api/{collection}/{ident}", self.delete)

    async def start(self):
        await super().start()
        self._loop = asyncio.get_running_loop()
        if self.config.db:
            self.spawn(self._schema_until_ready(), "schema")
        else:
            self.config.data_dir.mkdir(parents=True, exist_ok=True)

    async def _schema_until_ready(self) -> None:
        assert self.config.db is not None  # started only with a db tier
        await until_no_error(lambda: asyncio.to_thread(self.db.ensure_schema), (Unavailable,),
                             first=1.0, cap=15.0, on_retry=_log_db_wait)
        log.info("schema ready in %s (%s)", self.config.db.get("dbname"),
                 ", ".join(self.collections))

    async def checks(self):
        out = await super().checks()
        if self.config.db:
            try:
                await asyncio.to_thread(self.db.ping)
                out["db"] = "ok" if self.db.schema_ready else "schema not created yet"
            except Unavailable as exc:
                out["db"] = f"unreachable: {exc}"
        return out

    # -- helpers

    def _collection(self, request: Request) -> str:
        name = request.params["collection"]
        if name not in self.collections:
            raise HttpError(404, f"no collection {name!r}; this service has "
                                 f"{', '.join(self.collections)}")
        return name

    def _db(self, fn, *args):
        try:
            return fn(*args)
        except Unavailable as exc:
            raise HttpError(503, f"database unavailable: {exc}") from None

    # -- generic collection API (sync: runs in the thread pool)

    def overview(self, request: Request) -> Response:
        return json_response({"service": self.config.service, "backend":
                              "postgresql" if self.config.db else "sqlite",
                              "collections": {name: self._db(self.db.count, name)
                                              for name in self.collections}})

    def list(self, request: Request) -> Response:
        name = self._collection(request)
        limit = request.int_arg("limit", 100, low=1, high=5000)
        offset = request.int_arg("offset", 0)
        filters = {k: v for k, v in request.query.items() if k not in ("limit", "offset",
                                                                       "total")}
        items = self._db(self.db.list, name, limit, offset, filters)
        body = {"items": items, "count": len(items)}
        if request.query.get("total") in ("1", "true"):
            body["total"] = self._db(self.db.count, name, filters)
        return json_response(body)

    def get(self, request: Request) -> Response:
        name = self._collection(request)
        doc = self._db(self.db.get, name, request.params["ident"])
        if doc is None:
            raise HttpError(404, f"no {name} record {request.params['ident']}")
        return json_response(doc)

    def create(self, request: Request) -> Response:
        name = self._collection(request)
        data = request.json()
        records = data if isinstance(data, list) else [data]
        if not records or not all(isinstance(r, dict) for r in records):
            raise HttpError(400, "send a JSON object or a list of objects")
        created = [self._insert(name, record) for record in records]
        self.metrics.inc("records_total", len(created), kind=name)
        return json_response(created[0] if isinstance(data, dict) else {"items": created}, 201)

    def _insert(self, name: str, record: dict) -> dict:
        prefix_field = _key_field(self.collections[name][0], name)
        key = record.get(prefix_field)
        if self.config.role == "athletes-voting" and name == "votes":
            key = self._check_voter(record)
        if self.config.role == "sport-entries" and name == "entries":
            self._check_accredited(record)
        try:
            doc = self._db(self.db.insert, name, record, str(key) if key else None,
                           prefix_field)
        except HttpError:
            raise
        except Exception as exc:  # unique key violation and the like
            if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
                raise HttpError(409, f"{name} record {key} exists") from None
            raise
        if self.config.role == "workforce" and name == "staff":
            doc["accreditation"] = self._request_accreditation(doc)
        return doc

    def update(self, request: Request) -> Response:
        name = self._collection(request)
        ident = _int(request.params["ident"])
        patch = request.json()
        if not isinstance(patch, dict):
            raise HttpError(400, "send a JSON object with the fields to change")
        doc = self._db(self.db.update, name, ident, patch)
        if doc is None:
            raise HttpError(404, f"no {name} record {ident}")
        return json_response(doc)

    def delete(self, request: Request) -> Response:
        name = self._collection(request)
        ident = _int(request.params["ident"])
        if not self._db(self.db.delete, name, ident):
            raise HttpError(404, f"no {name} record {ident}")
        return json_response({"deleted": ident})

    def seed(self, request: Request) -> Response:
        body = request.json()
        try:
            count = int(body.get("count", 1000))
        except (TypeError, ValueError):
            raise HttpError(400, "count must be an integer") from None
        if not 1 <= count <= 2_000_000:
            raise HttpError(400, "count must be between 1 and 2,000,000")
        name = body.get("collection") or next(iter(self.collections))
        if name not in self.collections:
            raise HttpError(400, f"no collection {name!r}")
        started = time.monotonic()
        with self._seed_lock:
            inserted = self._db(self.db.seed, name, count, self.rng)
        seconds = time.monotonic() - started
        self.metrics.inc("records_total", inserted, kind=name)
        log.info("seeded %d %s in %.1f s", inserted, name, seconds)
        return json_response({"collection": name, "inserted": inserted,
                              "seconds": round(seconds, 3),
                              "per_second": round(inserted / seconds) if seconds else None,
                              "total": self._db(self.db.count, name)})

    # -- links to other services (blocking calls from the thread pool)

    def _call(self, method: str, url: str, body=None, timeout: float = 5.0):
        """A call to a peer from a handler thread, through the role's async client."""
        async def go():
            if body is None:
                return await self.client.request(method, url, timeout=timeout)
            return await self.client.post_json(url, body, timeout=timeout)
        return asyncio.run_coroutine_threadsafe(go(), self._loop).result(timeout + 1)

    def _peer(self, name: str) -> str:
        url = self.config.peer(name)
        if not url:
            raise HttpError(409, f"no {name} peer configured for {self.config.service}")
        return url

    def _lookup_accreditation(self, accreditation_id: str) -> dict | None:
        url = self._peer("accreditation")
        try:
            response = self._call("GET", f"{url}/api/accreditations/{accreditation_id}")
        except ClientError as exc:
            raise HttpError(503, f"accreditation unreachable: {exc}") from None
        if response.status == 404:
            return None
        if response.status != 200:
            raise HttpError(502, f"accreditation answered {response.status}")
        return response.json()

    def _check_voter(self, vote: dict) -> str:
        voter = vote.get("voter")
        if not voter or not vote.get("candidate_id"):
            raise HttpError(400, "a vote needs voter (an accreditation id) and candidate_id")
        if self.config.peer("accreditation"):
            acr = self._lookup_accreditation(str(voter))
            if acr is None or acr.get("category") != "Aa":
                raise HttpError(403, f"{voter} is not an accredited athlete")
        return f"VOTE-{voter}"  # one vote per voter

    def _check_accredited(self, entry: dict) -> None:
        acr_id = entry.get("accreditation_id")
        if (acr_id and self.config.peer("accreditation")
                and self._lookup_accreditation(str(acr_id)) is None):
            raise HttpError(409, f"athlete {acr_id} is not accredited")

    def _request_accreditation(self, staff: dict) -> dict:
        url = self.config.peer("accreditation")
        if not url:
            return {"requested": False, "reason": "no accreditation peer"}
        request = {k: staff.get(k) for k in ("given_name", "family_name", "gender",
                                             "organisation")}
        request.update(category="V" if staff.get("type") == "VOLUNTEER" else "Pf",
                       function=f"Workforce - {staff.get('functional_area', 'TEC')}",
                       venues=[staff["venue"]] if staff.get("venue") else [],
                       status="REQUESTED", requested_by=self.config.service)
        try:
            response = self._call("POST", f"{url}/api/accreditations", request)
        except ClientError as exc:
            return {"requested": False, "reason": str(exc)}
        body = response.json() or {}
        return {"requested": response.status == 201, "id": body.get("id"),
                "accreditation_id": body.get("accreditation_id") or body.get("key")}

    def accept_volunteer(self, request: Request) -> Response:
        doc = self._db(self.db.get, "volunteers", request.params["ident"])
        if doc is None:
            raise HttpError(404, f"no volunteer {request.params['ident']}")
        doc = self._db(self.db.update, "volunteers", doc["id"], {"status": "ACCEPTED"})
        url = self._peer("workforce")
        staff = {k: doc.get(k) for k in ("given_name", "family_name", "gender", "organisation")}
        staff.update(type="VOLUNTEER", functional_area="EVS",
                     venue=doc.get("preferred_venue"), volunteer_id=doc.get("volunteer_id"))
        try:
            response = self._call("POST", f"{url}/api/staff", staff)
        except ClientError as exc:
            raise HttpError(502, f"workforce unreachable: {exc}") from None
        return json_response({"volunteer": doc, "workforce": response.json()},
                             200 if response.status == 201 else 502)

    def access_check(self, request: Request) -> Response:
        """A badge scanned at a venue gate: granted if the accreditation is valid there."""
        body = request.json()
        acr_id, venue = str(body.get("accreditation_id", "")), str(body.get("venue", ""))
        doc = self._db(self.db.get, "accreditations", acr_id) if acr_id else None
        granted = bool(doc and doc.get("status") != "CANCELLED"
                       and venue in (doc.get("venues") or []))
        reason = ("ok" if granted else "unknown accreditation" if not doc
                  else "cancelled" if doc.get("status") == "CANCELLED" else "venue not allowed")
        event = {"type": "access_granted" if granted else "access_denied",
                 "subject": acr_id, "venue": venue, "reason": reason,
                 "source": self.config.service, "ts": time.time()}
        url = self.config.peer("security-events")
        if url and not granted:
            try:
                self._call("POST", f"{url}/events", event, timeout=3)
            except ClientError as exc:
                log.warning("security-events unreachable: %s", exc)
        return json_response({"granted": granted, "reason": reason, "venue": venue,
                              "accreditation_id": acr_id})

    async def download(self, request: Request) -> Response:
        """Initial download into ODS: records as ODF messages to the distributor."""
        body = request.json()
        limit = min(int(body.get("limit", 1000)), 100_000)
        per_message = max(1, min(int(body.get("per_message", 100)), 1000))
        url = self._peer("odf-distributor") + "/odf/messages"
        key = self.config.api_key()
        if not key:
            raise HttpError(409, "no ODF API key configured")
        name = next(iter(self.collections))
        records = await asyncio.to_thread(self._db, self.db.list, name, limit, 0, {})
        document_type, subtype = self.odf_download
        version = int(time.time()) - 1_700_000_000  # grows with every download
        abbrev = SERVICES[self.config.role]["collections"][name][0]
        sent = failed = 0
        for n, i in enumerate(range(0, len(records), per_message), 1):
            chunk = records[i:i + per_message]
            message = odf.build(document_type, f"{self.config.competition_code}-{abbrev}",
                                version, source=f"OMS{abbrev}",
                                competition_code=self.config.competition_code,
                                document_subcode=f"{n:05d}", document_subtype=subtype,
                                language="ENG", competition=_records_xml(name, chunk))
            try:
                response = await self.client.request(
                    "POST", url, odf.gzip(message),
                    {"Content-Encoding": "gzip", "Content-Type": "application/xml",
                     "X-API-KEY": key, odf.SENT_AT_HEADER: f"{time.time():.6f}"}, timeout=30)
                ok = response.status == 200
            except ClientError:
                ok = False
            sent += ok
            failed += not ok
        return json_response({"document_type": document_type, "records": len(records),
                              "messages": sent, "failed": failed, "version": version},
                             200 if not failed else 502)


def _records_xml(collection: str, records: list[dict]) -> str:
    if collection == "schedule_units":
        return "".join(
            f'<Unit Code="{odf._q(r.get("unit_code", ""))}" ScheduleStatus='
            f'"{odf._q(r.get("status", ""))}" StartDate="{odf._q(r.get("start", ""))}" '
            f'EndDate="{odf._q(r.get("end", ""))}" Venue="{odf._q(r.get("venue", ""))}">'
            f'<ItemName Language="ENG" Value="{odf._q(r.get("name", ""))}"/></Unit>'
            for r in records)
    if collection == "results":
        return "".join(
            f'<Record Code="{odf._q(r.get("result_id", ""))}" Edition="'
            f'{odf._q(r.get("edition", ""))}" Event="{odf._q(r.get("event", ""))}" '
            f'Rank="{r.get("rank", "")}" Result="{odf._q(r.get("result", ""))}" '
            f'Organisation="{odf._q(r.get("organisation", ""))}" GivenName="'
            f'{odf._q(r.get("given_name", ""))}" FamilyName="{odf._q(r.get("family_name", ""))}"/>'
            for r in records)
    return "".join(
        f'<Participant Code="{odf._q(r.get("accreditation_id") or r.get("entry_id") or r["id"])}"'
        f' GivenName="{odf._q(r.get("given_name", ""))}" FamilyName='
        f'"{odf._q(r.get("family_name", ""))}" Gender="{odf._q(r.get("gender", ""))}" '
        f'Organisation="{odf._q(r.get("organisation", ""))}" Status="ACTIVE"'
        + (f'><Discipline Code="{odf._q(r["discipline"])}"><RegisteredEvent Event='
           f'"{odf._q(r.get("event", ""))}"/></Discipline></Participant>'
           if r.get("discipline") else "/>")
        for r in records)


def _key_field(prefix: str, collection: str) -> str:
    return {"accreditations": "accreditation_id", "entries": "entry_id",
            "schedule_units": "schedule_id", "candidates": "candidate_id", "votes": "vote_id",
            "volunteers": "volunteer_id", "staff": "staff_id", "shifts": "shift_id",
            "results": "result_id"}.get(collection, "key")


def _int(raw: str) -> int:
    if not raw.isdigit():
        raise HttpError(400, f"record id must be an integer, got {raw!r}")
    return int(raw)


def _log_db_wait(state: RetryCallState) -> None:
    assert state.outcome is not None and state.next_action is not None
    log.warning("database not ready (%s); retrying in %.0f s", state.outcome.exception(),
                state.next_action.sleep)
