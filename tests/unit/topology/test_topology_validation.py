"""Every kind of bad topology input gives a TopologyError naming the file, the
path inside it, the 1-based line and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from topology_text import MINIMAL, edit, line_no

from replicator.errors import ExitCode, InputError
from replicator.topology import TopologyError, load_edition, load_topology

SECOND_SUITE = """\
  - name: extra
    title: Extra
    services:
      - name: api
        title: Another API
        site: lab
        version: "2.0"
        tiers:
          - {kind: app, ports: [{port: 8080, protocol: http}]}
        production:
          location: cloud
          physical_servers: {value: 1, modelled: true, basis: a guess}
links:
"""

# (case id, snippet of MINIMAL, replacement, expected path, text on the expected line,
#  fragment of the message)
CASES = [
    (
        "unknown-service-key",
        '        version: "1.0"\n        tiers:\n          - kind: app\n            instances: 2',
        (
            '        version: "1.0"\n        colour: red\n        tiers:\n'
            "          - kind: app\n            instances: 2"
        ),
        "suites[0].services[0].colour",
        "colour: red",
        "unknown key 'colour'",
    ),
    (
        "unknown-key-in-flow-mapping",
        "- {port: 5432, protocol: postgres}",
        "- {port: 5432, protocol: postgres, tls: true}",
        "suites[0].services[0].tiers[1].ports[0].tls",
        "tls: true",
        "unknown key 'tls'",
    ),
    (
        "wrong-type-int",
        "instances: 2",
        "instances: two",
        "suites[0].services[0].tiers[0].instances",
        "instances: two",
        "valid integer",
    ),
    (
        "wrong-type-str",
        'version: "1.0"\n        tiers:\n          - kind: app\n            instances',
        "version: 1.0\n        tiers:\n          - kind: app\n            instances",
        "suites[0].services[0].version",
        "version: 1.0",
        "valid string",
    ),
    (
        "wrong-type-list",
        "disciplines: [SWM]",
        "disciplines: 7",
        "locations[3].disciplines",
        "disciplines: 7",
        "valid tuple",
    ),
    (
        "bad-literal",
        "- {port: 5432, protocol: postgres}",
        "- {port: 5432, protocol: mysql}",
        "suites[0].services[0].tiers[1].ports[0].protocol",
        "protocol: mysql",
        "'http', 'https', 'postgres' or 'tcp'",
    ),
    (
        "port-out-of-range",
        "- {port: 5432, protocol: postgres}",
        "- {port: 70000, protocol: postgres}",
        "suites[0].services[0].tiers[1].ports[0].port",
        "port: 70000",
        "less than or equal to 65535",
    ),
    (
        "missing-required-key",
        "        site: lab\n",
        "",
        "suites[0].services[0].site",
        "- name: api",  # the key is absent: the line of the service that lacks it
        "missing required key 'site'",
    ),
    (
        "link-unknown-service",
        "to: api/db,",
        "to: nope/db,",
        "links[0].to",
        "to: nope/db",
        "'nope' is not a service",
    ),
    (
        "link-tier-missing",
        "to: api/db,",
        "to: api/web,",
        "links[0].to",
        "to: api/web",
        "no 'web' tier",
    ),
    (
        "link-source-tier-missing",
        "{from: results/app,",
        "{from: results/db,",
        "links[1].from",
        "from: results/db",
        "no 'db' tier",
    ),
    (
        "link-port-not-listened",
        "to: api/app, port: 8080",
        "to: api/app, port: 9090",
        "links[1].port",
        "port: 9090",
        "does not listen on port 9090",
    ),
    (
        "link-protocol-mismatch",
        "to: api/db, port: 5432, protocol: postgres",
        "to: api/db, port: 5432, protocol: http",
        "links[0].protocol",
        "to: api/db",
        "speaks postgres, not http",
    ),
    (
        "link-end-malformed",
        "to: api/db,",
        "to: api,",
        "links[0].to",
        "to: api,",
        "not <service>/<tier>",
    ),
    (
        "duplicate-link",
        "purpose: results upload}\n",
        (
            "purpose: results upload}\n"
            "  - {from: results/app, to: api/app, port: 8080, protocol: http, purpose: again}\n"
        ),
        "links[2]",
        "purpose: again",
        "already declared by links[1]",
    ),
    (
        "duplicate-service-across-suites",
        "links:\n",
        SECOND_SUITE,
        "suites[1].services[0].name",
        "- name: api\n        title: Another",
        "'api' is already used by suites[0].services[0]",
    ),
    (
        "duplicate-suite",
        "  - name: core\n    title: Core\n",
        "  - name: core\n    title: Core\n",  # replaced below by the second suite's name
        "suites[1].name",
        "- name: core  # again",
        "suite name 'core' is already used by suites[0]",
    ),
    (
        "duplicate-location",
        "{name: cloud, kind",
        "{name: hub-site, kind",
        "locations[2].name",
        "{name: hub-site, kind: cloud-dc",
        "'hub-site' is already used by locations[1]",
    ),
    (
        "duplicate-venue-code",
        "code: BBB",
        "code: AAA",
        "locations[4].code",
        "venue-bbb",
        "'AAA' is already used by locations[3]",
    ),
    (
        "port-clash-in-tier",
        "              - {port: 8080, protocol: http}\n          - kind: db",
        (
            "              - {port: 8080, protocol: http}\n"
            "              - {port: 8080, protocol: https}\n          - kind: db"
        ),
        "suites[0].services[0].tiers[0].ports[1].port",
        "{port: 8080, protocol: https}",
        "port 8080 is already declared by ports[0]",
    ),
    (
        "duplicate-tier-kind",
        "          - kind: db\n",
        "          - kind: app\n",
        "suites[0].services[0].tiers[1].kind",
        "- kind: app\n            ports:\n              - {port: 5432",
        "two app tiers",
    ),
    (
        "supernet-host-bits",
        "supernet: 10.250.0.0/16",
        "supernet: 10.250.0.1/16",
        "wan.supernet",
        "supernet:",
        "has host bits set",
    ),
    (
        "supernet-public",
        "supernet: 10.250.0.0/16",
        "supernet: 8.8.0.0/16",
        "wan.supernet",
        "supernet:",
        "not a private",
    ),
    (
        "supernet-garbage",
        "supernet: 10.250.0.0/16",
        "supernet: banana",
        "wan.supernet",
        "supernet:",
        "not an IPv4 network",
    ),
    (
        "wan-owner-unknown",
        "wan: {owner: hub,",
        "wan: {owner: moon,",
        "wan.owner",
        "owner: moon",
        "'moon' is not a site",
    ),
    (
        "figure-neither",
        "{value: 2, modelled: true, basis: a guess}",
        "{value: 2}",
        "suites[0].services[0].production.physical_servers",
        "{value: 2}",
        "neither `source:` nor `modelled:`",
    ),
    (
        "figure-both",
        "{value: 1, source: demo-source}",
        "{value: 1, source: demo-source, modelled: true, basis: x}",
        "suites[0].services[1].production.physical_servers",
        "{value: 1, source: demo-source",
        "not both",
    ),
    (
        "figure-modelled-without-basis",
        "{value: 2, modelled: true, basis: a guess}",
        "{value: 2, modelled: true}",
        "suites[0].services[0].production.physical_servers",
        "{value: 2, modelled: true}",
        "no `basis:`",
    ),
    (
        "figure-unknown-source",
        "{value: 1, source: demo-source}",
        "{value: 1, source: nowhere}",
        "suites[0].services[1].production.physical_servers.source",
        "source: nowhere",
        "unknown source 'nowhere'",
    ),
    (
        "service-site-unknown",
        "        site: lab\n",
        "        site: mars\n",
        "suites[0].services[0].site",
        "site: mars",
        "'mars' is not one of the sites",
    ),
    (
        "production-location-unknown",
        "          location: cloud\n",
        "          location: attic\n",
        "suites[0].services[0].production.location",
        "location: attic",
        "unknown production location 'attic'",
    ),
    (
        "per-venue-not-at-venue",
        "          location: venue\n",
        "          location: cloud\n",
        "suites[0].services[1].production.location",
        "location: cloud\n          physical_servers: {value: 1",
        "per_venue service runs at each venue",
    ),
    (
        "venue-location-without-per-venue",
        "          location: cloud\n",
        "          location: venue\n",
        "suites[0].services[0].production.location",
        "location: venue\n          physical_servers: {value: 2",
        "only for per_venue services",
    ),
    (
        "site-location-not-permanent",
        "lab: {title: Lab, location: lab-site}",
        "lab: {title: Lab, location: cloud}",
        "sites.lab.location",
        "lab: {title: Lab",
        "not a permanent-site location",
    ),
    (
        "venue-without-code",
        "code: BBB, ",
        "",
        "locations[4].code",
        "venue-bbb",
        "a venue needs a code",
    ),
    (
        "venue-count-mismatch",
        "year: 2030}",
        "year: 2030, competition_venues: {value: 3, source: demo-source}}",
        "edition.competition_venues.value",
        "edition:",
        "3 competition venues (source demo-source) but `locations` lists 2",
    ),
]


def _multi_line_index(text: str, needle: str) -> int:
    # Needles spanning lines point at their first line.
    start = text.index(needle)
    assert text.count(needle) == 1, needle
    return text[:start].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "path", "line_text", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_names_file_path_line_and_fix(
    topology_error, old: str, new: str, path: str, line_text: str, message: str
) -> None:
    text = edit(MINIMAL, old, new)
    if path == "suites[1].name":  # duplicate-suite: append a second suite named core
        text = edit(
            text,
            "links:\n",
            SECOND_SUITE.replace("- name: extra", "- name: core  # again").replace(
                "- name: api", "- name: api2"
            ),
        )
    error = topology_error(text)
    expected_line = (
        _multi_line_index(text, line_text) if "\n" in line_text else line_no(text, line_text)
    )
    assert error.location.path == path
    assert error.location.line == expected_line
    assert message in error.message
    assert error.fix
    rendered = error.render()
    assert f"bad.yaml:{expected_line}: {path}: " in rendered
    assert "fix: " in rendered


def test_error_is_an_input_error_with_exit_code_2(topology_error) -> None:
    error = topology_error(edit(MINIMAL, "site: lab\n", "site: mars\n"))
    assert isinstance(error, InputError)
    assert error.exit_code == ExitCode.BAD_INPUT


def test_unknown_key_fix_lists_the_allowed_keys(topology_error) -> None:
    error = topology_error(
        edit(
            MINIMAL,
            "- {port: 5432, protocol: postgres}",
            "- {port: 5432, protocol: postgres, tls: true}",
        )
    )
    assert error.fix == "remove 'tls'; allowed keys here: port, protocol"


def test_every_problem_is_reported(topology_error) -> None:
    text = edit(MINIMAL, "site: lab\n", "site: mars\n")
    text = edit(text, "to: api/db,", "to: nope/db,")
    error = topology_error(text)
    paths = [p.path for p in error.problems]
    assert paths == ["suites[0].services[0].site", "links[0].to"]
    assert [p.line for p in error.problems] == [
        line_no(text, "site: mars"),
        line_no(text, "to: nope/db"),
    ]
    assert "1 more problem(s)" in error.render()
    assert "links[0].to: link end 'nope' is not a service" in error.render()


def test_duplicate_source_key_is_reported_at_the_second_one(topology_error) -> None:
    text = edit(
        MINIMAL, "  other-source: {title: Other source", "  demo-source: {title: Other source"
    )
    error = topology_error(text)
    assert error.location.path == "sources.demo-source"
    assert error.location.line == line_no(text, "demo-source: {title: Other")
    assert f"first defined at line {line_no(text, 'demo-source: {title: Demo')}" in error.message


def test_duplicate_key_inside_a_list_item(topology_error) -> None:
    text = edit(MINIMAL, "{name: cloud, kind: cloud-dc,", "{name: cloud, kind: cloud-dc, name: x,")
    error = topology_error(text)
    assert error.location.path == "locations[2].name"
    assert error.location.line == line_no(text, "name: x")


def test_bad_source_key(topology_error) -> None:
    text = edit(MINIMAL, "  other-source: {", "  Other_Source: {")
    error = topology_error(text)
    assert error.location.path == "sources.Other_Source"
    assert error.location.line == line_no(text, "Other_Source")


def test_yaml_syntax_error_names_file_and_line(topology_error) -> None:
    text = edit(
        MINIMAL,
        "  hub: {title: Hub, location: hub-site}",
        "  hub: {title: [Hub, location: hub-site}",
    )
    error = topology_error(text)
    assert error.location.line == line_no(text, "title: [Hub")
    assert "invalid YAML" in error.message
    assert error.location.path is None


def test_bad_indentation_is_a_syntax_error(topology_error) -> None:
    text = edit(MINIMAL, "        title: Results\n", "       title: Results\n")
    error = topology_error(text)
    assert "invalid YAML" in error.message
    assert error.location.line in (
        line_no(text, "title: Results"),
        line_no(text, "title: Results") + 1,
    )


def test_document_must_be_a_mapping(topology_error) -> None:
    error = topology_error("- just\n- a list\n")
    assert error.location.line == 1
    assert "mapping" in error.message


def test_empty_document(topology_error) -> None:
    error = topology_error("")
    assert "mapping" in error.message


def test_missing_top_level_key(topology_error) -> None:
    text = edit(MINIMAL, "wan: {owner: hub, supernet: 10.250.0.0/16}\n", "")
    error = topology_error(text)
    assert error.location.path == "wan"
    assert error.location.line == 1  # absent: the document itself


def test_missing_file_lists_the_available_editions(tmp_path: Path) -> None:
    topo_dir = tmp_path / "stacks" / "topology"
    topo_dir.mkdir(parents=True)
    (topo_dir / "athens2004.yaml").write_text("x: 1\n")
    (topo_dir / "paris2024.yaml").write_text("x: 1\n")
    with pytest.raises(TopologyError) as info:
        load_edition(tmp_path, "lyon2030")
    error = info.value
    assert error.location.file == topo_dir / "lyon2030.yaml"
    assert "'lyon2030'" in error.message
    assert error.fix == "use one of the editions available: athens2004, paris2024"


def test_missing_file_given_by_path(tmp_path: Path) -> None:
    with pytest.raises(TopologyError) as info:
        load_topology(tmp_path / "nope.yaml")
    assert info.value.location.file == tmp_path / "nope.yaml"
    assert "does not exist" in info.value.message
    assert "nope" in info.value.render()


def test_a_bad_list_item_is_one_problem(topology_error) -> None:
    # pydantic also calls the list "too short" once its only item fails: not reported.
    text = edit(MINIMAL, "instances: 2", "instances: -1")
    error = topology_error(text)
    assert [p.path for p in error.problems] == ["suites[0].services[0].tiers[0].instances"]
    assert error.fix == "use a number >= 1"
