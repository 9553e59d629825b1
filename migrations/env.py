"""Alembic environment. ``failover`` runs migrations programmatically and hands over its own
connection (already in a transaction, holding the migration lock) in ``config.attributes``; the
developer ``alembic`` CLI (repo-root alembic.ini) builds one from ``sqlalchemy.url`` or the usual
database URL resolution instead.
"""

from __future__ import annotations

import logging.config
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from failover.store.tables import UTCDateTime, metadata

config = context.config
if config.config_file_name and config.attributes.get("connection") is None:
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our UTCDateTime as a plain DateTime: the conversion lives in Python, not in the schema."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    from failover.store.urls import resolve_database_url

    return config.get_main_option("sqlalchemy.url") or resolve_database_url(None)


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    from failover.store.engine import make_engine

    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
