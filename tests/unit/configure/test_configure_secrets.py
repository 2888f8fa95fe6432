"""Per-edition secrets (replicator/secrets_store.py): generated once, encrypted, 0600."""

from __future__ import annotations

import json
import stat
import string

import pytest
from cryptography.fernet import Fernet

from replicator.engine.secrets import SecretsManager
from replicator.errors import InputError
from replicator.secrets_store import (
    ODF_API_KEY_ENV,
    SecretsStore,
    db_password_env,
)

SERVICES = ["accreditation", "sport-entries"]


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("REPLICATOR_SECRETS_KEY", raising=False)
    return SecretsStore(tmp_path / ".replicator")


def test_generates_a_32_char_key_and_a_password_per_db_service(store):
    s = store.ensure("paris2024", SERVICES)
    assert len(s.odf_api_key) == 32
    assert set(s.odf_api_key) <= set(string.ascii_letters + string.digits)
    assert sorted(s.db_passwords) == SERVICES
    assert all(len(p) >= 24 for p in s.db_passwords.values())
    assert len(set(s.values())) == 3


def test_encrypted_at_rest(store):
    s = store.ensure("paris2024", SERVICES)
    text = store.path("paris2024").read_text()
    for value in s.values():
        assert value not in text
    doc = json.loads(text)
    assert doc["edition"] == "paris2024"
    assert "ciphertext" in json.dumps(doc["secrets"])


def test_file_and_directory_modes(store):
    store.ensure("paris2024", SERVICES)
    assert stat.S_IMODE(store.path("paris2024").stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700


def test_stable_across_runs_and_store_instances(store, tmp_path):
    first = store.ensure("paris2024", SERVICES)
    mtime = store.path("paris2024").stat().st_mtime_ns
    again = SecretsStore(tmp_path / ".replicator").ensure("paris2024", SERVICES)
    assert again == first
    assert store.path("paris2024").stat().st_mtime_ns == mtime  # nothing rewritten


def test_new_db_service_adds_only_its_password(store):
    first = store.ensure("paris2024", ["accreditation"])
    second = store.ensure("paris2024", ["accreditation", "workforce"])
    assert second.odf_api_key == first.odf_api_key
    assert second.db_passwords["accreditation"] == first.db_passwords["accreditation"]
    assert "workforce" in second.db_passwords


def test_editions_are_independent(store):
    a = store.ensure("paris2024", SERVICES)
    b = store.ensure("la2028", SERVICES)
    assert a.odf_api_key != b.odf_api_key
    assert store.path("la2028").exists()


def test_environment_variables(store):
    s = store.ensure("paris2024", SERVICES)
    env = s.env()
    assert env[ODF_API_KEY_ENV] == s.odf_api_key
    assert env[db_password_env("sport-entries")] == s.db_passwords["sport-entries"]
    assert db_password_env("sport-entries") == "REPLICATOR_DB_PASSWORD_SPORT_ENTRIES"


def test_repr_hides_the_values(store):
    s = store.ensure("paris2024", SERVICES)
    for value in s.values():
        assert value not in repr(s)


def test_wrong_key_is_a_clear_error(store, tmp_path):
    store.ensure("paris2024", SERVICES)
    other = SecretsStore(tmp_path / ".replicator", SecretsManager(Fernet.generate_key()))
    with pytest.raises(InputError, match="secrets key does not match"):
        other.load("paris2024")


def test_missing_edition_loads_as_none(store):
    assert store.load("nope") is None
