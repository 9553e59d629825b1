"""Releasing a weekly-email claim after a send that certainly failed, so a later run can retry.

``Store.record_delivery`` claims (owner, week); the store has no way to undo a claim yet, so this one
statement lives here. It belongs on ``Store`` as ``release_delivery``; when the store grows that
method, ``release_claim`` uses it instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from failover.errors import StoreError

if TYPE_CHECKING:
    from failover.store import Store

__all__ = ["release_claim"]


def release_claim(store: Store, owner: str, iso_week: str, message_id: str) -> bool:
    """Delete the (owner, week) delivery row if it still carries our ``message_id``; True if it did.

    The message-id guard means a caller can only ever release its own claim, never another
    sender's successful delivery.
    """
    own = getattr(store, "release_delivery", None)
    if callable(own):
        return bool(own(owner, iso_week, message_id))
    from failover.store import tables
    from failover.store.engine import IMMEDIATE, error_reason
    from failover.store.urls import display_url

    m = tables.mail_deliveries
    stmt = delete(m).where(m.c.owner == owner, m.c.iso_week == iso_week, m.c.message_id == message_id)
    try:
        with store.engine.connect() as conn:
            conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                return conn.execute(stmt).rowcount == 1
    except SQLAlchemyError as err:
        raise StoreError(
            f"cannot release the mail delivery claim in {display_url(store.engine.url)}: {error_reason(err)}"
        ) from None
