"""Cloudflare Load Balancing, read with the official ``cloudflare`` library (imported only when read)."""

from providers.cloudflare.adapter import CloudflareAdapter

__all__ = ["CloudflareAdapter"]
