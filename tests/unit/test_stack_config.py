"""`replicator config get|set|rm`: round-trip edits of the stack files, validated first."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from replicator.errors import ExitCode, InputError
from replicator.stack_config import get_value, remove_value, set_value

REPO = Path(__file__).resolve().parents[2]
STACKS = ("paris2024-ctoc", "paris2024-itl", "paris2024-toc")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the project's paris2024 stack files and topology."""
    (tmp_path / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    shutil.copytree(REPO / "stacks", tmp_path / "stacks")
    return tmp_path


def texts(root: Path) -> dict[str, str]:
    return {s: (root / "stacks" / f"Pulumi.{s}.yaml").read_text() for s in STACKS}


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b), "lines were added or removed"
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_set_venues_all_on_the_edition_changes_one_line_per_file(root: Path) -> None:
    before = texts(root)
    paths = set_value(root, "replicator:venues", "all", edition="paris2024")
    assert sorted(p.name for p in paths) == sorted(f"Pulumi.{s}.yaml" for s in STACKS)
    after = texts(root)
    for stack in STACKS:
        assert changed_lines(before[stack], after[stack]) == [
            ("  replicator:venues: [AQC, STA, BER]", "  replicator:venues: all")]
        # comments stay where they were
        assert [line for line in after[stack].splitlines() if line.lstrip().startswith("#")] == \
            [line for line in before[stack].splitlines() if line.lstrip().startswith("#")]
    assert get_value(root, "venues", edition="paris2024") == dict.fromkeys(STACKS, "all")


def test_set_a_list_keeps_flow_style_and_get_reads_it(root: Path) -> None:
    set_value(root, "venues", "[AQC, LDA]", edition="paris2024")
    assert "  replicator:venues: [AQC, LDA]\n" in texts(root)["paris2024-toc"]
    assert get_value(root, "replicator:venues", stack="paris2024-toc") == {
        "paris2024-toc": ["AQC", "LDA"]}


def test_rm_removes_the_key_everywhere_and_keeps_the_rest(root: Path) -> None:
    before = texts(root)
    remove_value(root, "replicator:venues", edition="paris2024")
    after = texts(root)
    for stack in STACKS:
        assert "  replicator:venues:" not in after[stack]
        assert "replicator:imageTag: latest" in after[stack]
        assert len(after[stack].splitlines()) == len(before[stack].splitlines()) - 1
    assert get_value(root, "venues", edition="paris2024") == dict.fromkeys(STACKS)
    assert remove_value(root, "venues", edition="paris2024") == []  # nothing left to remove


def test_per_stack_keys_need_a_stack(root: Path) -> None:
    before = texts(root)
    with pytest.raises(InputError, match="differs per stack") as err:
        set_value(root, "replicator:dockerHost", "unix:///run/x.sock", edition="paris2024")
    assert err.value.exit_code == ExitCode.BAD_INPUT
    set_value(root, "replicator:dockerHost", "unix:///run/x.sock", stack="paris2024-toc")
    assert changed_lines(before["paris2024-toc"], texts(root)["paris2024-toc"]) == [(
        "  replicator:dockerHost: unix:///var/run/docker.sock",
        "  replicator:dockerHost: unix:///run/x.sock")]


@pytest.mark.parametrize(("key", "value", "target", "message"), [
    ("replicator:colour", "blue", {"edition": "paris2024"}, "unknown key"),
    ("aws:region", "eu-west-3", {"stack": "paris2024-itl"}, "unknown key"),
    ("venues", "[AQC, XYZ]", {"edition": "paris2024"}, "'XYZ' is not a venue of paris2024"),
    ("venues", "some", {"edition": "paris2024"}, "neither a list of venue codes nor 'all'"),
    ("venues", "[AQC", {"edition": "paris2024"}, "not valid YAML"),
    # one stack alone cannot select other venues than its edition's other stacks
    ("venues", "[AQC]", {"stack": "paris2024-toc"}, "differ from those of stack"),
    ("dockerHost", "localhost", {"stack": "paris2024-itl"}, "is not a Docker host URL"),
    ("publish", "{monitoring/web:80: 18080}", {"stack": "paris2024-ctoc"},
     "host port 18080 is also published by stack"),
    ("site", "moon", {"stack": "paris2024-toc"}, "must be named <edition>-<site>"),
])
def test_bad_keys_and_values_exit_2_and_change_nothing(root: Path, key: str, value: str,
                                                        target: dict, message: str) -> None:
    before = texts(root)
    with pytest.raises(InputError, match=message) as err:
        set_value(root, key, value, **target)
    assert err.value.exit_code == ExitCode.BAD_INPUT
    assert texts(root) == before


def test_removing_a_required_key_is_refused(root: Path) -> None:
    before = texts(root)
    with pytest.raises(InputError, match="replicator:subnets"):
        remove_value(root, "replicator:subnets", stack="paris2024-itl")
    assert texts(root) == before


def test_cli_round_trip_and_errors(root: Path) -> None:
    env = dict(os.environ, REPLICATOR_PROJECT=str(root), NO_COLOR="1", COLUMNS="200")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "replicator", "config", *args], env=env,
                              cwd=root, capture_output=True, text=True, timeout=120, check=False)

    assert cli("set", "replicator:venues", "all", "--edition", "paris2024").returncode == 0
    got = cli("get", "replicator:venues", "--edition", "paris2024")
    assert (got.returncode, got.stdout) == (0, "all\n")
    bad = cli("set", "replicator:nope", "1", "--edition", "paris2024")
    assert bad.returncode == 2
    assert "unknown key" in bad.stderr and "Traceback" not in bad.stderr
    both = cli("get", "venues", "--edition", "paris2024", "--stack", "paris2024-itl")
    assert both.returncode == 2 and "one of --stack or --edition" in " ".join(both.stderr.split())


def test_a_per_venue_service_publishes_one_stable_port_per_venue(root: Path) -> None:
    from replicator.stacks import check_stack

    set_value(root, "publish", "{operations-dashboard/web:80: 18083, ovr/app:8080: 18100}",
              stack="paris2024-toc")
    checked = check_stack(root, "paris2024-toc")
    ovr = {name: host for name, _tier, _port, host
           in checked.settings.published_targets(checked.topology) if name.startswith("ovr-")}
    codes = [v.code for v in checked.topology.venues]
    # the port follows the venue's place among the edition's 43 venues, not the selection
    assert ovr == {f"ovr-{c.lower()}": 18100 + codes.index(c) for c in ("AQC", "STA", "BER")}
    set_value(root, "venues", "all", edition="paris2024")
    checked = check_stack(root, "paris2024-toc")
    ports = [host for name, _t, _p, host in checked.settings.published_targets(checked.topology)
             if name.startswith("ovr-")]
    assert sorted(ports) == list(range(18100, 18100 + 43))


@pytest.mark.parametrize(("value", "message"), [
    # 18060..18102 holds itl's 18080 (same Docker host)
    ("{ovr/app:8080: 18060}", "host port 18080 is also published by stack paris2024-itl"),
    ("{ovr/app:8080: 18100, operations-dashboard/web:80: 18120}", "overlap"),
    ("{ovr/app:8080: 65530}", "beyond 65535"),
    ("{ovr/db:5432: 18100}", "has no db tier"),
])
def test_per_venue_port_ranges_must_not_collide(root: Path, value: str, message: str) -> None:
    before = texts(root)
    with pytest.raises(InputError, match=message):
        set_value(root, "publish", value, stack="paris2024-toc")
    assert texts(root) == before
