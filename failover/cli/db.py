"""``failover db``: create, upgrade, inspect or downgrade the database schema.

The URL comes from --database, else $FAILOVER_DATABASE_URL, else the config file's ``database:``
(when a config file is found), else the default SQLite file in the user's data directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.engine import make_url

from failover.cli.options import config_option
from failover.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy import Engine

database_option = click.option(
    "--database",
    "database",
    metavar="URL",
    default=None,
    help="Database URL (default: $FAILOVER_DATABASE_URL, the config's database:, or a file in the user data dir).",
)


def database_url(database: str | None, config_path: str | None) -> str:
    from failover.store.urls import ENV_VAR, normalize_url, resolve_database_url

    if database:
        return normalize_url(database, source="--database")
    if os.environ.get(ENV_VAR):
        return resolve_database_url(None)
    from failover.config import load_config

    return resolve_database_url(load_config(config_path, required=False).database)


@click.group()
def db() -> None:
    """Create, upgrade and inspect the database schema."""


@db.command()
@config_option
@database_option
def upgrade(config_path: str | None, database: str | None) -> None:
    """Create the database or migrate it to the newest schema."""
    from failover.store import migrate
    from failover.store.store import open_engine
    from failover.store.urls import display_url

    url = database_url(database, config_path)
    engine = open_engine(url)
    try:
        before = _revision(engine, url)
        after = _migrate(lambda: migrate.upgrade(engine), url)
    finally:
        engine.dispose()
    state = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    click.echo(f"{display_url(url)}: {state} revision {after} (head)")


@db.command()
@config_option
@database_option
def current(config_path: str | None, database: str | None) -> None:
    """Print the database's schema revision and URL (password hidden)."""
    from failover.store import migrate
    from failover.store.store import open_engine
    from failover.store.urls import display_url

    url = database_url(database, config_path)
    shown = display_url(url)
    if _missing_sqlite_file(url):
        click.echo(f"{shown}: no database yet (run `failover db upgrade`, or any command, to create it)")
        return
    engine = open_engine(url)
    try:
        rev = _revision(engine, url)
    finally:
        engine.dispose()
    head = migrate.head_revision()
    note = "head" if rev == head else f"head is {head}: run `failover db upgrade`"
    click.echo(f"{shown}: revision {rev or 'none (empty)'} ({note})")


@db.command()
@click.argument("revision")
@config_option
@database_option
def downgrade(revision: str, config_path: str | None, database: str | None) -> None:
    """Migrate the schema back to REVISION (``base`` drops every table: all data is lost)."""
    from failover.store import migrate
    from failover.store.store import open_engine
    from failover.store.urls import display_url

    url = database_url(database, config_path)
    engine = open_engine(url)
    try:
        after = _migrate(lambda: migrate.downgrade(engine, revision), url)
    finally:
        engine.dispose()
    click.echo(f"{display_url(url)}: now at revision {after or 'none (empty)'}")


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    db_path = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or db_path in ("", ":memory:") or db_path.startswith("file:"):
        return False
    return not Path(db_path).exists()


def _revision(engine: Engine, url: str) -> str | None:
    from failover.store import migrate

    return _migrate(lambda: migrate.current_revision(engine), url)


def _migrate(action: Callable[[], str | None], url: str) -> str | None:
    """Run a migration step; database and Alembic failures become one StoreError line."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from failover.store.engine import error_reason
    from failover.store.urls import display_url

    try:
        return action()
    except (SQLAlchemyError, CommandError) as err:
        raise StoreError(f"cannot migrate database {display_url(url)}: {error_reason(err)}") from None
