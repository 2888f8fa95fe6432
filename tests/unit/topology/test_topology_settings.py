"""Stack settings: stacks/Pulumi.<stack>.yaml and the Pulumi program's config."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from topology_text import edit, line_no

from replicator.topology import (
    StackSettings,
    Topology,
    TopologyError,
    check_stack_set,
    list_stacks,
    load_stack_settings,
    stack_settings_from_config,
)

TOC = """\
config:
  aws:region: eu-west-3
  replicator:edition: paris2024
  replicator:site: toc
  replicator:dockerHost: unix:///var/run/docker.sock
  replicator:subnets:
    lan: 10.241.3.0/24
    edge: 10.241.103.0/24
  replicator:venues:
    - AQC
    - STA
  replicator:imageTag: v1
  replicator:publish:
    operations-dashboard/web:80: 18083
    ovr-aqc/app:8080: 18084
"""


@pytest.fixture
def write_stack(tmp_path: Path):
    """Write `text` as tmp_path/stacks/Pulumi.<stack>.yaml; return (root, file)."""

    def write(text: str, stack: str = "paris2024-toc") -> tuple[Path, Path]:
        (tmp_path / "stacks").mkdir(exist_ok=True)
        path = tmp_path / "stacks" / f"Pulumi.{stack}.yaml"
        path.write_text(text, encoding="utf-8")
        return tmp_path, path

    return write


def _error(write_stack, text: str, stack: str = "paris2024-toc") -> tuple[TopologyError, Path]:
    root, path = write_stack(text, stack)
    with pytest.raises(TopologyError) as info:
        load_stack_settings(root, stack)
    assert info.value.location.file == path
    return info.value, path


def test_project_stacks(project_root: Path, paris: Topology) -> None:
    assert list_stacks(project_root) == ["paris2024-ctoc", "paris2024-itl", "paris2024-toc"]
    loaded = [load_stack_settings(project_root, stack) for stack in list_stacks(project_root)]
    for settings in loaded:
        settings.check_against(paris)
        assert settings.edition == "paris2024"
        assert settings.stack == f"paris2024-{settings.site}"
        assert settings.source_file == project_root / "stacks" / f"Pulumi.{settings.stack}.yaml"
        assert settings.subnets.lan != settings.subnets.edge
    check_stack_set(loaded)
    toc = next(s for s in loaded if s.site == "toc")
    assert toc.venues is not None and 3 <= len(toc.venues) <= 4
    # Every stack of the edition selects the same venues (check_stack_set enforces it).
    assert {s.site: s.venues for s in loaded if s.site != "toc"} == {"itl": toc.venues, "ctoc": toc.venues}
    itl = next(s for s in loaded if s.site == "itl")
    assert itl.publish == {"odf-distributor/app:8080": 18080, "wrs/web:80": 18081}


def test_file_settings(write_stack) -> None:
    root, path = write_stack(TOC)
    settings = load_stack_settings(root, "paris2024-toc")
    assert settings.stack == "paris2024-toc"
    assert settings.site == "toc"
    assert settings.subnets.lan == ipaddress.IPv4Network("10.241.3.0/24")
    assert settings.venues == ["AQC", "STA"]
    assert settings.image_tag == "v1"
    assert settings.publish == {"operations-dashboard/web:80": 18083, "ovr-aqc/app:8080": 18084}
    assert settings.published_targets() == [
        ("operations-dashboard", "web", 80, 18083),
        ("ovr-aqc", "app", 8080, 18084),
    ]
    assert settings.source_file == path


def test_defaults(write_stack) -> None:
    text = edit(TOC, "  replicator:dockerHost: unix:///var/run/docker.sock\n", "")
    text = edit(text, "  replicator:imageTag: v1\n", "")
    text = edit(text, "  replicator:venues:\n    - AQC\n    - STA\n", "")
    root, _ = write_stack(text)
    settings = load_stack_settings(root, "paris2024-toc")
    assert settings.docker_host == "unix:///var/run/docker.sock"
    assert settings.image_tag == "latest"
    assert settings.venues is None


def test_pulumi_config_form_equals_file_form(write_stack) -> None:
    root, path = write_stack(TOC)
    from_file = load_stack_settings(root, "paris2024-toc")
    # As the Pulumi program gets it: strings, objects JSON-encoded.
    config = {
        "replicator:edition": "paris2024",
        "replicator:site": "toc",
        "replicator:dockerHost": "unix:///var/run/docker.sock",
        "replicator:subnets": json.dumps({"lan": "10.241.3.0/24", "edge": "10.241.103.0/24"}),
        "replicator:venues": json.dumps(["AQC", "STA"]),
        "replicator:imageTag": "v1",
        "replicator:publish": json.dumps(
            {"operations-dashboard/web:80": 18083, "ovr-aqc/app:8080": 18084}
        ),
        "docker:host": "ignored: another namespace",
    }
    from_config = stack_settings_from_config(config, source=str(path))
    assert from_config == from_file
    # bare keys and parsed objects work too
    bare = {k.removeprefix("replicator:"): v for k, v in config.items() if "replicator:" in k}
    bare["subnets"] = {"lan": "10.241.3.0/24", "edge": "10.241.103.0/24"}
    assert stack_settings_from_config(bare, source=str(path)) == from_file


def test_config_errors_name_the_source_and_key() -> None:
    with pytest.raises(TopologyError) as info:
        stack_settings_from_config(
            {
                "replicator:edition": "paris2024",
                "replicator:site": "toc",
                "replicator:subnets": "{lan: 10.0.0.0/24",
            },
            source="stacks/Pulumi.paris2024-toc.yaml",
        )
    error = info.value
    assert error.location.file == Path("stacks/Pulumi.paris2024-toc.yaml")
    assert error.location.path == "config.replicator:subnets"
    assert "not valid JSON" in error.message
    assert error.location.line is None


def test_config_stack_name_given(paris: Topology) -> None:
    config = {
        "edition": "paris2024",
        "site": "itl",
        "subnets": {"lan": "10.241.1.0/24", "edge": "10.241.101.0/24"},
    }
    with pytest.raises(TopologyError) as info:
        stack_settings_from_config(config, source="x", stack="paris2024-toc")
    assert info.value.location.path == "config.replicator:site"
    stack_settings_from_config(config, source="x", stack="paris2024-itl").check_against(paris)


# (case id, snippet of TOC, replacement, expected path, text on the expected line, message)
CASES = [
    (
        "stack-name-mismatch",
        "replicator:site: toc",
        "replicator:site: ctoc",
        "config.replicator:site",
        "replicator:site:",
        "must be named <edition>-<site>",
    ),
    (
        "unknown-key",
        "  replicator:imageTag: v1\n",
        "  replicator:imageTag: v1\n  replicator:colour: red\n",
        "config.replicator:colour",
        "replicator:colour",
        "unknown setting replicator:colour",
    ),
    (
        "missing-subnets",
        "  replicator:subnets:\n    lan: 10.241.3.0/24\n    edge: 10.241.103.0/24\n",
        "",
        "config.replicator:subnets",
        "config:",
        "missing required key 'subnets'",
    ),
    (
        "public-subnet",
        "lan: 10.241.3.0/24",
        "lan: 1.2.3.0/24",
        "config.replicator:subnets.lan",
        "lan: 1.2.3.0/24",
        "not a private",
    ),
    (
        "bad-subnet",
        "lan: 10.241.3.0/24",
        "lan: 10.241.3.7/24",
        "config.replicator:subnets.lan",
        "lan: 10.241.3.7/24",
        "host bits",
    ),
    (
        "lan-edge-overlap",
        "edge: 10.241.103.0/24",
        "edge: 10.241.0.0/16",
        "config.replicator:subnets.edge",
        "edge: 10.241.0.0/16",
        "overlaps the lan subnet",
    ),
    (
        "unknown-subnet-key",
        "    edge: 10.241.103.0/24\n",
        "    edge: 10.241.103.0/24\n    dmz: 10.9.9.0/24\n",
        "config.replicator:subnets.dmz",
        "dmz:",
        "unknown key 'dmz'",
    ),
    (
        "host-port-too-low",
        "ovr-aqc/app:8080: 18084",
        "ovr-aqc/app:8080: 80",
        "config.replicator:publish.ovr-aqc/app:8080",
        "ovr-aqc/app:8080: 80",
        "greater than or equal to 1024",
    ),
    (
        "host-port-too-high",
        "ovr-aqc/app:8080: 18084",
        "ovr-aqc/app:8080: 70000",
        "config.replicator:publish.ovr-aqc/app:8080",
        "ovr-aqc/app:8080: 70000",
        "less than or equal to 65535",
    ),
    (
        "host-port-twice",
        "ovr-aqc/app:8080: 18084",
        "ovr-aqc/app:8080: 18083",
        "config.replicator:publish.ovr-aqc/app:8080",
        "ovr-aqc/app:8080",
        "already used by 'operations-dashboard/web:80'",
    ),
    (
        "publish-key-malformed",
        "ovr-aqc/app:8080: 18084",
        "ovr-aqc:8080: 18084",
        "config.replicator:publish.ovr-aqc:8080",
        "ovr-aqc:8080",
        "should match pattern",
    ),
    (
        "venue-twice",
        "    - STA\n",
        "    - AQC\n",
        "config.replicator:venues[1]",
        None,
        "venue AQC is listed twice",
    ),
    (
        "venue-lowercase",
        "    - STA\n",
        "    - sta\n",
        "config.replicator:venues[1]",
        "- sta",
        "should match pattern",
    ),
    (
        "empty-venues",
        "  replicator:venues:\n    - AQC\n    - STA\n",
        "  replicator:venues: []\n",
        "config.replicator:venues",
        "replicator:venues",
        "empty venue list",
    ),
    (
        "docker-host",
        "unix:///var/run/docker.sock",
        "/var/run/docker.sock",
        "config.replicator:dockerHost",
        "replicator:dockerHost",
        "not a Docker host URL",
    ),
    (
        "image-tag",
        "replicator:imageTag: v1",
        "replicator:imageTag: 'v 1'",
        "config.replicator:imageTag",
        "replicator:imageTag",
        "should match pattern",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "path", "line_text", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_stack_file(write_stack, old, new, path, line_text, message) -> None:
    text = edit(TOC, old, new)
    error, file = _error(write_stack, text)
    assert error.location.path == path
    if line_text is None:  # venue-twice: the second "- AQC"
        expected = max(i for i, line in enumerate(text.splitlines(), 1) if line == "    - AQC")
    else:
        expected = line_no(text, line_text)
    assert error.location.line == expected
    assert message in error.message
    assert error.fix
    assert f"{file}:{expected}: {path}: " in error.render()


def test_missing_stack_lists_stacks(write_stack) -> None:
    root, _ = write_stack(TOC)
    with pytest.raises(TopologyError) as info:
        load_stack_settings(root, "paris2024-moon")
    assert info.value.location.file == root / "stacks" / "Pulumi.paris2024-moon.yaml"
    assert info.value.fix == "use one of the stacks available: paris2024-toc"


def test_stack_file_without_config(write_stack) -> None:
    error, _ = _error(write_stack, "encryptionsalt: abc\n")
    assert error.location.path == "config"
    assert "config:" in error.message


def test_stack_file_yaml_error(write_stack) -> None:
    text = edit(TOC, "  replicator:site: toc\n", "  replicator:site: [toc\n")
    error, _ = _error(write_stack, text)
    assert "invalid YAML" in error.message
    assert error.location.line is not None


def _checked(write_stack, text: str, paris: Topology) -> TopologyError:
    root, path = write_stack(text)
    settings = load_stack_settings(root, "paris2024-toc")
    with pytest.raises(TopologyError) as info:
        settings.check_against(paris)
    assert info.value.location.file == path
    return info.value


def test_check_unknown_venue(write_stack, paris: Topology) -> None:
    text = edit(TOC, "    - STA\n", "    - XYZ\n")
    error = _checked(write_stack, text, paris)
    assert error.location.path == "config.replicator:venues[1]"
    assert error.location.line == line_no(text, "- XYZ")
    assert "'XYZ'" in error.message
    assert "AQC" in (error.fix or "")


def test_check_site_not_in_topology(write_stack, paris: Topology, tmp_path: Path) -> None:
    text = edit(TOC, "replicator:site: toc", "replicator:site: moon")
    root, _ = write_stack(text, "paris2024-moon")
    settings = load_stack_settings(root, "paris2024-moon")
    with pytest.raises(TopologyError) as info:
        settings.check_against(paris)
    assert info.value.location.path == "config.replicator:site"
    assert info.value.location.line == line_no(text, "replicator:site:")


def test_check_edition_mismatch(write_stack, paris: Topology) -> None:
    text = edit(TOC, "replicator:edition: paris2024", "replicator:edition: la2028")
    root, _ = write_stack(text, "la2028-toc")
    settings = load_stack_settings(root, "la2028-toc")
    with pytest.raises(TopologyError) as info:
        settings.check_against(paris)
    assert info.value.location.path == "config.replicator:edition"
    assert info.value.location.line == line_no(text, "replicator:edition:")


def test_check_subnet_inside_wan(write_stack, paris: Topology) -> None:
    text = edit(TOC, "lan: 10.241.3.0/24", "lan: 10.240.3.0/24")
    error = _checked(write_stack, text, paris)
    assert error.location.path == "config.replicator:subnets.lan"
    assert error.location.line == line_no(text, "lan: 10.240.3.0/24")
    assert "overlaps the WAN supernet 10.240.0.0/16" in error.message


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("wrs/web:80", "'wrs' is not deployed on site toc"),
        ("ovr-nts/app:8080", "'ovr-nts' is not deployed on site toc"),  # venue not selected
        ("ovr-aqc/db:5432", "'ovr-aqc' has no db tier"),
        ("ovr-aqc/app:9090", "ovr-aqc/app does not listen on port 9090"),
    ],
)
def test_check_publish(write_stack, paris: Topology, key: str, message: str) -> None:
    text = edit(TOC, "ovr-aqc/app:8080: 18084", f"{key}: 18084")
    error = _checked(write_stack, text, paris)
    assert error.location.path == f"config.replicator:publish.{key}"
    assert error.location.line == line_no(text, key)
    assert message in error.message


def test_stack_set_overlap_and_port_clash(write_stack) -> None:
    root, _ = write_stack(TOC)
    other = edit(TOC, "replicator:site: toc", "replicator:site: itl")
    other = edit(other, "edge: 10.241.103.0/24", "edge: 10.241.103.128/25")
    root, itl_path = write_stack(other, "paris2024-itl")
    toc = load_stack_settings(root, "paris2024-toc")
    itl = load_stack_settings(root, "paris2024-itl")
    with pytest.raises(TopologyError) as info:
        check_stack_set([toc, itl])
    error = info.value
    assert error.location.file == itl_path
    paths = [p.path for p in error.problems]
    assert paths[0] == "config.replicator:subnets.lan"
    assert "config.replicator:subnets.edge" in paths
    assert "config.replicator:publish.operations-dashboard/web:80" in paths
    assert error.location.line == line_no(other, "lan: 10.241.3.0/24")


def test_settings_are_frozen(project_root: Path) -> None:
    settings = load_stack_settings(project_root, "paris2024-itl")
    assert isinstance(settings, StackSettings)
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError
        settings.site = "toc"  # type: ignore[misc]


def test_stacks_of_one_edition_must_select_the_same_venues() -> None:
    from replicator.paths import find_project_root
    from replicator.topology import TopologyError, check_stack_set, load_stack_settings

    root = find_project_root()
    itl = load_stack_settings(root, "paris2024-itl")
    toc = load_stack_settings(root, "paris2024-toc")
    check_stack_set([itl, toc])  # the shipped stacks agree
    other = toc.model_copy(update={"venues": ["AQC"]})
    with pytest.raises(TopologyError) as info:
        check_stack_set([itl, other])
    assert "venues ['AQC'] differ from those of stack paris2024-itl" in str(info.value)
