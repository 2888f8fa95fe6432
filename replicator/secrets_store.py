"""The secrets of one environment (edition): db passwords and the ODF API key.

Generated once per edition with the `secrets` module, kept encrypted with the
project's Fernet key (`SecretsManager.for_workdir`) in
`<workdir>/secrets/<edition>.json` (mode 0600, directory 0700), and stable
across runs: a second `configure` reuses them, a new db service only adds its
own password.

They reach Ansible as environment variables of the ansible-playbook process
(`EditionSecrets.env()`), read with `lookup('ansible.builtin.env', ...)` in
`no_log` tasks; never as extravars or files in the runner's private data dir
(see `replicator.configure.run`).
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path

from replicator.engine.properties import is_secret, make_secret
from replicator.engine.secrets import SecretsManager
from replicator.errors import InputError

FORMAT_VERSION = 1
ODF_API_KEY_ENV = "REPLICATOR_ODF_API_KEY"
DB_PASSWORD_ENV_PREFIX = "REPLICATOR_DB_PASSWORD_"
ODF_API_KEY_LENGTH = 32  # ODF: a 32-character key per customer
DB_PASSWORD_LENGTH = 32
_ALPHABET = string.ascii_letters + string.digits


def db_password_env(service: str) -> str:
    """The environment variable carrying the db password of a deployed service."""
    return DB_PASSWORD_ENV_PREFIX + service.upper().replace("-", "_")


def _token(length: int) -> str:
    # Letters and digits only: safe in a header, a URL, a libpq string and SQL.
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class EditionSecrets:
    edition: str
    odf_api_key: str
    db_passwords: dict[str, str] = field(default_factory=dict)  # deployed service -> password

    def env(self) -> dict[str, str]:
        """The environment variables Ansible reads the secrets from."""
        out = {ODF_API_KEY_ENV: self.odf_api_key}
        out.update({db_password_env(s): p for s, p in sorted(self.db_passwords.items())})
        return out

    def values(self) -> list[str]:
        """Every secret value (what must never appear in a file in clear)."""
        return [self.odf_api_key, *self.db_passwords.values()]

    def __repr__(self) -> str:  # never print a secret by accident
        return (f"EditionSecrets(edition={self.edition!r}, odf_api_key='***', "
                f"db_passwords={{{', '.join(repr(s) for s in sorted(self.db_passwords))}}})")


class SecretsStore:
    """Encrypted per-edition secrets under `<workdir>/secrets/`."""

    def __init__(self, workdir: Path, manager: SecretsManager | None = None) -> None:
        self.workdir = workdir
        self.manager = manager or SecretsManager.for_workdir(workdir)

    @property
    def directory(self) -> Path:
        return self.workdir / "secrets"

    def path(self, edition: str) -> Path:
        return self.directory / f"{edition}.json"

    def load(self, edition: str) -> EditionSecrets | None:
        path = self.path(edition)
        if not path.exists():
            return None
        try:
            doc = json.loads(path.read_text())
            plain = self.manager.decrypt_tree(doc["secrets"], where=str(path))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path} is not a replicator secrets file ({exc})",
                             fix="restore it from a backup, or delete it to generate new "
                                 "secrets (then configure the edition again)") from exc
        if not is_secret(plain):
            raise InputError(f"{path} holds no encrypted secrets",
                             fix="delete it to generate new secrets")
        value = plain["value"]
        return EditionSecrets(edition=edition, odf_api_key=value["odf_api_key"],
                              db_passwords=dict(value.get("db_passwords", {})))

    def ensure(self, edition: str, db_services: list[str] | tuple[str, ...] = ()) -> EditionSecrets:
        """The edition's secrets, generating (and saving) whatever is missing."""
        current = self.load(edition)
        if current is None:
            current = EditionSecrets(edition=edition, odf_api_key=_token(ODF_API_KEY_LENGTH))
            changed = True
        else:
            changed = False
        passwords = dict(current.db_passwords)
        for service in db_services:
            if service not in passwords:
                passwords[service] = _token(DB_PASSWORD_LENGTH)
                changed = True
        result = EditionSecrets(edition=edition, odf_api_key=current.odf_api_key,
                                db_passwords=passwords)
        if changed:
            self.save(result)
        return result

    def save(self, value: EditionSecrets) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        payload = make_secret({"odf_api_key": value.odf_api_key,
                               "db_passwords": dict(sorted(value.db_passwords.items()))})
        doc = {"version": FORMAT_VERSION, "edition": value.edition,
               "secrets": self.manager.encrypt_tree(payload)}
        path = self.path(value.edition)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        return path
