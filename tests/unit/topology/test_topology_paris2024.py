"""The real paris2024 topology: counts, citations, services, links."""

from __future__ import annotations

import pytest

from replicator.topology import Topology, TopologyError

# From /work/shared/notes/games-facts.md: ODF discipline codes seen at Paris 2024.
DISCIPLINES = {
    "ARC",
    "ATH",
    "BDM",
    "BKB",
    "BK3",
    "BKG",
    "BMX",
    "BOX",
    "CLB",
    "CRD",
    "CSL",
    "CSP",
    "CTR",
    "DIV",
    "EQU",
    "FBL",
    "FEN",
    "GAR",
    "GLF",
    "GRY",
    "GTR",
    "HBL",
    "HOC",
    "JUD",
    "MPN",
    "MTB",
    "OWS",
    "ROW",
    "RU7",
    "SAL",
    "SHO",
    "SKB",
    "SRF",
    "SWA",
    "SWM",
    "TEN",
    "TKW",
    "TRI",
    "TTE",
    "VBV",
    "VVO",
    "WLF",
    "WPO",
    "WRE",
}

EXPECTED_SERVICES = {
    # OMS
    "accreditation": ("oms", "itl"),
    "sport-entries": ("oms", "itl"),
    "competition-schedule": ("oms", "itl"),
    "athletes-voting": ("oms", "itl"),
    "volunteer-portal": ("oms", "itl"),
    "workforce": ("oms", "itl"),
    # ODS
    "odf-distributor": ("ods", "itl"),
    "cis": ("ods", "itl"),
    "myinfo": ("ods", "itl"),
    "news-service": ("ods", "itl"),
    "wrs": ("ods", "itl"),
    "rma": ("ods", "itl"),
    "historical-results": ("ods", "itl"),
    # venues
    "ovr": ("ovr", "toc"),
    # CTOC supervision
    "monitoring": ("ctoc", "ctoc"),
    "log-collector": ("ctoc", "ctoc"),
    "security-events": ("ctoc", "ctoc"),
    # TOC command and control
    "operations-dashboard": ("toc", "toc"),
    "service-desk": ("toc", "toc"),
    "venue-results-monitor": ("toc", "toc"),
    # ITL test tooling
    "test-orchestrator": ("itl-tools", "itl"),
    "odf-replayer": ("itl-tools", "itl"),
}

DEFAULT_VENUES = ["AQC", "STA", "BER"]


def test_edition(paris: Topology) -> None:
    assert paris.edition.code == "paris2024"
    assert paris.edition.competition_code == "OG2024"
    assert paris.edition.host_city == "Paris"
    assert set(paris.sites) == {"itl", "ctoc", "toc"}
    assert paris.sites["itl"].name == "itl"
    assert paris.wan.owner == "ctoc"
    assert str(paris.wan.supernet) == "10.240.0.0/16"


def test_43_competition_venues_cited(paris: Topology) -> None:
    figure = paris.edition.competition_venues
    assert figure is not None
    assert figure.value == 43
    assert not figure.is_modelled
    assert figure.source in paris.sources
    venues = paris.venues
    assert len(venues) == 43
    codes = [v.code for v in venues]
    assert len(set(codes)) == 43
    assert all(code is not None and len(code) == 3 for code in codes)
    assert all(v.title for v in venues)


def test_venue_disciplines_come_from_the_odf_list_and_cover_it(paris: Topology) -> None:
    used = {d for venue in paris.venues for d in venue.disciplines}
    assert used <= DISCIPLINES
    assert used == DISCIPLINES  # every Paris 2024 discipline has a venue


def test_known_venues(paris: Topology) -> None:
    by_code = {v.code: v for v in paris.venues}
    assert by_code["AQC"].title == "Paris Aquatics Centre"
    assert by_code["AQC"].disciplines == ("DIV", "SWA", "WPO")
    assert "ATH" in by_code["STA"].disciplines
    assert by_code["THP"].country == "PF"  # Teahupo'o, Tahiti


def test_every_service_is_present_on_its_site(paris: Topology) -> None:
    actual = {s.name: (s.suite, s.site) for s in paris.services}
    assert actual == EXPECTED_SERVICES
    assert [s.name for s in paris.suites] == ["oms", "ods", "ovr", "ctoc", "toc", "itl-tools"]


def test_only_ovr_is_per_venue(paris: Topology) -> None:
    assert [s.name for s in paris.services if s.per_venue] == ["ovr"]
    ovr = paris.service("ovr")
    assert ovr.production.location == "venue"
    assert [t.kind for t in ovr.tiers] == ["app"]


def test_production_locations(paris: Topology) -> None:
    assert paris.service("accreditation").production.location == "cloud-dc-france"
    assert paris.location("cloud-dc-france").kind == "cloud-dc"
    assert paris.service("monitoring").production.location == "ctoc-barcelona"
    assert paris.location(paris.sites["toc"].location).country == "FR"
    assert paris.location(paris.sites["itl"].location).city == "Madrid"


def test_ports_follow_the_convention(paris: Topology) -> None:
    expected = {"web": (80, "http"), "app": (8080, "http"), "db": (5432, "postgres")}
    for service in paris.services:
        for tier in service.tiers:
            assert [(p.port, p.protocol) for p in tier.ports] == [expected[tier.kind]], service.name


def test_unknown_service_lists_the_names(paris: Topology) -> None:
    with pytest.raises(TopologyError) as info:
        paris.service("nope")
    assert "accreditation" in (info.value.fix or "")
    assert "'nope'" in info.value.message


