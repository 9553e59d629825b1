"""failover: a multi-cloud failover readiness checker.

The public surface is the CLI (``failover``) and the config file; everything else is internal and
free to change.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
