"""The host override laid over the stack files, placement across engines, the hosts' plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replicator.errors import ExitCode, InputError
from replicator.hosts.model import HOSTS_SUBNET, plan_hosts
from replicator.hosts.override import override_path
from replicator.naming import place
from replicator.topology import TopologyError, load_stack_settings, stack_settings_from_config

ROOT = Path(__file__).resolve().parents[3]
ENGINES = [f"unix:///run/rh/e-h{i}.sock" for i in range(1, 5)]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REPLICATOR_HOME", str(tmp_path))
    return tmp_path


def write_override(stacks: dict[str, dict[str, object]], edition: str = "paris2024") -> Path:
    path = override_path(ROOT, edition)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"edition": edition, "stacks": stacks}))
    return path


# ------------------------------------------------------------------ placement


def test_placement_is_deterministic_and_ignores_the_engines_order() -> None:
    names = [f"paris2024-itl-svc{i}-app-1" for i in range(200)]
    first = {n: place(n, ENGINES[:3]) for n in names}
    assert first == {n: place(n, list(reversed(ENGINES[:3]))) for n in names}
    assert set(first.values()) == set(ENGINES[:3])  # every engine gets some


def test_adding_an_engine_moves_only_containers_to_the_new_one() -> None:
    names = [f"paris2024-itl-svc{i}-app-1" for i in range(300)]
    before = {n: place(n, ENGINES[:3]) for n in names}
    after = {n: place(n, ENGINES) for n in names}
    moved = [n for n in names if before[n] != after[n]]
    assert moved and all(after[n] == ENGINES[3] for n in moved)
    assert len(moved) < len(names) / 2


def test_one_engine_takes_everything_and_none_is_refused() -> None:
    assert place("x", ENGINES[:1]) == ENGINES[0]
    with pytest.raises(ValueError):
        place("x", [])


# ------------------------------------------------------------------ override


def test_no_override_keeps_the_stack_file(home: Path) -> None:
    settings = load_stack_settings(ROOT, "paris2024-itl")
    assert settings.docker_host == "unix:///var/run/docker.sock"
    assert settings.engines == [settings.docker_host] and settings.wan_encrypted is True


def test_override_is_laid_over_the_stack_file_without_touching_it(home: Path) -> None:
    tracked = (ROOT / "stacks" / "Pulumi.paris2024-itl.yaml").read_text()
    write_override({"paris2024-itl": {"dockerHost": ENGINES[0], "dockerHosts": ENGINES[:2],
                                      "wanEncrypted": False}})
    settings = load_stack_settings(ROOT, "paris2024-itl")
    assert settings.docker_host == ENGINES[0]
    assert settings.engines == ENGINES[:2] and settings.wan_encrypted is False
    assert str(settings.subnets.lan) == "10.241.1.0/24"  # everything else from the file
    assert load_stack_settings(ROOT, "paris2024-toc").docker_host.endswith("docker.sock")
    assert (ROOT / "stacks" / "Pulumi.paris2024-itl.yaml").read_text() == tracked


def test_the_program_config_gets_the_same_override(home: Path) -> None:
    write_override({"paris2024-toc": {"dockerHost": ENGINES[2]}})
    config = {"edition": "paris2024", "site": "toc", "dockerHost": "unix:///var/run/docker.sock",
              "subnets": json.dumps({"lan": "10.241.3.0/24", "edge": "10.241.103.0/24"})}
    settings = stack_settings_from_config(config, source="stacks/Pulumi.paris2024-toc.yaml",
                                          stack="paris2024-toc", project_root=ROOT)
    assert settings.docker_host == ENGINES[2]
    plain = stack_settings_from_config(config, source="x", stack="paris2024-toc")
    assert plain.docker_host == "unix:///var/run/docker.sock"


def test_a_broken_override_is_bad_input_naming_the_file_and_the_fix(home: Path) -> None:
    path = write_override({"paris2024-itl": {"dockerHost": ENGINES[0], "colour": "red"}})
    with pytest.raises(InputError) as caught:
        load_stack_settings(ROOT, "paris2024-itl")
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert str(path) in caught.value.render() and "hosts up" in caught.value.render()


def test_docker_hosts_must_hold_docker_host_and_be_urls(home: Path) -> None:
    write_override({"paris2024-itl": {"dockerHost": ENGINES[3], "dockerHosts": ENGINES[:2]}})
    with pytest.raises(TopologyError, match="not among dockerHosts"):
        load_stack_settings(ROOT, "paris2024-itl")
    write_override({"paris2024-itl": {"dockerHost": ENGINES[0], "dockerHosts": [ENGINES[0],
                                                                                "host:2375"]}})
    with pytest.raises(TopologyError, match="not a Docker host URL"):
        load_stack_settings(ROOT, "paris2024-itl")


# ------------------------------------------------------------------ the hosts' plan


def test_plan_names_are_unique_short_and_managers_lead_each_site(tmp_path: Path) -> None:
    record = plan_hosts(tmp_path, "it1a2b3c", ["ctoc", "itl", "toc"], 3,
                        manager_sites=["ctoc", "itl", "toc"])
    assert [h.name for h in record.hosts][:4] == ["ctoc1", "ctoc2", "ctoc3", "itl1"]
    for attr in ("namespace", "address", "socket", "data_root", "veth_lan"):
        values = [getattr(h, attr) for h in record.hosts]
        assert len(set(values)) == len(values), attr
    assert all(len(h.veth_lan) <= 15 and len(h.socket) < 100 for h in record.hosts)
    import ipaddress
    assert all(ipaddress.ip_address(h.address) in HOSTS_SUBNET for h in record.hosts)
    assert [h.name for h in record.hosts if h.manager] == ["ctoc1", "itl1", "toc1"]
    assert record.lan_namespace not in {h.namespace for h in record.hosts}


# ------------------------------------------------------------------ addresses


def test_client_options_per_scheme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from replicator.docker_client import client_options

    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    monkeypatch.delenv("DOCKER_CERT_PATH", raising=False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert client_options("unix:///run/docker.sock") == {}
    assert client_options("ssh://ops@site-b") == {"use_ssh_client": True}
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    tls = client_options("tcp://site-b:2376")["tls"]
    assert tls.verify is True and tls.ca_cert == str(tmp_path / "ca.pem")
    assert tls.cert == (str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))


# ------------------------------------------------------------------ a host that is down


def test_verify_names_the_down_host_and_its_containers(home: Path) -> None:
    from types import SimpleNamespace as NS

    from replicator.hosts.model import plan_hosts, save_record
    from verify.test_conformance import _engine_problems

    record = plan_hosts(ROOT, "paris2024", ["ctoc", "toc"], 1, manager_sites=["ctoc", "toc"])
    save_record(ROOT, record)
    toc = record.host("toc").docker_host
    replica = NS(root=ROOT, stacks={"paris2024-toc": NS(name="paris2024-toc", docker_host=toc)})
    expectation = NS(all_containers={
        "a": NS(name="paris2024-toc-ovr-aqc-app-1", stack="paris2024-toc", docker_host=toc),
        "b": NS(name="paris2024-ctoc-monitoring-app-1", stack="paris2024-ctoc",
                docker_host=record.host("ctoc").docker_host)})
    observation = NS(engine_errors={toc: f"cannot reach the Docker engine at {toc}: refused"})
    [problem] = _engine_problems(replica, expectation, observation)
    assert problem.startswith("host toc: cannot reach") and "ovr-aqc-app-1" in problem
    assert "monitoring" not in problem  # on another engine


def test_status_fits_80_columns_with_every_name_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from replicator.cli import deploy
    from replicator.status import ContainerStatus

    topo_names = ["venue-results-monitor-app-1", "operations-dashboard-web-1",
                  "competition-schedule-db-1"]
    rows = [ContainerStatus("toc", "ods", n.rsplit("-", 2)[0], n.split("-")[-2],
                            f"paris2024-toc-{n}", "running",
                            ["paris2024-toc-lan", "paris2024-toc-edge",
                             *[f"paris2024-wan-a--b{i}" for i in range(19)]],
                            "paris2024-toc", "unix:///run/rh/paris2024-toc.sock", "toc")
            for n in topo_names]
    console = Console(width=80, record=True, force_terminal=False)
    monkeypatch.setattr(deploy, "console", console)
    deploy._print_status(rows)
    text = console.export_text()
    assert "…" not in text and all(n in text for n in topo_names)
    assert max(len(line) for line in text.splitlines()) <= 80