def test_editions_history_is_cited(paris: Topology) -> None:
    history = {h.edition: h for h in paris.editions_history}
    assert {k: h.physical_servers.value for k, h in history.items()} == {
        "london2012": 719,
        "rio2016": 250,
        "tokyo2020": 130,
    }
    for entry in history.values():
        assert entry.physical_servers.source in paris.sources
    assert "just over 130" in (history["tokyo2020"].note or "")


def test_production_physical_servers_is_a_modelled_sum(paris: Topology) -> None:
    total = paris.production_physical_servers
    assert total.is_modelled
    assert total.basis and "43 venues" in total.basis
    expected = sum(
        s.production.physical_servers.value * (43 if s.per_venue else 1) for s in paris.services
    )
    assert total.value == expected
    assert isinstance(total.value, int)
    # Every per-service figure is an estimate: there is no public Paris 2024 count.
    assert all(s.production.physical_servers.is_modelled for s in paris.services)


def test_deployed_services_expand_ovr_per_venue(paris: Topology) -> None:
    toc = paris.deployed_services("toc", DEFAULT_VENUES)
    names = [d.name for d in toc]
    assert names == [
        "ovr-aqc",
        "ovr-sta",
        "ovr-ber",
        "operations-dashboard",
        "service-desk",
        "venue-results-monitor",
    ]
    ovr_aqc = toc[0]
    assert ovr_aqc.venue is not None and ovr_aqc.venue.code == "AQC"
    assert ovr_aqc.suite == "ovr"
    assert ovr_aqc.site == "toc"
    assert ovr_aqc.container_names("paris2024") == ["paris2024-toc-ovr-aqc-app-1"]
    # all venues by default
    assert len([d for d in paris.deployed_services("toc") if d.service.per_venue]) == 43
    # venue codes are case-insensitive, duplicates collapse
    assert [d.name for d in paris.deployed_services("toc", ["aqc", "AQC"])][:1] == ["ovr-aqc"]


def test_container_names(paris: Topology) -> None:
    accreditation = next(d for d in paris.deployed_services("itl") if d.name == "accreditation")
    assert accreditation.container_names("paris2024") == [
        "paris2024-itl-accreditation-web-1",
        "paris2024-itl-accreditation-app-1",
        "paris2024-itl-accreditation-app-2",
        "paris2024-itl-accreditation-db-1",
    ]


def test_default_selection_stays_small(paris: Topology) -> None:
    containers = [
        name
        for site in paris.sites
        for d in paris.deployed_services(site, DEFAULT_VENUES)
        for name in d.container_names("paris2024")
    ]
    assert len(containers) < 45
    assert len(set(containers)) == len(containers)


def test_unknown_venue_and_site(paris: Topology) -> None:
    with pytest.raises(TopologyError) as info:
        paris.deployed_services("toc", ["AQC", "XYZ"])
    assert "XYZ" in info.value.message
    assert "AQC" in (info.value.fix or "")
    with pytest.raises(TopologyError) as info:
        paris.deployed_services("moon")
    assert "'moon'" in info.value.message


def test_every_link_end_resolves(paris: Topology) -> None:
    links = paris.resolved_links(DEFAULT_VENUES)
    deployed = {d.name: d for d in paris.deployed_services(None, DEFAULT_VENUES)}
    ovr_links = [
        link for link in paris.links if "ovr" in (link.source_service, link.target_service)
    ]
    assert len(links) == len(paris.links) - len(ovr_links) + 3 * len(ovr_links)
    for link in links:
        assert deployed[link.source.name] == link.source
        assert deployed[link.target.name] == link.target
        assert link.source.service.tier(link.source_tier) is not None
        target_tier = link.target.service.tier(link.target_tier)
        assert target_tier is not None
        assert target_tier.port(link.port).protocol == link.protocol
    assert len({link.name for link in links}) == len(links)


def test_results_chain_crosses_sites(paris: Topology) -> None:
    links = {link.name: link for link in paris.resolved_links(DEFAULT_VENUES)}
    for code in ("aqc", "sta", "ber"):
        upload = links[f"ovr-{code}/app->odf-distributor/app:8080"]
        assert upload.cross_site
        assert (upload.source.site, upload.target.site) == ("toc", "itl")
        assert links[f"odf-replayer/app->ovr-{code}/app:8080"].cross_site
    for consumer in ("cis", "myinfo", "wrs", "rma"):
        assert not links[f"odf-distributor/app->{consumer}/app:8080"].cross_site
    assert not links["news-service/app->myinfo/app:8080"].cross_site
    assert links["operations-dashboard/app->monitoring/app:8080"].cross_site
    assert not links["venue-results-monitor/app->ovr-aqc/app:8080"].cross_site


def test_monitoring_checks_every_other_service(paris: Topology) -> None:
    watched = {
        link.target.name
        for link in paris.resolved_links(DEFAULT_VENUES)
        if link.source.name == "monitoring" and link.purpose == "health check"
    }
    everyone = {d.name for d in paris.deployed_services(None, DEFAULT_VENUES)} - {"monitoring"}
    assert watched == everyone


def test_resolved_links_for_one_site(paris: Topology) -> None:
    ctoc = paris.resolved_links(DEFAULT_VENUES, site="ctoc")
    assert ctoc
    assert all("ctoc" in (link.source.site, link.target.site) for link in ctoc)
    everything = paris.resolved_links(DEFAULT_VENUES)
    assert len(ctoc) == sum("ctoc" in (x.source.site, x.target.site) for x in everything)
