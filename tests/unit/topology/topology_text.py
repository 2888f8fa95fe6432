"""Topology text the bad-input tests break one snippet at a time, and helpers.

A module with a unique name (not conftest) so that `from topology_text import ...`
cannot pick up another directory's conftest.
"""

from __future__ import annotations

# Small but complete: two sites, a cloud, two venues, a central service with
# two tiers and a per-venue service. Tests replace one unique snippet in it.
MINIMAL = """\
edition: {code: demo2030, name: Demo Games, competition_code: OG2030, host_city: Lyon, country: FR, year: 2030}
sources:
  demo-source: {title: Demo source, publisher: Nobody, date: 2020-01-01}
  other-source: {title: Other source, publisher: Nobody}
wan: {owner: hub, supernet: 10.250.0.0/16}
sites:
  lab: {title: Lab, location: lab-site}
  hub: {title: Hub, location: hub-site}
locations:
  - {name: lab-site, kind: permanent-site, city: Madrid, country: ES}
  - {name: hub-site, kind: permanent-site, city: Barcelona, country: ES}
  - {name: cloud, kind: cloud-dc, city: Paris, country: FR}
  - {name: venue-aaa, kind: venue, code: AAA, title: Arena A, city: Lyon, country: FR, disciplines: [SWM]}
  - {name: venue-bbb, kind: venue, code: BBB, title: Arena B, city: Lyon, country: FR, disciplines: [ATH]}
suites:
  - name: core
    title: Core
    services:
      - name: api
        title: API
        site: lab
        version: "1.0"
        tiers:
          - kind: app
            instances: 2
            ports:
              - {port: 8080, protocol: http}
          - kind: db
            ports:
              - {port: 5432, protocol: postgres}
        production:
          location: cloud
          physical_servers: {value: 2, modelled: true, basis: a guess}
      - name: results
        title: Results
        site: hub
        version: "1.0"
        per_venue: true
        tiers:
          - kind: app
            ports:
              - {port: 8080, protocol: http}
        production:
          location: venue
          physical_servers: {value: 1, source: demo-source}
links:
  - {from: api/app, to: api/db, port: 5432, protocol: postgres, purpose: records}
  - {from: results/app, to: api/app, port: 8080, protocol: http, purpose: results upload}
"""


def edit(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced (fails if not exactly one)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_no(text: str, needle: str) -> int:
    """1-based line of the only line of `text` containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}"
    return hits[0]
