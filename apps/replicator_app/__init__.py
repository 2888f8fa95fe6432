"""replicator's own application service, run inside the app-tier containers.

One process per container: ``python3 -m replicator_app /etc/replicator/app.json``.
The configured ``role`` picks the behaviour (see ``roles/``); every role serves
``/health``, ``/version`` and ``/metrics``. Standard library only, plus
``psycopg2`` for the roles that have a PostgreSQL tier (docs/app-contract.md).
"""

CODE_VERSION = "1.0.0"
