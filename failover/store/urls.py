"""Where the database is: the URL from the environment, the config, or a file in the user's data dir.

A URL must be one of the forms in ``ACCEPTED`` or it is refused (exit 2) before anything is opened:
a typo must never become a new SQLite file in the working directory, and a driver we do not ship
must not surface as a traceback.

Checking a URL (``failover validate``) splits it the way SQLAlchemy's ``make_url`` does, without
importing SQLAlchemy (a tenth of a second): a test holds the two splits equal. Building and showing
URLs (``normalize_url``, ``display_url``) use SQLAlchemy's own ``URL``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import parse_qsl, unquote

from failover.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = [
    "ACCEPTED",
    "ENV_VAR",
    "check_database_url",
    "default_database_url",
    "display_url",
    "normalize_url",
    "resolve_database_url",
]

ENV_VAR = "FAILOVER_DATABASE_URL"
ACCEPTED = (
    "sqlite:///PATH, postgresql://USER@HOST[:PORT]/DB (also postgres:// and postgresql+psycopg://), "
    "or a SQLite file path that is absolute, starts with ./ ../ or ~, or ends in .db/.sqlite/.sqlite3"
)
_MEMORY = ("", ":memory:")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite")
_POSTGRES_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg")
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_SECRET = re.compile(r"(://[^/@:]*:)[^/@]*@")
# sqlalchemy.engine.url._parse_url's pattern (SQLAlchemy 2.x), which make_url applies with re.match
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)


_UNQUOTED = ("username", "password", "database")


class UrlParts(NamedTuple):
    """A database URL's parts as ``make_url`` reads them (``query`` values repeated become lists)."""

    drivername: str
    username: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None
    query: dict[str, str | list[str]]


def split_url(text: str) -> UrlParts:
    """``make_url(text)``'s parts; ValueError where it raises (no scheme, a port that is no integer)."""
    m = _URL.match(text)
    if m is None:
        raise ValueError("not a URL")
    query: dict[str, str | list[str]] = {}
    for key, value in parse_qsl(m["query"] or ""):
        seen = query.get(key)
        query[key] = value if seen is None else [*(seen if isinstance(seen, list) else [seen]), value]
    username, password, database = (None if m[k] is None else unquote(m[k]) for k in _UNQUOTED)
    port = None if m["port"] is None else int(m["port"])  # ":" with no port is an error, as there
    return UrlParts(m["name"], username, password, m["ipv4host"] or m["ipv6host"], port, database, query)


def default_database_url() -> str:
    """``sqlite:///<user data dir>/failover.db``, creating the directory."""
    import platformdirs

    directory = Path(platformdirs.user_data_dir("failover"))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create the data directory {directory}: {err.strerror or err}") from None
    return f"sqlite:///{directory / 'failover.db'}"


def check_database_url(value: str) -> UrlParts | Path:
    """The parsed URL, or the path of a bare SQLite file; ValueError saying why and what is accepted.

    The one parser for ``--database``, ``$FAILOVER_DATABASE_URL`` and the config's ``database:``."""
    try:
        return _parse(value)
    except ValueError as err:
        raise ValueError(f"{err} (expected {ACCEPTED})") from None


def _parse(value: str) -> UrlParts | Path:
    from failover.schema import check_host, control_character, expand_user

    text = value.strip()
    if not text:
        raise ValueError("empty database URL")
    bad = control_character(text)
    if bad:
        raise ValueError(f"{bad} in the database URL")
    scheme = _SCHEME.match(text)
    if scheme is None:
        if "://" in text or not _looks_like_a_path(text):
            raise ValueError(f"not a database URL or a SQLite file path: {_hidden(text)}")
        expand_user(text)
        return Path(text)
    driver = scheme.group(1)
    if driver not in _SQLITE_DRIVERS + _POSTGRES_DRIVERS:
        backend = driver.partition("+")[0]
        what = "driver" if backend in ("sqlite", "postgresql", "postgres") else "backend"
        raise ValueError(f"unsupported {what} {driver!r}")
    try:
        url = split_url(text)
    except ValueError:
        raise ValueError(f"not a database URL: {_hidden(text)}") from None
    port = url.port
    parts = [url.username, url.password, url.host, url.database, *url.query.keys()]
    parts += [v for vs in url.query.values() for v in ((vs,) if isinstance(vs, str) else vs)]
    for part in parts:
        bad = control_character(part) if part else None
        if bad:
            raise ValueError(f"{bad} in the database URL (after %-decoding)")
    if driver in _SQLITE_DRIVERS:
        if url.host or url.username or url.password or port is not None:
            raise ValueError(f"a SQLite URL names a file, not a server, got {_hidden(text)}")
        if url.query:
            _check_sqlite_options(text)
        expand_user(url.database or "")
        return url
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"expected a port 1-65535 in the database URL, got {port}")
    if url.host:
        try:
            check_host(url.host)
        except ValueError as err:
            raise ValueError(f"{err} in the database URL") from None
    return url


def _looks_like_a_path(text: str) -> bool:
    path = Path(text)
    return (
        path.is_absolute()
        or text.startswith(("./", "../", "~", ".\\", "..\\"))
        or path.suffix.lower() in _SQLITE_SUFFIXES
    )


def _check_sqlite_options(text: str) -> None:
    """The driver's own reading of ``?timeout=…`` and friends, so a bad value fails here, not later."""
    import warnings

    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SAWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", SAWarning)  # an option the driver would silently ignore
            SQLiteDialect_pysqlite().create_connect_args(make_url(text))
    except (ArgumentError, ValueError, TypeError, SAWarning) as err:
        reason = " ".join(str(err).split("(Background")[0].split())
        raise ValueError(f"bad SQLite URL option: {reason}") from None


def normalize_url(value: str, source: str = "database") -> str:
    """A full SQLAlchemy URL: bare paths become SQLite files, relative SQLite paths become absolute
    (relative to the current directory), and ``postgres(ql)://`` uses the psycopg 3 driver. A value
    that is none of the accepted forms is a ConfigError naming ``source`` (where it came from)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = check_database_url(value)
    except ValueError as err:
        raise ConfigError(f"{source}: {err}") from None
    if isinstance(parsed, Path):
        return f"sqlite:///{parsed.expanduser().resolve()}"
    url = make_url(value.strip())
    if url.get_backend_name() == "sqlite":
        db = url.database or ""
        if db not in _MEMORY and not db.startswith("file:"):
            url = url.set(database=str(Path(db).expanduser().resolve()))
    elif url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def resolve_database_url(config_value: str | None) -> str:
    """``$FAILOVER_DATABASE_URL``, else the config's ``database:``, else the default SQLite file."""
    env = os.environ.get(ENV_VAR)
    if env:
        return normalize_url(env, source=ENV_VAR)
    return normalize_url(config_value) if config_value else default_database_url()


def display_url(url: str | URL) -> str:
    """The URL with its password hidden: the only form that may reach a log, a message or a report."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)


def _hidden(text: str) -> str:
    """An unparseable URL as text, with anything that looks like a password replaced by ***."""
    shown = _SECRET.sub(r"\1***@", text)
    return repr(shown if len(shown) <= 80 else shown[:77] + "...")
