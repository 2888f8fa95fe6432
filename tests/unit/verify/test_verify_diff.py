"""Conformance: each kind of drift becomes a missing, unexpected or changed item."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.verify.verify_cases import clone, make_replica, observed
from verify.diff import compare
from verify.expect import Expectation
from verify.observe import Attachment, ObservedContainer


@pytest.fixture
def exp(tmp_path: Path) -> Expectation:
    return Expectation.build(make_replica(tmp_path))


def test_a_matching_replica_conforms(exp: Expectation) -> None:
    result = compare(exp, observed(exp))
    assert result.differences() == []
    assert result.conformance == 100.0 and result.declared == 6 + 9


def test_removed_container_is_missing_with_its_links(exp: Expectation) -> None:
    ed = exp.replica.edition
    obs = clone(observed(exp))
    del obs.containers[f"{ed}-itl-wrs-app-1"]
    result = compare(exp, obs)
    service = next(i for i in result.services if i.name == "wrs")
    assert service.status == "changed" and "does not exist" in service.details[0]
    container = next(i for i in result.containers if i.name == f"{ed}-itl-wrs-app-1")
    assert container.status == "missing"
    broken = {i.name for i in result.links if i.status == "missing"}
    assert broken == {"odf-distributor/app->wrs/app:8080", "wrs/web->wrs/app:8080"}
    assert result.counts()["missing"] == 3


def test_stopped_relabelled_reimaged_container_is_changed(exp: Expectation) -> None:
    ed = exp.replica.edition
    obs = clone(observed(exp))
    c = obs.containers[f"{ed}-itl-accreditation-app-1"]
    c.running, c.status = False, "exited"
    c.labels["replicator.version"] = "9.9.9"
    c.labels["replicator.extra"] = "x"
    c.image_id = "sha256:" + "f" * 64
    item = next(i for i in compare(exp, obs).containers if i.name == c.name)
    text = "; ".join(item.details)
    assert item.status == "changed"
    assert "state exited" in text and "replicator.version='9.9.9'" in text
    assert "unexpected label replicator.extra" in text and "image sha256:ffff" in text


def test_image_labels_are_not_the_containers(exp: Expectation) -> None:
    obs = clone(observed(exp))
    for c in obs.containers.values():
        c.labels["replicator.recipe"] = "abc"
        obs.image_labels[c.image_id] = {"replicator.recipe": "abc"}
    assert compare(exp, obs).differences() == []


def test_disconnected_link_is_missing(exp: Expectation) -> None:
    ed = exp.replica.edition
    obs = clone(observed(exp))
    del obs.containers[f"{ed}-toc-ovr-aqc-app-1"].networks[f"{ed}-wan-odf-distributor--ovr"]
    result = compare(exp, obs)
    link = next(i for i in result.links if i.name == "ovr-aqc/app->odf-distributor/app:8080")
    assert link.status == "missing" and "is not attached to" in link.details[0]
    assert next(i for i in result.links
                if i.name == "ovr-sta/app->odf-distributor/app:8080").status == "ok"


def test_joining_another_sites_lan_is_an_unexpected_path(exp: Expectation) -> None:
    ed = exp.replica.edition
    obs = clone(observed(exp))
    wrs = obs.containers[f"{ed}-itl-wrs-app-1"]
    lan = f"{ed}-toc-lan"
    wrs.networks[lan] = Attachment(lan, "10.9.250.9", ())
    obs.networks[lan].containers = tuple(sorted((*obs.networks[lan].containers, wrs.name)))
    result = compare(exp, obs)
    paths = [i for i in result.unexpected if i.kind == "path"]
    assert {p.name for p in paths} == {"itl/wrs/app <-> toc/ovr-aqc/app",
                                       "itl/wrs/app <-> toc/ovr-sta/app"}
    assert paths[0].details == [f"{wrs.name} and {ed}-toc-ovr-aqc-app-1 share network {lan}"]
    changed = next(i for i in result.containers if i.name == wrs.name)
    assert f"attached to undeclared network {lan}" in changed.details


def test_extra_labelled_container_and_network_are_unexpected(exp: Expectation) -> None:
    ed = exp.replica.edition
    obs = clone(observed(exp))
    obs.containers[f"{ed}-itl-rogue-app-1"] = ObservedContainer(
        name=f"{ed}-itl-rogue-app-1", id="x", docker_host="h", status="running", running=True,
        image_id="sha256:x", labels={"replicator.edition": ed, "replicator.site": "itl"},
        networks={})
    result = compare(exp, obs)
    unexpected = [i for i in result.unexpected if i.kind == "container"]
    assert [i.name for i in unexpected] == [f"{ed}-itl-rogue-app-1"]
    assert unexpected[0].site == "itl"


def test_foreign_container_on_a_network_and_internal_flag(exp: Expectation) -> None:
    ed = exp.replica.edition
    obs = clone(observed(exp))
    obs.networks[f"{ed}-itl-lan"].foreign = ("someone-else",)
    obs.networks[f"{ed}-toc-lan"].internal = False
    items = {i.name: i for i in compare(exp, obs).networks}
    assert "someone-else" in items[f"{ed}-itl-lan"].details[0]
    assert "internal=False" in items[f"{ed}-toc-lan"].details[0]
