"""Deployed services and resolved links on a small topology."""

from __future__ import annotations

from topology_text import MINIMAL, edit

from replicator.topology import Figure, Topology

SECOND_PER_VENUE = """\
      - name: scoreboard
        title: Scoreboard
        site: hub
        version: "1.0"
        per_venue: true
        tiers:
          - {kind: app, ports: [{port: 8080, protocol: http}]}
        production:
          location: venue
          physical_servers: {value: 1, modelled: true, basis: one per venue}
links:
  - {from: scoreboard/app, to: results/app, port: 8080, protocol: http, purpose: display}
"""


def test_minimal_topology(minimal: Topology) -> None:
    assert [d.name for d in minimal.deployed_services()] == ["api", "results-aaa", "results-bbb"]
    assert [d.name for d in minimal.deployed_services("lab")] == ["api"]
    assert [d.name for d in minimal.deployed_services("hub", ["BBB"])] == ["results-bbb"]
    assert minimal.service("api").suite == "core"
    assert minimal.source_file is not None and minimal.source_file.name == "demo2030.yaml"


def test_links_fan_out_to_every_venue_copy(minimal: Topology) -> None:
    names = [link.name for link in minimal.resolved_links()]
    assert names == [
        "api/app->api/db:5432",
        "results-aaa/app->api/app:8080",
        "results-bbb/app->api/app:8080",
    ]
    intra, upload, _ = minimal.resolved_links()
    assert not intra.cross_site
    assert upload.cross_site
    assert (upload.source_tier, upload.target_tier, upload.protocol) == ("app", "app", "http")
    assert upload.purpose == "results upload"


def test_links_between_per_venue_services_stay_at_the_venue(load_text) -> None:
    topology = load_text(edit(MINIMAL, "links:\n", SECOND_PER_VENUE))
    display = [link.name for link in topology.resolved_links() if link.purpose == "display"]
    assert display == [
        "scoreboard-aaa/app->results-aaa/app:8080",
        "scoreboard-bbb/app->results-bbb/app:8080",
    ]


def test_no_venue_selected_drops_venue_links(minimal: Topology) -> None:
    # An empty selection is allowed programmatically: nothing at venues.
    assert [d.name for d in minimal.deployed_services(None, [])] == ["api"]
    assert [link.name for link in minimal.resolved_links([])] == ["api/app->api/db:5432"]


def test_deployed_services_compare_by_site_and_name(minimal: Topology) -> None:
    first = minimal.deployed_services()
    again = minimal.deployed_services()
    assert first == again
    assert len(set(first) | set(again)) == 3
    assert len(set(minimal.resolved_links()) | set(minimal.resolved_links())) == 3


def test_physical_servers_total(minimal: Topology) -> None:
    total = minimal.production_physical_servers
    assert total.value == 2 + 1 * 2  # api, plus results at each of the two venues
    assert total.is_modelled and total.source is None


def test_figure_forms() -> None:
    cited = Figure(value=3, source="x")
    assert not cited.is_modelled
    assert str(cited) == "3 (source: x)"
    estimate = Figure.model_validate({"value": 2.5, "modelled": True, "basis": "guess"})
    assert estimate.is_modelled and estimate.value == 2.5
    assert isinstance(Figure(value=4.0, source="x").value, int)
