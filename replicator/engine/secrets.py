"""Encryption of secret values at rest (state files).

Like Pulumi's passphrase secrets provider, secret values are stored as
ciphertext in the state: `{SIG_KEY: SECRET_SIG, "ciphertext": "..."}`. The
key is a Fernet key read from REPLICATOR_SECRETS_KEY, else from
`<workdir>/secrets.key`, created on first use with mode 0600 and never
committed (the work dir is git-ignored).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from replicator.engine.properties import SECRET_SIG, SIG_KEY, is_secret, make_secret
from replicator.errors import InputError

KEY_ENV = "REPLICATOR_SECRETS_KEY"


class SecretsManager:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        # plaintext JSON -> the ciphertext it was read from or written as. As Pulumi's
        # secrets cache does: an unchanged secret keeps its ciphertext, so an export
        # imported back (or a no-op checkpoint) writes the very same bytes.
        self._known: dict[str, str] = {}

    @classmethod
    def for_workdir(cls, workdir: Path) -> SecretsManager:
        env = os.environ.get(KEY_ENV)
        if env:
            return cls(env.encode())
        key_file = workdir / "secrets.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
        return cls(key_file.read_bytes().strip())

    def encrypt_value(self, value: Any) -> str:
        """One value as ciphertext (a `secure:` config value)."""
        plain = json.dumps(value, sort_keys=True)
        token = self._known.get(plain)
        if token is None:
            token = self._fernet.encrypt(json.dumps(value).encode()).decode()
            self._known[plain] = token
        return token

    def decrypt_value(self, token: str, *, where: str = "config", file: Path | None = None,
                      line: int | None = None) -> Any:
        """A `secure:` value's plaintext; `file` and `line` say where it was written."""
        try:
            return self._open(token)
        except (InvalidToken, ValueError) as exc:
            raise InputError(
                f"cannot decrypt the secure value in {where}: it is not ciphertext written "
                "with this project's secrets key", file=file, line=line,
                fix=f"set it again with `replicator config set --secret`, or restore the key "
                    f"used to write it ({KEY_ENV} or secrets.key)",
            ) from exc

    def _open(self, token: str) -> Any:
        value = json.loads(self._fernet.decrypt(token.encode()))
        self._known.setdefault(json.dumps(value, sort_keys=True), token)
        return value

    def encrypt_tree(self, value: Any) -> Any:
        """Replace every secret wrapper by its ciphertext form."""
        if is_secret(value):
            return {SIG_KEY: SECRET_SIG, "ciphertext": self.encrypt_value(value.get("value"))}
        if isinstance(value, dict):
            return {k: self.encrypt_tree(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.encrypt_tree(v) for v in value]
        return value

    def decrypt_tree(self, value: Any, *, where: str = "state") -> Any:
        if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG and "ciphertext" in value:
            try:
                return make_secret(self._open(value["ciphertext"]))
            except (InvalidToken, ValueError) as exc:
                raise InputError(
                    f"cannot decrypt a secret in {where}: the secrets key does not match",
                    fix=f"restore the key used to write it ({KEY_ENV} or .replicator/secrets.key)",
                ) from exc
        if isinstance(value, dict):
            return {k: self.decrypt_tree(v, where=where) for k, v in value.items()}
        if isinstance(value, list):
            return [self.decrypt_tree(v, where=where) for v in value]
        return value
