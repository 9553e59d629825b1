"""Every error failover raises on purpose, in one hierarchy.

    FailoverError                 base; the CLI prints ``str(err)`` and exits with ``exit_code``
    ├── ConfigError               the config file (or a CLI argument) is wrong: exit 2
    ├── ProviderError             a cloud API could not be read
    │   ├── AccessDenied          credentials lack a permission (not retried)
    │   ├── Throttled             rate limited; retried with backoff, raised when retries run out
    │   ├── Unreachable           endpoint down, timeout, DNS failure, 5xx after retries
    │   └── DeadlineExceeded      the account's inventory deadline came before the read finished
    ├── ProbeError                a probe could not be set up (a bad target); failures are observations
    ├── StoreError                the database cannot be opened, migrated or written
    ├── MailError                 an email could not be handed to the SMTP server (``transient``: retrying
    │                             may help; ``maybe_delivered``: the server may have taken it anyway)
    └── DaemonError               the daemon cannot start: another daemon holds the SQLite database's lock,
                                  or the listen address is taken: exit 3

Anything else reaching the CLI is a bug and is shown with a traceback only under ``--debug``.
"""

from __future__ import annotations


class FailoverError(Exception):
    exit_code = 3


class ConfigError(FailoverError):
    """Invalid user input. ``problems`` holds one line per problem, already located."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        text = message if not self.problems else message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)


class ProviderError(FailoverError):
    """A read against a cloud failed; ``scope`` names what could not be read (e.g. ``aws:us-east-1``)."""

    def __init__(self, message: str, scope: str = "") -> None:
        self.scope = scope
        super().__init__(message)


class AccessDenied(ProviderError):
    pass


class Throttled(ProviderError):
    """``retry_after`` is the server's hint in seconds (e.g. a Retry-After header), if it gave one."""

    def __init__(self, message: str, scope: str = "", retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, scope)


class Unreachable(ProviderError):
    pass


class DeadlineExceeded(ProviderError):
    """The account's ``inventory_deadline`` passed: a retry or a slow call was cut short."""


class ProbeError(FailoverError):
    pass


class StoreError(FailoverError):
    pass


class MailError(FailoverError):
    """Sending failed. The text names the server and its reply, never credentials."""

    def __init__(self, message: str, *, transient: bool = False, maybe_delivered: bool = False) -> None:
        self.transient = transient
        self.maybe_delivered = maybe_delivered
        super().__init__(message)


class DaemonError(FailoverError):
    """The daemon cannot start or keep running as configured (single-instance lock, listen address)."""
