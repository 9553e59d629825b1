"""GCP Compute Engine adapter. Importing this package is cheap: the SDK loads on the first inventory."""

from providers.gcp.adapter import GcpAdapter

__all__ = ["GcpAdapter"]
