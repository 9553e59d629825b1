"""``failover init`` (write the commented example config) and ``failover validate`` (check one)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from failover.cli.options import config_option, format_option
from failover.cli.render import Format, emit
from failover.cli.render.views import ConfigSummary, InvalidConfig
from failover.config import DEFAULT_CONFIG_NAME, example_config, find_config_path, load_config
from failover.errors import ConfigError
from failover.schema import Config

__all__ = ["init", "validate", "validate_summary"]


@click.command()
@click.argument("path", required=False, type=click.Path(), default=DEFAULT_CONFIG_NAME)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def init(path: str, force: bool) -> None:
    """Write a commented example config to PATH (default: ./failover.yaml)."""
    target = Path(path)
    if target.is_dir():
        target = target / DEFAULT_CONFIG_NAME
    text = example_config()
    try:
        with target.open("w" if force else "x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise ConfigError(f"{target} already exists; use --force to overwrite it") from None
    except FileNotFoundError:
        raise ConfigError(f"{target}: directory {target.parent} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{target} is a directory") from None
    except PermissionError:
        raise ConfigError(f"{target}: permission denied") from None
    except OSError as err:
        raise ConfigError(f"{target}: cannot write: {err.strerror or err}") from None
    click.echo(f"wrote {target}: edit its accounts and workloads, then run `failover validate -c {target}`")


@click.command()
@config_option
@format_option()
@click.pass_context
def validate(ctx: click.Context, config_path: str | None, fmt: Format) -> None:
    """Check the config file: exit 0 with a summary, or 2 with every problem located by line."""
    found = find_config_path(config_path)
    try:
        config = load_config(found if found is not None else config_path)
    except ConfigError as err:
        emit(InvalidConfig(found, err), fmt)  # the table format raises it as the usual error line
        ctx.exit(2)
    summary = validate_summary(config)
    summary["path"] = str(found) if found is not None else summary["path"]
    emit(ConfigSummary(summary), fmt)


def validate_summary(config: Config) -> dict[str, Any]:
    """What ``validate`` reports: counts, accounts, workloads with their sites, and warnings."""
    from failover.alerts.urls import shown_url

    warnings: list[str] = []
    mail: dict[str, Any] | None = None
    if config.mail is not None:
        smtp = config.mail.smtp
        mail = {
            "from": config.mail.from_,
            "smtp": f"{smtp.host}:{smtp.port}",
            "schedule": f"{config.mail.schedule.day} {config.mail.schedule.time} {config.mail.schedule.timezone}",
        }
        for key, name in (("username_env", smtp.username_env), ("password_env", smtp.password_env)):
            if name and name not in os.environ:
                warnings.append(f"mail.smtp.{key}: environment variable {name} is not set here")
    for w in config.workloads:
        for s in w.sites:
            if s.role == "secondary" and not s.endpoints:
                warnings.append(
                    f"workload {w.name}: secondary site {s.name} has no endpoints, so its HTTP health is not probed"
                )
    return {
        "valid": True,
        "path": str(config.source_path) if config.source_path else None,
        "counts": {
            "accounts": len(config.accounts),
            "workloads": len(config.workloads),
            "sites": sum(len(w.sites) for w in config.workloads),
        },
        "accounts": [{"name": a.name, "provider": a.provider, "scopes": a.scopes} for a in config.accounts],
        "workloads": [
            {
                "name": w.name,
                "tier": w.tier,
                "owners": list(w.owners),
                "targets": {
                    "rto_s": w.targets.rto,
                    "rpo_s": w.targets.rpo,
                    "capacity_ratio": w.targets.capacity_ratio,
                    "max_dns_ttl_s": w.targets.max_dns_ttl,
                },
                "dns": {"name": w.dns.name, "mechanism": w.dns.mechanism, "account": w.dns.account} if w.dns else None,
                "sites": [
                    {
                        "name": s.name,
                        "role": s.role,
                        "account": s.account,
                        "provider": config.account(s.account).provider,
                        "regions": s.regions,
                        "endpoints": len(s.endpoints),
                    }
                    for s in w.sites
                ],
            }
            for w in config.workloads
        ],
        "mail": mail,
        # never the URL, secret or routing key: the host shows where alerts go
        "alerts": [{"name": a.name, "type": a.type, "host": shown_url(a.endpoint)} for a in config.alerts],
        "warnings": warnings,
    }
