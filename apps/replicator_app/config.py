"""`/etc/replicator/app.json` (docs/app-contract.md) and the secret files it names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    pass


# Optional tuning keys under "options" (none is required; Ansible may omit them all).
DEFAULT_OPTIONS = {
    "poll_interval": 5.0,        # monitoring, dashboard, venue-results-monitor: seconds
    "poll_timeout": 2.0,         # health/status request timeout, seconds
    "send_retry_seconds": 30.0,  # ovr, replayer: give up a message after this long
    "retry_backoff_max": 1.0,    # ovr -> distributor backoff cap, seconds
    "deliver_backoff_max": 2.0,  # distributor -> consumer backoff cap, seconds
    "deliver_batch": 500,        # distributor: messages per POST /odf/deliver
    "deliver_linger": 0.03,      # distributor: wait up to this (s) to fill a small batch
    "ovr_connections": 64,       # ovr: concurrent connections to the distributor
    "ovr_batch": 100,            # ovr: most messages per POST /odf/messages/batch (1: none)
    "ovr_batch_connections": 2,  # ovr: concurrent batch requests to the distributor
    "pace_tick": 0.02,           # ovr: /odf/generate wakes at most once per tick (s)
    "segment_bytes": 64 * 1024 * 1024,  # distributor: log segment size
    "sqlite_synchronous": "FULL",  # consumers: FULL (fsync per commit) or NORMAL
    "max_records": 500_000,      # log-collector, security-events: rows kept
    "security_threshold": 5,     # security-events: events per subject per window -> ticket
    "security_window": 60.0,     # security-events: correlation window, seconds
}


# Older option names still accepted.
ALIASES = {"ovr_lanes": "ovr_connections"}


@dataclass
class Config:
    raw: dict
    path: Path | None
    service: str
    role: str
    version: str
    edition: str = ""
    competition_code: str = "OG2024"
    site: str = ""
    suite: str = ""
    instance: int = 1
    venue: str | None = None
    host: str = "0.0.0.0"
    port: int = 8080
    data_dir: Path = Path("/var/lib/replicator")
    db: dict | None = None
    api_key_file: str | None = None
    peers: dict[str, str | list[str]] = field(default_factory=dict)
    consumers: dict[str, str] = field(default_factory=dict)
    monitor_targets: list[dict] = field(default_factory=list)
    disciplines: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    _api_key: str | None = None

    def unknown_options(self) -> list[str]:
        return sorted(set(self.options) - set(DEFAULT_OPTIONS) - set(ALIASES))

    def option(self, name: str):
        if name in self.options:
            return self.options[name]
        for old, new in ALIASES.items():
            if new == name and old in self.options:
                return self.options[old]
        return DEFAULT_OPTIONS[name]

    def api_key(self) -> str | None:
        """The shared ODF key (read once found; None while the file is missing)."""
        if self._api_key is None and self.api_key_file:
            try:
                key = Path(self.api_key_file).read_text(encoding="utf-8").strip()
            except OSError:
                return None
            self._api_key = key or None
        return self._api_key

    def db_password(self) -> str | None:
        if not self.db:
            return None
        if "password_file" in self.db:
            try:
                return Path(self.db["password_file"]).read_text(encoding="utf-8").strip()
            except OSError:
                return None
        return self.db.get("password")

    def peer(self, name: str) -> str | None:
        """Base URL of the link target `name` (model service name), first one if several."""
        value = self.peers.get(name)
        if isinstance(value, list):
            return value[0].rstrip("/") if value else None
        return value.rstrip("/") if value else None

    def peers_of(self, model: str) -> dict[str, str]:
        """Every copy of a per-venue target: keys `ovr` (string or list) or `ovr-<venue>`."""
        out: dict[str, str] = {}
        for key, value in self.peers.items():
            if key != model and not key.startswith(model + "-"):
                continue
            urls = value if isinstance(value, list) else [value]
            for i, url in enumerate(urls):
                name = key if len(urls) == 1 else f"{key}#{i + 1}"
                out[name] = url.rstrip("/")
        return out


def load(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    return from_dict(raw, path)


def from_dict(raw: dict, path: Path | None = None) -> Config:
    missing = [k for k in ("service", "role", "version") if not raw.get(k)]
    if missing:
        raise ConfigError(f"{path or 'config'}: missing key(s) {', '.join(missing)}")
    listen = raw.get("listen") or {}
    options = raw.get("options") or {}
    return Config(
        raw=raw,
        path=path,
        service=str(raw["service"]),
        role=str(raw["role"]),
        version=str(raw["version"]),
        edition=str(raw.get("edition") or ""),
        competition_code=str(raw.get("competition_code") or "OG2024"),
        site=str(raw.get("site") or ""),
        suite=str(raw.get("suite") or ""),
        instance=int(raw.get("instance") or 1),
        venue=(str(raw["venue"]).upper() if raw.get("venue") else None),
        host=str(listen.get("host", "0.0.0.0")),
        port=int(listen.get("port", 8080)),
        data_dir=Path(raw.get("data_dir") or "/var/lib/replicator"),
        db=raw.get("db") or None,
        api_key_file=raw.get("api_key_file"),
        peers=dict(raw.get("peers") or {}),
        consumers=dict(raw.get("consumers") or {}),
        monitor_targets=list(raw.get("monitor_targets") or []),
        disciplines=[str(d).upper() for d in raw.get("disciplines") or []],
        options=options,
    )
