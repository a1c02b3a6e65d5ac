"""Service configuration: one schema of keys, each with a type, a default and a description.

Values come from (lowest to highest precedence) the schema defaults, `config.yaml`, and
environment variables named `ATRIUM_<SECTION>_<KEY>`. Anything wrong stops start-up with
one line that names the key (`ConfigError`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from server.forwarded import parse_proxies


class ConfigError(Exception):
    """A configuration value is missing, unknown or of the wrong type."""


@dataclass(frozen=True)
class Key:
    type: type
    default: Any
    description: str
    choices: tuple = ()
    minimum: int | None = None


SCHEMA: dict[str, dict[str, Key]] = {
    "server": {
        "host": Key(str, "127.0.0.1", "address to listen on (0.0.0.0 for every interface)"),
        "port": Key(int, 8080, "TCP port to listen on", minimum=1),
        "mode": Key(
            str,
            "development",
            "development generates a host secret; production requires one",
            choices=("development", "production"),
        ),
        "base_domain": Key(
            str, "localhost", "host console domain; tenants live at <slug>.<base_domain>"
        ),
        "path_prefix_routing": Key(bool, True, "also serve tenants at /g/<slug>/ on the base domain"),
        "xheaders": Key(
            bool, False, "take client address and scheme from X-Forwarded-For/X-Real-IP/-Proto of trusted_proxies"
        ),
        "trusted_proxies": Key(
            str, "127.0.0.1, ::1",
            "addresses or networks (comma separated) of the reverse proxies whose X-Forwarded-* headers count",
        ),
        "public_url": Key(
            str, "", "scheme://host[:port] of e-mailed links (never the request Host); empty: from host/port"
        ),
    },
    "paths": {
        "data_dir": Key(str, "./data", "tenant storage roots, embedded database files, secrets"),
    },
    "database": {
        "uri": Key(str, "", "MongoDB URI; empty starts the embedded MongoDB-wire server"),
        "prefix": Key(str, "atrium_", "prefix of every database name (host and tenants)"),
        "connect_timeout": Key(int, 30, "seconds to keep retrying the database at start-up", minimum=1),
    },
    "security": {
        "host_secret": Key(
            str, "", "signs cookies and derives per-tenant keys; required in production"
        ),
        "installer_token_days": Key(int, 7, "days an installer link stays valid", minimum=1),
        # Argon2id's cost. The defaults are RFC 9106's second recommended option; production
        # refuses less than OWASP's minimum (19 MiB x 2 passes). A stored hash made with other
        # values is remade at its owner's next sign-in.
        "password_memory_kb": Key(int, 65536, "memory of one password hash (argon2id), in KiB", minimum=1024),
        "password_rounds": Key(int, 3, "passes of one password hash (argon2id)", minimum=1),
        "password_parallelism": Key(int, 4, "lanes of one password hash (argon2id)", minimum=1),
    },
    "smtp": {
        "host": Key(str, "localhost", "SMTP server for outgoing mail"),
        "port": Key(int, 25, "SMTP port", minimum=1),
        "tls": Key(str, "none", "none, starttls or tls", choices=("none", "starttls", "tls")),
        "username": Key(str, "", "SMTP user name (empty: no authentication)"),
        "password": Key(str, "", "SMTP password"),
        "from_address": Key(str, "atrium@localhost", "sender address of outgoing mail"),
        "from_name": Key(str, "Atrium", "sender name of outgoing mail"),
        "timeout": Key(int, 30, "seconds before an SMTP conversation is abandoned", minimum=1),
        "allow_private_tenant_servers": Key(
            bool, False,
            "let galleries send through their own SMTP server on loopback, link-local or private addresses",
        ),
    },
    "limits": {
        "image_workers": Key(int, 2, "processes that decode and resize images", minimum=1),
        "max_image_pixels": Key(
            int, 178_956_970, "images with more pixels are refused (decompression bombs)", minimum=1
        ),
        "max_request_mb": Key(
            int, 10_240, "largest request body the server accepts (uploads stream it), in MB", minimum=1
        ),
        "max_form_kb": Key(
            int, 1024,
            "largest body of a form or JSON request, in KB; larger ones get 413 before being read",
            minimum=1,
        ),
        "transcodes": Key(int, 1, "video/audio transcodes that run at once", minimum=1),
        "watched_galleries": Key(
            int, 50, "galleries whose originals/ this process watches for live synchronization",
            minimum=0,
        ),
    },
    "tenants": {
        "cache_seconds": Key(
            int, 5,
            "seconds a cached tenant record (status, hostnames) is trusted while the write feed is down",
            minimum=0,
        ),
        "cache_size": Key(int, 5000, "tenant contexts kept in memory per process", minimum=10),
    },
    "jobs": {
        "workers": Key(int, 2, "background job workers in this process (0: web only)", minimum=0),
        "lease_seconds": Key(int, 60, "a claimed job returns to the queue if not renewed", minimum=5),
        "max_attempts": Key(int, 5, "tries before a job is marked failed", minimum=1),
    },
    "logging": {
        "level": Key(str, "INFO", "DEBUG, INFO, WARNING or ERROR", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
        "access_log": Key(bool, True, "one line per request: tenant, method, path, status, time"),
    },
}


def _coerce(name: str, key: Key, value: Any, from_env: bool) -> Any:
    if from_env and isinstance(value, str):
        if key.type is bool:
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                value = True
            elif lowered in ("0", "false", "no", "off"):
                value = False
        elif key.type is int:
            try:
                value = int(value.strip())
            except ValueError:
                pass
    if value is None and key.type is str:
        value = ""
    # bool is a subclass of int: a YAML `true` for a number is a mistake, not 1.
    if key.type is int and isinstance(value, bool) or not isinstance(value, key.type):
        raise ConfigError(
            f"config key {name}: expected {key.type.__name__}, got {type(value).__name__} {value!r}"
        )
    if key.choices and value not in key.choices:
        raise ConfigError(f"config key {name}: must be one of {', '.join(key.choices)}, got {value!r}")
    if key.minimum is not None and value < key.minimum:
        raise ConfigError(f"config key {name}: must be at least {key.minimum}, got {value}")
    return value


class Config(SimpleNamespace):
    """Sections as attributes: `config.server.port`, `config.database.uri`."""

    def get(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        return getattr(getattr(self, section), key)

    @property
    def data_dir(self) -> Path:
        return Path(self.paths.data_dir).resolve()

    @property
    def production(self) -> bool:
        return self.server.mode == "production"


def load_config(
    path: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Build the configuration from defaults, the YAML file, the environment and overrides."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    if path is not None and Path(path).exists():
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path}: not valid YAML ({exc})") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {path}: expected a mapping of sections")
    for section, values in raw.items():
        if section not in SCHEMA:
            raise ConfigError(f"config key {section}: unknown section")
        if not isinstance(values, dict):
            raise ConfigError(f"config key {section}: expected a mapping of keys")
        for key in values:
            if key not in SCHEMA[section]:
                raise ConfigError(f"config key {section}.{key}: unknown key")
    for name in overrides or {}:
        section, _, key = name.partition(".")
        if key not in SCHEMA.get(section, {}):
            raise ConfigError(f"config key {name}: unknown key")
    known_env = {f"ATRIUM_{s.upper()}_{k.upper()}" for s in SCHEMA for k in SCHEMA[s]}
    for var in env:
        if var.startswith("ATRIUM_") and var not in known_env and var not in _NON_CONFIG_ENV:
            raise ConfigError(f"environment variable {var}: unknown config key")

    sections = {}
    for section, keys in SCHEMA.items():
        values = {}
        for key, spec in keys.items():
            name = f"{section}.{key}"
            value, from_env = spec.default, False
            if key in raw.get(section, {}):
                value = raw[section][key]
            env_name = f"ATRIUM_{section.upper()}_{key.upper()}"
            if env_name in env:
                value, from_env = env[env_name], True
            if overrides and name in overrides:
                value = overrides[name]
            values[key] = _coerce(name, spec, value, from_env)
        sections[section] = SimpleNamespace(**values)
    config = Config(**sections)
    if config.production and not config.security.host_secret:
        raise ConfigError(
            "config key security.host_secret: required in production mode "
            "(set ATRIUM_SECURITY_HOST_SECRET or security.host_secret)"
        )
    try:
        parse_proxies(config.server.trusted_proxies)
    except ValueError as exc:
        raise ConfigError(f"config key server.trusted_proxies: {exc}") from None
    if config.security.host_secret and len(config.security.host_secret) < 32:
        raise ConfigError("config key security.host_secret: must be at least 32 characters")
    security = config.security
    if security.password_parallelism > 16:
        raise ConfigError("config key security.password_parallelism: must be at most 16")
    if config.production and security.password_memory_kb * security.password_rounds < PASSWORD_COST_FLOOR:
        raise ConfigError(
            "config keys security.password_memory_kb x security.password_rounds: at least "
            f"{PASSWORD_COST_FLOOR} in production mode (OWASP's minimum: 19456 KiB x 2 passes)"
        )
    return config


#: OWASP's argon2id minimum as memory (KiB) x passes: 19 MiB x 2, or 7 MiB x 5 and between.
PASSWORD_COST_FLOOR = 19456 * 2


# Environment variables of ours that are not config keys.
_NON_CONFIG_ENV = {"ATRIUM_CONFIG", "ATRIUM_VENV", "ATRIUM_SERVICE_OWNER"}  # the last: server/children.py
_NON_CONFIG_ENV.add("ATRIUM_FAILPOINT")  # tests freeze the service there: gallery/failpoints.py


def ensure_host_secret(config: Config) -> str:
    """Return the host secret, generating a development one into the data directory once."""
    if config.security.host_secret:
        return config.security.host_secret
    path = config.data_dir / "host-secret"
    if path.exists():
        secret = path.read_text().strip()
    else:
        secret = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once agree on the first secret written.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secret + "\n")
    config.security.host_secret = secret
    return secret


def render_template() -> str:
    """The documented config.yaml: every key with its default and a one-line comment."""
    lines = [
        "# Atrium configuration. Every key is shown with its default.",
        "# Environment variables override keys: ATRIUM_<SECTION>_<KEY>, e.g. ATRIUM_SERVER_PORT=9000.",
        "",
    ]
    for section, keys in SCHEMA.items():
        lines.append(f"{section}:")
        for key, spec in keys.items():
            default = yaml.safe_dump(spec.default, default_flow_style=True).strip()
            default = default.removesuffix("\n...").removesuffix("...").strip()
            if spec.default == "":
                default = '""'
            lines.append(f"  # {spec.description}")
            lines.append(f"  {key}: {default}")
        lines.append("")
    return "\n".join(lines)
