"""Inventory generation from stack outputs + the topology model (replicator/configure/inventory.py)."""

from __future__ import annotations

import json

import pytest
from conftest import fake_outputs
from ruamel.yaml import YAML

from replicator.configure.inventory import (
    CONNECTION,
    REMOTE_CONNECTION,
    build_inventory,
    role_name,
)
from replicator.errors import ReplicatorError

ROLES_DIR = __import__("pathlib").Path(__file__).resolve().parents[3] / "roles"


def test_one_host_per_container_with_the_docker_connection(paris, paris_outputs):
    inv = build_inventory(paris, paris_outputs)
    expected = sorted(c for _, o in paris_outputs for c in o["containers"])
    assert inv.hosts == expected
    assert len(inv.hosts) == 40  # 3 venues in the stack files
    for host in inv.hosts:
        hv = inv.hostvars(host)
        assert hv["ansible_connection"] == CONNECTION
        assert hv["ansible_python_interpreter"] == "/usr/bin/python3"
        assert hv["replicator_docker_host"] == "unix:///var/run/docker.sock"


def test_a_stack_on_another_engine_uses_the_docker_api_connection_on_it(paris):
    """Mitogen's docker method cannot target another engine: those hosts go the classic way."""
    stacks = [("paris2024-itl", fake_outputs(paris, "itl", ["AQC"], "unix:///run/itl.sock")),
              ("paris2024-toc", fake_outputs(paris, "toc", ["AQC"], "tcp://127.0.0.1:2375")),
              ("paris2024-ctoc", fake_outputs(paris, "ctoc", ["AQC"]))]
    inv = build_inventory(paris, stacks)
    itl, toc = inv.hostvars("paris2024-itl-wrs-app-1"), inv.hostvars("paris2024-toc-ovr-aqc-app-1")
    assert (itl["ansible_connection"], itl["ansible_docker_docker_host"]) == \
        (REMOTE_CONNECTION, "unix:///run/itl.sock")
    assert (toc["ansible_connection"], toc["ansible_docker_docker_host"]) == \
        (REMOTE_CONNECTION, "tcp://127.0.0.1:2375")
    ctoc = inv.hostvars("paris2024-ctoc-monitoring-app-1")
    assert ctoc["ansible_connection"] == CONNECTION and "ansible_docker_docker_host" not in ctoc
    assert inv.docker_hosts == ["unix:///run/itl.sock", "tcp://127.0.0.1:2375",
                                "unix:///var/run/docker.sock"]


def test_a_site_spread_over_engines_reaches_each_container_on_its_own(paris):
    """A container's `dockerHost` output overrides its stack's engine, as host vars."""
    itl = fake_outputs(paris, "itl", ["AQC"])
    moved = sorted(itl["containers"])[::2]
    for name in moved:
        itl["containers"][name]["dockerHost"] = "unix:///run/itl2.sock"
    inv = build_inventory(paris, [("paris2024-itl", itl),
                                  ("paris2024-ctoc", fake_outputs(paris, "ctoc", ["AQC"]))])
    for name in itl["containers"]:
        hv = inv.hostvars(name)
        if name in moved:
            assert (hv["ansible_connection"], hv["ansible_docker_docker_host"],
                    hv["replicator_docker_host"]) == (
                REMOTE_CONNECTION, "unix:///run/itl2.sock", "unix:///run/itl2.sock"), name
        else:
            assert hv["ansible_connection"] == CONNECTION, name
            assert "ansible_docker_docker_host" not in hv, name
    assert inv.docker_hosts == ["unix:///var/run/docker.sock", "unix:///run/itl2.sock"]


def test_groups_by_site_suite_service_tier_and_venue(paris, paris_outputs):
    inv = build_inventory(paris, paris_outputs)
    assert set(inv.group("svc_accreditation")) == {
        "paris2024-itl-accreditation-web-1", "paris2024-itl-accreditation-app-1",
        "paris2024-itl-accreditation-app-2", "paris2024-itl-accreditation-db-1"}
    assert inv.group("svc_accreditation_db") == ["paris2024-itl-accreditation-db-1"]
    assert sorted(inv.group("svc_ovr")) == ["paris2024-toc-ovr-aqc-app-1",
                                           "paris2024-toc-ovr-ber-app-1",
                                           "paris2024-toc-ovr-sta-app-1"]
    assert inv.group("venue_aqc") == ["paris2024-toc-ovr-aqc-app-1"]
    assert "paris2024-ctoc-monitoring-web-1" in inv.group("site_ctoc")
    assert "paris2024-itl-wrs-app-1" in inv.group("suite_ods")
    assert len(inv.group("db")) == 5
    assert all(h.endswith(("-db-1",)) for h in inv.group("db"))
    assert set(inv.group("app")) | set(inv.group("web")) | set(inv.group("db")) == set(inv.hosts)
    assert inv.hostvars("paris2024-itl-cis-app-1")["replicator_lan_subnet"] == "10.241.1.0/24"


def test_every_service_has_a_role_directory(paris, paris_outputs):
    inv = build_inventory(paris, paris_outputs)
    roles = {inv.hostvars(h)["replicator_role"] for h in inv.hosts}
    assert len(roles) == 22
    for role in roles:
        assert (ROLES_DIR / role / "meta" / "main.yml").is_file(), role
    assert role_name("odf-distributor") == "odf_distributor"


