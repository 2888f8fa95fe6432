"""Pieces of test topology documents shared by the unit and integration tests: the
edition header, the three permanent sites with their locations, venues and services.
Each test file keeps only what makes its topology its own (suites, links, history)."""

from __future__ import annotations

from typing import Any

MODELLED = {"value": 1, "modelled": True, "basis": "test topology"}


def venue(code: str, title: str, disciplines: list[str], *, city: str = "Paris",
          country: str = "FR") -> dict[str, Any]:
    return {"name": f"venue-{code.lower()}", "kind": "venue", "code": code, "title": title,
            "city": city, "country": country, "disciplines": disciplines}


def service(name: str, site: str, tiers: list[tuple[str, int, int]], *, per_venue: bool = False,
            version: str = "1.0.0", title: str | None = None) -> dict[str, Any]:
    """A service with (kind, instances, port) tiers; db tiers speak postgres, others http."""
    return {
        "name": name, "title": title or name.replace("-", " ").title(), "site": site,
        "version": version, **({"per_venue": True} if per_venue else {}),
        "tiers": [{"kind": k, "instances": n,
                   "ports": [{"port": p, "protocol": "postgres" if k == "db" else "http"}]}
                  for k, n, p in tiers],
        "production": {"location": "venue" if per_venue else "cloud-dc",
                       "physical_servers": dict(MODELLED)},
    }


def edition_skeleton(edition: str, wan_supernet: str, venues: list[dict[str, Any]], *,
                     name: str = "Integration test Games") -> dict[str, Any]:
    """Edition, WAN, the ITL/CTOC/TOC sites and their locations, a cloud DC and `venues`."""
    return {
        "edition": {"code": edition, "name": name, "competition_code": "OG2099",
                    "host_city": "Paris", "country": "FR", "year": 2099},
        "wan": {"owner": "ctoc", "supernet": wan_supernet},
        "sites": {"itl": {"title": "Lab", "location": "itl-site"},
                  "ctoc": {"title": "Central", "location": "ctoc-site"},
                  "toc": {"title": "Host city", "location": "toc-site"}},
        "locations": [
            {"name": "itl-site", "kind": "permanent-site", "city": "Madrid", "country": "ES"},
            {"name": "ctoc-site", "kind": "permanent-site", "city": "Barcelona", "country": "ES"},
            {"name": "toc-site", "kind": "permanent-site", "city": "Paris", "country": "FR"},
            {"name": "cloud-dc", "kind": "cloud-dc", "city": "Paris", "country": "FR"},
            *venues,
        ],
    }
