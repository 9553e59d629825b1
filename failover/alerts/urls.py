"""What may be shown of a destination's URL. Its own module, free of httpx and the store, so that
``failover validate`` can name where alerts go without importing the delivery machinery."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["shown_url"]


def shown_url(url: str) -> str:
    """What may be shown of a webhook URL: scheme and host (the path and query are its token)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<url>"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{port}/…"
