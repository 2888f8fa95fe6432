"""The report's figures against hand-computed values (see report_cases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replicator.errors import ExitCode, InputError
from replicator.report import model
from replicator.report.params import resolve_params
from replicator.topology import load_edition
from tests.unit.report.report_cases import MIB, hand_report, hand_topology

REPO = Path(__file__).resolve().parents[3]


def by_label(rows: list[dict], label: str) -> dict:
    return next(r for r in rows if r["label"] == label)


# --------------------------------------------------------------------------- the formulas


def test_formulas_by_hand() -> None:
    # 100 W idle, 300 W max, 25 % busy: 100 + 0.25 x 200 = 150 W.
    assert model.average_power_w(100, 300, 0.25) == 150
    # 3 servers x 150 W x 1,000 h x PUE 2 / 1000 = 900 kWh.
    assert model.annual_energy_kwh(3, 150, 1000, 2) == 900
    # 900 kWh x 50 g/kWh / 1000 = 45 kg.
    assert model.operational_kgco2e(900, 50) == 45
    # 3 servers x 1,000 kg / 5 years = 600 kg a year.
    assert model.embodied_kgco2e_per_year(3, 1000, 5) == 600
    assert model.ratio(719, 250) == pytest.approx(2.876)
    assert model.ratio(1, 0) is None


def test_fmt() -> None:
    assert model.fmt(319869.648) == "319,869.65"
    assert model.fmt(126) == "126"
    assert model.fmt(126.0) == "126"
    assert model.fmt(0.10931) == "0.1093"
    assert model.fmt(None) == "n/a"


# --------------------------------------------------------------------------- the small case


def test_servers_by_edition_small_case() -> None:
    data = hand_report()
    rows = data["servers_by_edition"]
    assert [(r["name"], r["physical_servers"], r["kind"], r["source"]) for r in rows] == [
        ("London 2012", 700, "public", "src-london"),
        ("Rio 2016", 350, "public", "src-rio"),
        ("Paris 2099 production", 8, "modelled", None),  # 3 + 1 + 2 venues x 2
        ("Paris 2099 replica", 1, "measured", None),
    ]


def test_production_footprint_small_case() -> None:
    fp = hand_report()["footprint"]["production"]
    rows = fp["rows"]
    # Every production server: 100 + 0.25 x (300 - 100) = 150 W; 150 x 1000 h x 2 / 1000
    # = 300 kWh a year; embodied 1000 / 5 = 200 kg a year.
    cloud = by_label(rows, "cloud-dc")
    assert (cloud["country"], cloud["servers"]) == ("FR", 3)
    assert cloud["average_w"]["value"] == 150
    assert cloud["energy_kwh"]["value"] == 900  # 3 x 300
    assert cloud["operational_kgco2e"]["value"] == 45  # 900 x 50 / 1000
    assert cloud["embodied_kgco2e"]["value"] == 600  # 3 x 200
    ctoc = by_label(rows, "ctoc-site")
    assert (ctoc["country"], ctoc["energy_kwh"]["value"]) == ("ES", 300)
    assert ctoc["operational_kgco2e"]["value"] == 30  # 300 x 100 / 1000
    venues_fr = by_label(rows, "competition venues in FR (1 venue)")
    assert venues_fr["operational_kgco2e"]["value"] == 30  # 600 x 50 / 1000
    venues_pf = by_label(rows, "competition venues in PF (1 venue)")
    assert venues_pf["operational_kgco2e"]["value"] == 120  # 600 x 200 / 1000
    assert fp["servers"]["value"] == 8
    assert fp["energy_kwh"]["value"] == 2400  # 8 x 300
    assert fp["operational_kgco2e"]["value"] == 225  # 45 + 30 + 30 + 120
    assert fp["embodied_kgco2e"]["value"] == 1600  # 8 x 200
    assert fp["total_kgco2e"]["value"] == 1825


def test_replica_footprint_small_case() -> None:
    data = hand_report()
    replica = data["replica"]
    assert replica["physical_hosts"] == 1
    assert replica["containers"]["running"] == 3
    assert replica["containers"]["by_stack"] == {
        "hand2099-ctoc": 1, "hand2099-itl": 1, "hand2099-toc": 1}
    assert replica["cpu"]["value"] == 100  # 50 + 30 + 20 % of one CPU
    assert replica["cpu_utilisation"]["value"] == 0.25  # 100 / (100 x 4 CPUs)
    assert replica["memory"]["value"] == 60 * MIB  # 10 + 20 + 30 MiB
    assert replica["country"] == "ES"  # the itl site's location (Madrid)
    fp = data["footprint"]["replica"]
    (row,) = fp["rows"]
    assert row["utilisation"]["value"] == 0.25
    assert row["average_w"]["value"] == 150  # 100 + 0.25 x 200
    assert row["energy_kwh"]["value"] == 112.5  # 1 x 150 x 500 h x 1.5 / 1000
    assert row["grid_g_per_kwh"] == 100
    assert row["operational_kgco2e"]["value"] == 11.25  # 112.5 x 100 / 1000
    assert row["embodied_kgco2e"]["value"] == 200  # 1 x 1000 / 5
    assert fp["total_kgco2e"]["value"] == 211.25


def test_ratios_small_case() -> None:
    ratios = {r["key"]: r for r in hand_report()["ratios"]}
    assert ratios["production-per-replica-host"]["value"] == 8  # 8 servers / 1 host
    assert ratios["containers-per-replica-host"]["value"] == 3
    assert ratios["london2012-to-rio2016"]["value"] == 2  # 700 / 350
    assert ratios["london2012-to-rio2016"]["change_percent"] == -50
    assert ratios["rio2016-to-hand2099"]["value"] == 43.75  # 350 / 8
    assert ratios["london2012-to-hand2099"]["value"] == 87.5  # 700 / 8
    assert ratios["co2e-production-per-replica"]["value"] == pytest.approx(1825 / 211.25)


def test_each_figure_shows_its_inputs() -> None:
    fp = hand_report()["footprint"]
    cloud = by_label(fp["production"]["rows"], "cloud-dc")
    assert cloud["average_w"]["formula"].endswith("= 100 + 0.25 x (300 - 100) = 150 W")
    assert cloud["energy_kwh"]["formula"].endswith("= 3 x 150 x 1,000 x 2 / 1000 = 900 kWh")
    assert cloud["operational_kgco2e"]["formula"] == (
        "kWh x grid_intensity.FR / 1000 = 900 x 50 / 1000 = 45 kgCO2e")
    assert cloud["embodied_kgco2e"]["formula"].endswith("= 3 x 1,000 / 5 = 600 kgCO2e")
    (row,) = fp["replica"]["rows"]
    assert "= 100 / (100 x 4) = 0.25" in row["utilisation"]["formula"]
    assert fp["replica"]["total_kgco2e"]["formula"] == (
        "operational + embodied = 11.25 + 200 = 211.25")


def test_user_set_utilisation_replaces_the_measured_one() -> None:
    from tests.unit.report.report_cases import HAND_SETS

    data = hand_report([*HAND_SETS, "replica.utilisation=0.5", "replica.country=FR"])
    (row,) = data["footprint"]["replica"]["rows"]
    assert row["utilisation"]["value"] == 0.5
    assert "measured 0.25" in row["utilisation"]["formula"]
    assert row["average_w"]["value"] == 200  # 100 + 0.5 x 200
    assert row["grid_g_per_kwh"] == 50  # FR
    inputs = {i["key"]: i for i in data["inputs"]}
    assert inputs["replica.utilisation"]["origin"] == "set by user"
    assert inputs["replica.country"]["value"] == "FR"


def test_inputs_table_covers_every_input_with_its_origin() -> None:
    inputs = {i["key"]: i for i in hand_report()["inputs"]}
    assert inputs["editions.london2012.physical_servers"]["origin"] == "public"
    assert inputs["editions.london2012.physical_servers"]["source"] == "src-london"
    assert inputs["editions.hand2099.physical_servers"]["origin"] == "modelled"
    assert inputs["production.servers[cloud-dc]"]["origin"] == "modelled"
    assert inputs["replica.physical_hosts"]["origin"] == "measured"
    assert inputs["replica.containers"]["value"] == 3
    assert inputs["replica.host[lab-host].cpu_percent"]["value"] == 100
    assert inputs["server.idle_w"]["origin"] == "set by user"  # HAND_SETS sets it
    assert inputs["replica.country"]["value"] == "ES"
    for row in inputs.values():
        assert row["origin"] in {"public", "modelled", "measured", "source", "assumption",
                                 "set by user"}, row


def test_sources_list_the_cited_ones() -> None:
    sources = {s["key"]: s for s in hand_report(sets=[])["sources"]}
    assert sources["src-london"]["url"] == "https://example.org/london"
    assert sources["src-rio"]["date"] == "2016-08-30"
    # The defaults' public sources.
    assert {"ccf-methodology", "grid-es-2023", "boavizta-server", "lbnl-server-power"} <= set(
        sources)


def test_missing_grid_intensity_names_the_country() -> None:
    params = resolve_params().values
    loads = [model.Load("somewhere", "DE", 1, model.Computed(0.5, "fraction", "x"))]
    with pytest.raises(InputError) as err:
        model.footprint("production", loads, params, pue=1.2, hours=8760)
    assert "country DE" in err.value.message
    assert "grid_intensity.DE" in (err.value.fix or "")
    assert err.value.exit_code == ExitCode.BAD_INPUT


def test_production_groups_of_one_site() -> None:
    groups = model.production_groups(hand_topology(), ["toc"])
    assert {(g.label, g.country, g.servers) for g in groups} == {
        ("competition venues in FR (1 venue)", "FR", 2),
        ("competition venues in PF (1 venue)", "PF", 2)}


# --------------------------------------------------------------------------- paris2024


def test_paris2024_production_with_the_default_parameters() -> None:
    topology = load_edition(REPO, "paris2024")
    groups = model.production_groups(topology)
    assert sum(g.servers for g in groups) == topology.production_physical_servers.value == 126
    by_country: dict[str, float] = {}
    for g in groups:
        by_country[g.country] = by_country.get(g.country, 0) + g.servers
    # cloud-dc-france 29 + toc-paris 3 + 41 French venues x 2; ctoc 6 + itl 2; Teahupo'o 2.
    assert by_country == {"FR": 116, "ES": 8, "PF": 2}
    params = resolve_params().values
    fp = model.footprint("production", model.production_loads(groups, params), params,
                         pue=1.2, hours=8760)
    # 118 + 0.5 x (365 - 118) = 241.5 W; x 8,760 h x 1.2 / 1000 = 2,538.648 kWh a server.
    assert fp.rows[0].watts.value == 241.5
    assert fp.energy_kwh.value == pytest.approx(126 * 2538.648)  # 319,869.648 kWh
    # 2,538.648 x (116 x 51 + 8 x 137 + 2 x 51) / 1000 = 2,538.648 x 7.114
    assert fp.operational_kg.value == pytest.approx(2538.648 * 7.114)  # 18,059.94 kg
    assert fp.embodied_kg.value == 126 * 3660 / 4 == 115290


def test_paris2024_three_venues_compare_like_with_like() -> None:
    topology = load_edition(REPO, "paris2024")
    # 126 servers in all; OVR counts 2 a venue: 3 of 43 venues leave out 40 x 2.
    scoped = model.production_groups(topology, venues=["AQC", "STA", "BER"])
    assert sum(g.servers for g in scoped) == 126 - 40 * 2
    coverage = model.venue_coverage(topology, ["AQC", "STA", "BER"])
    assert (coverage["replicated"], coverage["edition"]) == (3, 43)
    assert coverage["percent"] == pytest.approx(300 / 43)
    full = model.venue_coverage(topology, None)
    assert (full["replicated"], full["edition"], full["percent"]) == (43, 43, 100.0)


def test_the_report_states_coverage_and_the_whole_edition_beside() -> None:
    data = hand_report()
    venues = data["venues"]
    assert venues["replicated"] == venues["edition"] and venues["percent"] == 100.0
    whole = data["production"]["whole_edition"]["physical_servers"]["value"]
    assert whole == data["production"]["physical_servers"]["value"]
    assert f"{venues['replicated']} of {venues['edition']} venues" in \
        data["report"]["production_scope"]
