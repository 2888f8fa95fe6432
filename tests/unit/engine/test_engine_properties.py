"""Property values between the SDK and the engine (replicator/engine/properties.py)."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2

from replicator.engine.properties import (
    MASK,
    RESOURCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    contains_secret,
    contains_unknown,
    from_struct,
    is_secret,
    make_secret,
    mark_secret_paths,
    mask,
    reveal,
    secretise_like,
    strip_resource_refs,
    to_struct,
)

VALUE = {
    "name": "paris2024-itl-cis-app-1",
    "memory": 256,
    "ratio": 0.5,
    "init": True,
    "mustRun": False,
    "nothing": None,
    "ports": [{"internal": 8080, "external": 18080, "ip": "127.0.0.1"}],
    "matrix": [[1, 2], [3.25]],
    "big": 2**40,
    "zero": 0,
    "negative": -3,
    "empty": {},
    "emptyList": [],
}


def test_struct_round_trip_is_exact() -> None:
    assert from_struct(to_struct(VALUE)) == VALUE


def test_struct_round_trip_keeps_ints_as_ints_and_floats_as_floats() -> None:
    back = from_struct(to_struct(VALUE))
    assert type(back["memory"]) is int
    assert type(back["ports"][0]["internal"]) is int
    assert type(back["matrix"][0][1]) is int
    assert type(back["big"]) is int and back["big"] == 2**40
    assert type(back["negative"]) is int
    assert type(back["ratio"]) is float
    assert type(back["matrix"][1][0]) is float
    assert back["init"] is True and back["mustRun"] is False, "booleans must not become ints"


def test_from_struct_turns_integral_doubles_into_ints() -> None:
    struct = struct_pb2.Struct()
    struct.update({"port": 8080.0, "nested": {"list": [1.0, 2.5]}})
    back = from_struct(struct)
    assert back == {"port": 8080, "nested": {"list": [1, 2.5]}}
    assert type(back["port"]) is int


def test_to_struct_accepts_tuples() -> None:
    assert from_struct(to_struct({"t": (1, "a")})) == {"t": [1, "a"]}


def test_markers_survive_the_wire() -> None:
    value = {"image": UNKNOWN, "envs": [make_secret("PW=x")]}
    back = from_struct(to_struct(value))
    assert back == value
    assert is_secret(back["envs"][0])
    assert contains_unknown(back)


# ---------------------------------------------------------------------------- secrets


def test_make_secret_wraps_once() -> None:
    secret = make_secret("x")
    assert secret == {SIG_KEY: SECRET_SIG, "value": "x"}
    assert make_secret(secret) is secret
    assert is_secret(secret)
    assert not is_secret({"value": "x"})
    assert not is_secret("x")


def test_reveal_strips_nested_secrets() -> None:
    value = {
        "envs": ["A=1", make_secret("PW=hunter2")],
        "auth": make_secret({"user": "u", "password": make_secret("p")}),
        "plain": {"k": [1, {"deep": make_secret(3)}]},
    }
    assert reveal(value) == {
        "envs": ["A=1", "PW=hunter2"],
        "auth": {"user": "u", "password": "p"},
        "plain": {"k": [1, {"deep": 3}]},
    }
    assert not contains_secret(reveal(value))
    assert contains_secret(value["plain"])


def test_mask_replaces_every_secret_and_nothing_else() -> None:
    value = {"envs": ["A=1", make_secret("PW=hunter2")],
             "auth": make_secret({"password": "p"}), "port": 80}
    masked = mask(value)
    assert masked == {"envs": ["A=1", MASK], "auth": MASK, "port": 80}
    assert "hunter2" not in repr(masked)


def test_contains_unknown_nested() -> None:
    assert contains_unknown([{"a": [UNKNOWN]}])
    assert not contains_unknown([{"a": ["known"]}])
    assert contains_unknown(UNKNOWN)


def test_strip_resource_refs_gives_id_else_urn() -> None:
    ref_id = {SIG_KEY: RESOURCE_SIG, "urn": "urn:pulumi:s::p::t::n", "id": "abc"}
    ref_urn = {SIG_KEY: RESOURCE_SIG, "urn": "urn:pulumi:s::p::t::m"}
    value = {"network": ref_id, "list": [ref_urn], "plain": {"x": 1}}
    assert strip_resource_refs(value) == {"network": "abc", "list": ["urn:pulumi:s::p::t::m"],
                                          "plain": {"x": 1}}


# ---------------------------------------------------------------------------- output secrets


def test_secretise_like_wraps_outputs_echoing_secret_inputs() -> None:
    inputs = {"envs": ["A=1", make_secret("PW=x")], "name": "c"}
    outputs = {"envs": ["A=1", "PW=x"], "name": "c", "id": "123"}
    result = secretise_like(outputs, inputs)
    assert result["envs"] == make_secret(["A=1", "PW=x"])
    assert result["name"] == "c" and result["id"] == "123"
    assert outputs["envs"] == ["A=1", "PW=x"], "the outputs passed in are not modified"


def test_secretise_like_does_not_double_wrap_and_skips_missing_outputs() -> None:
    inputs = {"password": make_secret("p"), "token": make_secret("t")}
    outputs = {"password": make_secret("p")}
    result = secretise_like(outputs, inputs)
    assert result == {"password": make_secret("p")}
    assert "token" not in result


def test_secretise_like_wraps_a_revealed_copy() -> None:
    # An output holding a partly-secret value becomes one secret of the plain value.
    inputs = {"auth": {"password": make_secret("p")}}
    outputs = {"auth": {"password": "p", "user": "u"}}
    assert secretise_like(outputs, inputs)["auth"] == make_secret({"password": "p", "user": "u"})


def test_mark_secret_paths_wraps_named_top_level_outputs() -> None:
    outputs = {"id": "1", "hostname": "h", "already": make_secret("s")}
    result = mark_secret_paths(outputs, ["hostname", "already", "missing"])
    assert result == {"id": "1", "hostname": make_secret("h"), "already": make_secret("s")}
    assert outputs["hostname"] == "h"
    assert mark_secret_paths(outputs, []) is outputs


@pytest.mark.parametrize("value", ["", 0, False, [], {}])
def test_falsy_values_can_be_secret(value: object) -> None:
    secret = make_secret(value)
    assert is_secret(secret)
    assert reveal(secret) == value
    assert mask({"k": secret}) == {"k": MASK}
