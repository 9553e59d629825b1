"""``failover report``: this week's readiness emails, written to files for a look, or sent now; or,
with ``--html DIR``, the status pages the daemon serves, written as static files.

Exit codes: 0 written/sent (or already delivered this week); 1 nothing to report because the store
holds no score yet (run ``failover check`` or the daemon first); 2 bad usage or config (including
``--send`` without a ``mail:`` section); 3 a send failed or the database is unreachable.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from failover.cli.options import config_option, echo_line, open_store

if TYPE_CHECKING:
    from failover.schema import Config
    from failover.store import Store

__all__ = ["report"]

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def _file_stem(owner: str) -> str:
    return _UNSAFE.sub("_", owner) or "owner"


@click.command()
@config_option
@click.option("--owner", metavar="ADDR", default=None, help="Only this owner's email.")
@click.option(
    "--out",
    "out_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to write .eml and .html files (default: ./failover-reports/<iso-week>/).",
)
@click.option("--send", is_flag=True, help="Send now over mail.smtp (each owner at most once per ISO week).")
@click.option(
    "--html",
    "html_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    default=None,
    help="Write the status pages instead (DIR/index.html and DIR/workloads/*.html), as the daemon serves them.",
)
@click.pass_context
def report(
    ctx: click.Context,
    config_path: str | None,
    owner: str | None,
    out_dir: str | None,
    send: bool,
    html_dir: str | None,
) -> None:
    """Render this week's readiness email for every owner into files, or send them with --send.

    With --html DIR, write the status pages (every workload's status, trend and findings) instead."""
    from failover.config import load_config
    from failover.errors import ConfigError

    if send and out_dir:
        raise ConfigError("--send and --out do not combine: --send sends, --out writes files")
    if html_dir is not None and (send or out_dir or owner):
        raise ConfigError("--html writes the status pages alone: it does not combine with --send, --out or --owner")
    config = load_config(config_path)
    if html_dir is not None:
        with open_store(config) as store:
            _write_pages(ctx, config, store, Path(html_dir))
        return
    if send and config.mail is None:
        raise ConfigError(
            "--send needs a mail: section in the config (from:, smtp: host/port/starttls); "
            "without --send the emails are written to files"
        )
    if not config.workloads:
        raise ConfigError("the config has no workloads, so there is no one to report to")
    now = datetime.now(UTC)
    with open_store(config) as store:
        if send:
            _send(ctx, config, store, now, owner)
        else:
            _write(ctx, config, store, now, owner, out_dir)


def _no_scores(ctx: click.Context, where: str) -> None:
    click.echo(
        f"no scores in {where} yet, so there is nothing to report: run `failover check` "
        "(or start `failover daemon`) first",
        err=True,
    )
    ctx.exit(1)


def _write(
    ctx: click.Context, config: Config, store: Store, now: datetime, owner: str | None, out_dir: str | None
) -> None:
    from failover.errors import ConfigError
    from failover.mail import render_weekly, week_of

    emails = render_weekly(config, store, now=now, owner=owner)
    if not emails:
        _no_scores(ctx, store.display_url)
    target = Path(out_dir) if out_dir else Path("failover-reports") / week_of(config, now)
    try:
        target.mkdir(parents=True, exist_ok=True)
        for email in emails:
            stem = target / _file_stem(email.owner)
            stem.with_name(stem.name + ".eml").write_bytes(email.message.as_bytes())
            stem.with_name(stem.name + ".html").write_text(email.html, encoding="utf-8")
            click.echo(
                f"wrote {stem}.eml and .html for {email.owner}: {len(email.workloads)} workload(s); {email.subject}"
            )
    except OSError as err:
        raise ConfigError(f"--out {target}: cannot write: {err.strerror or err}") from None


def _write_pages(ctx: click.Context, config: Config, store: Store, target: Path) -> None:
    from failover.errors import ConfigError
    from failover.statuspage import stored_whatif, write_site

    scored = {s.workload for s in store.latest_scores()}
    if not scored or (config.workloads and not scored & {w.name for w in config.workloads}):
        _no_scores(ctx, store.display_url)
    try:
        files = write_site(config, store, target, whatif=stored_whatif(config, store))
    except OSError as err:
        raise ConfigError(f"--html {target}: cannot write: {err.strerror or err}") from None
    click.echo(f"wrote {files[0]} and {len(files) - 1} workload page(s) in {target / 'workloads'}")


def _send(ctx: click.Context, config: Config, store: Store, now: datetime, owner: str | None) -> None:
    from failover.mail import send_weekly

    result = send_weekly(config, store, now=now, vantage=config.vantage or "", owner=owner)
    if result.no_scores:
        _no_scores(ctx, store.display_url)
    for addr in result.sent:
        click.echo(f"sent {result.iso_week} to {addr}")
    for addr, why in result.skipped.items():
        echo_line(f"skipped {addr}: {why}")
    for addr, err in result.failed.items():
        echo_line(f"failed {addr}: {err}", err=True)  # the SMTP server's words: remote text
    if result.failed:
        ctx.exit(3)
