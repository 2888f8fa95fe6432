"""replicator's own application service, run inside the app-tier containers.

One process per container: ``python3 -m replicator_app /etc/replicator/app.json``.
The configured ``role`` picks the behaviour (see ``roles/``); every role serves
``/health``, ``/version`` and ``/metrics``. Debian bookworm's aiohttp,
prometheus-client, tenacity and psycopg2 (docs/app-contract.md, apps/README.md).
"""

CODE_VERSION = "1.0.0"
