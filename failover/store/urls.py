"""Where the database is: the URL from the environment, the config, or a file in the user's data dir."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from failover.errors import ConfigError

__all__ = ["ENV_VAR", "default_database_url", "display_url", "normalize_url", "resolve_database_url"]

ENV_VAR = "FAILOVER_DATABASE_URL"
_MEMORY = ("", ":memory:")


def default_database_url() -> str:
    """``sqlite:///<user data dir>/failover.db``, creating the directory."""
    import platformdirs

    directory = Path(platformdirs.user_data_dir("failover"))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create the data directory {directory}: {err.strerror or err}") from None
    return f"sqlite:///{directory / 'failover.db'}"


def normalize_url(value: str) -> str:
    """A full SQLAlchemy URL: bare paths become SQLite files, relative SQLite paths become absolute
    (relative to the current directory), and ``postgres(ql)://`` uses the psycopg 3 driver."""
    value = value.strip()
    if not value:
        raise ConfigError("database: expected a URL like sqlite:///path/failover.db or postgresql://host/db")
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(f"database: not a database URL: {display_url(value)}") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        db = url.database or ""
        if db not in _MEMORY and not db.startswith("file:"):
            url = url.set(database=str(Path(db).expanduser().resolve()))
    elif backend in ("postgresql", "postgres"):
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
    else:
        raise ConfigError(f"database: unsupported backend {backend!r} (expected sqlite or postgresql)")
    return url.render_as_string(hide_password=False)


def resolve_database_url(config_value: str | None) -> str:
    """``$FAILOVER_DATABASE_URL``, else the config's ``database:``, else the default SQLite file."""
    value = os.environ.get(ENV_VAR) or config_value
    return normalize_url(value) if value else default_database_url()


def display_url(url: str | URL) -> str:
    """The URL with its password hidden: the only form that may reach a log, a message or a report."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)