def test_peers_follow_declared_links_whose_source_is_the_service(paris, paris_outputs):
    inv = build_inventory(paris, paris_outputs)
    ovr = inv.hostvars("paris2024-toc-ovr-aqc-app-1")
    assert ovr["replicator_peers"] == {
        "odf-distributor": "http://odf-distributor-app:8080",
        "competition-schedule": "http://competition-schedule-app:8080",
        "log-collector": "http://log-collector-app:8080"}
    assert ovr["replicator_venue"] == "AQC"
    assert ovr["replicator_venue_disciplines"] == ["DIV", "SWA", "WPO"]
    orchestrator = inv.hostvars("paris2024-itl-test-orchestrator-app-1")["replicator_peers"]
    assert orchestrator["wrs"] == "http://wrs-web:80"  # the link targets the web tier
    assert orchestrator["ovr-sta"] == "http://ovr-sta-app:8080"  # one entry per venue copy
    # a service's own tiers are not peers (the db has its own entry)
    assert "accreditation" not in inv.hostvars("paris2024-itl-accreditation-app-1")[
        "replicator_peers"]


def test_consumers_of_the_distributor(paris, paris_outputs):
    inv = build_inventory(paris, paris_outputs)
    for host in ("paris2024-itl-odf-distributor-app-1", "paris2024-itl-odf-distributor-app-2"):
        hv = inv.hostvars(host)
        assert hv["replicator_consumers"] == {"cis": "http://cis-app:8080",
                                              "myinfo": "http://myinfo-app:8080",
                                              "wrs": "http://wrs-app:8080",
                                              "rma": "http://rma-app:8080"}
        assert "log-collector" in hv["replicator_peers"]  # a peer, not an ODF consumer
    assert "replicator_consumers" not in inv.hostvars("paris2024-itl-wrs-app-1")


def test_monitor_targets_from_health_check_links(paris, paris_outputs):
    inv = build_inventory(paris, paris_outputs)
    targets = inv.hostvars("paris2024-ctoc-monitoring-app-1")["replicator_monitor_targets"]
    assert len(targets) == 23  # 21 health-check links, ovr fanned out to 3 venues
    assert {"service": "ovr-ber", "site": "toc", "url": "http://ovr-ber-app:8080/health"} in targets
    assert {"service": "accreditation", "site": "itl",
            "url": "http://accreditation-app:8080/health"} in targets
    assert "replicator_monitor_targets" not in inv.hostvars("paris2024-ctoc-monitoring-web-1")


def test_db_connection_for_services_with_a_db_tier(paris, paris_outputs):
    inv = build_inventory(paris, paris_outputs)
    assert inv.db_services == ["accreditation", "competition-schedule", "historical-results",
                               "sport-entries", "workforce"]
    app = inv.hostvars("paris2024-itl-sport-entries-app-1")
    assert app["replicator_db"] == {"host": "sport-entries-db", "port": 5432,
                                    "dbname": "sport_entries", "user": "sport_entries_app",
                                    "password_file": "/etc/replicator/secrets/db_password"}
    assert app["replicator_db_password_env"] == "REPLICATOR_DB_PASSWORD_SPORT_ENTRIES"
    db = inv.hostvars("paris2024-itl-sport-entries-db-1")
    assert db["replicator_db"]["dbname"] == "sport_entries"
    assert "replicator_db" not in inv.hostvars("paris2024-itl-wrs-app-1")
    assert "replicator_db" not in inv.hostvars("paris2024-itl-accreditation-web-1")


def test_web_tier_proxies_to_its_app_tier(paris, paris_outputs):
    inv = build_inventory(paris, paris_outputs)
    assert inv.hostvars("paris2024-itl-wrs-web-1")["replicator_upstream"] == "http://wrs-app:8080"
    assert inv.hostvars("paris2024-itl-wrs-web-1")["replicator_port"] == 80


def test_yaml_is_stable_and_holds_no_secret(paris, paris_outputs):
    first = build_inventory(paris, paris_outputs).to_yaml()
    second = build_inventory(paris, list(paris_outputs)).to_yaml()
    assert first == second
    data = YAML(typ="safe").load(first)
    assert data["all"]["vars"]["replicator_odf_api_key_env"] == "REPLICATOR_ODF_API_KEY"
    text = json.dumps(data).lower()
    assert "password\":" not in text.replace("password_file", "")


def test_single_stack_inventory_keeps_cross_site_peers(paris):
    inv = build_inventory(paris, [("paris2024-toc", fake_outputs(paris, "toc", ["AQC"]))])
    assert all(h.startswith("paris2024-toc-") for h in inv.hosts)
    assert inv.hostvars("paris2024-toc-ovr-aqc-app-1")["replicator_peers"]["odf-distributor"] \
        == "http://odf-distributor-app:8080"


def test_undeployed_stack_is_an_error(paris):
    with pytest.raises(ReplicatorError, match="has not been deployed"):
        build_inventory(paris, [("paris2024-itl", {})])
