"""Report parameters: public defaults, overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from replicator.errors import ExitCode, InputError
from replicator.report.params import PARAM_SOURCES, SPECS, resolve_params


def test_defaults_are_the_public_figures() -> None:
    v = resolve_params().values
    assert v.grid_intensity["FR"] == 51  # EEA via Cloud Carbon Footprint
    assert v.grid_intensity["ES"] == 137  # 2023
    assert v.server.embodied_kgco2e == 3660  # Boavizta
    assert (v.server.idle_w, v.server.max_w) == (118, 365)  # LBNL, indicative
    assert v.production.pue == 1.2  # CCF's 1.1-1.2, upper end
    assert v.production.hours_per_year == 8760
    assert v.server.lifetime_years == 4
    assert v.replica.utilisation is None  # measured
    assert v.replica.country is None  # the ITL's country


def test_every_default_says_where_it_comes_from() -> None:
    for spec in SPECS:
        assert spec.origin in {"source", "assumption", "measured"}, spec.key
        if spec.origin == "source":
            assert spec.source in PARAM_SOURCES, spec.key
        else:
            assert spec.source is None, spec.key
        if spec.default is None:
            assert spec.when_unset, spec.key
    rows = {r["key"]: r for r in resolve_params().rows()}
    assert rows["server.lifetime_years"]["origin"] == "assumption"
    assert rows["production.utilisation"]["origin"] == "assumption"
    assert rows["grid_intensity.PF"]["origin"] == "assumption"
    assert rows["grid_intensity.FR"]["source"] == "ccf-methodology"
    assert rows["replica.utilisation"]["origin"] == "measured"


def test_yaml_file_then_set(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("server:\n  idle_w: 100\n  max_w: 300\ngrid_intensity:\n  DE: 380\n"
                 "production: {pue: 1.1}\n")
    r = resolve_params(f, ["production.pue=1.15", "replica.country=DE"])
    assert r.values.server.idle_w == 100
    assert r.values.grid_intensity == {"FR": 51, "ES": 137, "PF": 51, "DE": 380}
    assert r.values.production.pue == 1.15  # --set comes after the file
    assert r.values.replica.country == "DE"
    assert r.setting("server.idle_w").describe() == f"{f}:2"
    assert r.setting("production.pue").describe() == "--set"
    rows = {row["key"]: row for row in r.rows()}
    assert rows["server.max_w"]["origin"] == "set by user"
    assert rows["server.max_w"]["note"] == f"set in {f}:3"
    assert rows["server.embodied_kgco2e"]["origin"] == "source"


def test_toml_file(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text("[replica]\nutilisation = 0.3\n\n[grid_intensity]\nES = 279\n")
    v = resolve_params(f).values
    assert v.replica.utilisation == 0.3
    assert v.grid_intensity["ES"] == 279


def test_set_null_goes_back_to_measured() -> None:
    assert resolve_params(None, ["replica.utilisation=0.2", "replica.utilisation=null"]
                          ).values.replica.utilisation is None


@pytest.mark.parametrize("text", ["server:\n  idle_watts: 3\n", "servr:\n  idle_w: 3\n"])
def test_unknown_key_in_a_file_is_named_with_the_file_and_line(tmp_path: Path, text: str) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("production:\n  pue: 1.2\n" + text)
    with pytest.raises(InputError) as err:
        resolve_params(f)
    e = err.value
    assert e.exit_code == ExitCode.BAD_INPUT
    assert "unknown parameter" in e.message
    assert e.location.file == f
    assert e.location.line in (3, 4)
    assert "known parameters:" in (e.fix or "") and "server.idle_w" in (e.fix or "")
    assert str(f) in e.render()


def test_unknown_key_in_toml(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text("[production]\nutilization = 0.4\n")
    with pytest.raises(InputError) as err:
        resolve_params(f)
    assert "'production.utilization'" in err.value.message
    assert "did you mean 'production.utilisation'" in (err.value.fix or "")
    assert err.value.location.file == f


@pytest.mark.parametrize("item, words", [
    ("bogus=1", ["unknown parameter 'bogus'"]),
    ("server.idle=3", ["unknown parameter 'server.idle'"]),
    ("grid_intensity.France=3", ["unknown parameter 'grid_intensity.France'"]),
    ("production.pue", ["is not key=value"]),
    ("=3", ["is not key=value"]),
])
def test_bad_set_is_named(item: str, words: list[str]) -> None:
    with pytest.raises(InputError) as err:
        resolve_params(None, [item])
    for word in words:
        assert word in err.value.message
    assert err.value.fix


@pytest.mark.parametrize("item, key, fix", [
    ("production.pue=0.9", "production.pue", "a number from 1 to 5"),
    ("production.utilisation=1.5", "production.utilisation", "from 0 to 1"),
    ("production.utilisation=high", "production.utilisation", "from 0 to 1"),
    ("server.idle_w=-1", "server.idle_w", ">= 0"),
    ("server.lifetime_years=0", "server.lifetime_years", "> 0"),
    ("grid_intensity.FR=-5", "grid_intensity.FR", ">= 0"),
    ("replica.country=spain", "replica.country", "two-letter country code"),
    ("replica.hours_per_year=9000", "replica.hours_per_year", "at most 8784"),
])
def test_invalid_value_names_the_key_and_the_fix(item: str, key: str, fix: str) -> None:
    with pytest.raises(InputError) as err:
        resolve_params(None, [item])
    assert f"parameter {key!r} (in --set)" in err.value.message
    assert fix in (err.value.fix or "")
    assert err.value.exit_code == ExitCode.BAD_INPUT


def test_invalid_value_in_a_file_names_file_line_and_key(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("production:\n  pue: 1.2\n  utilisation: 2\n")
    with pytest.raises(InputError) as err:
        resolve_params(f)
    e = err.value
    assert "'production.utilisation'" in e.message
    assert (e.location.file, e.location.line, e.location.path) == (f, 3, "production.utilisation")


def test_max_below_idle_names_both() -> None:
    with pytest.raises(InputError) as err:
        resolve_params(None, ["server.max_w=100"])
    assert "server.max_w (100 W) is below server.idle_w (118 W)" in err.value.message
    assert "server.max_w" in (err.value.fix or "")


@pytest.mark.parametrize("name, text, words", [
    ("p.json", "{}", "unknown parameters file type '.json'"),
    ("p.yaml", "- 1\n- 2\n", "a parameters file is a mapping"),
    ("p.yaml", "server: {idle_w: [\n", "invalid YAML"),
    ("p.toml", "server = [", "invalid TOML"),
])
def test_bad_files(tmp_path: Path, name: str, text: str, words: str) -> None:
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(InputError) as err:
        resolve_params(f)
    assert words in err.value.message
    assert err.value.location.file == f


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        resolve_params(tmp_path / "nope.yaml")
    assert "does not exist" in err.value.message
    assert "--params" in (err.value.fix or "")


def test_empty_yaml_file_keeps_the_defaults(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("# nothing\n")
    assert resolve_params(f).values == resolve_params().values
