"""``failover demo``: the main job on an embedded default. Starts the local emulated clouds, a DNS
server and HTTPS endpoints, seeds three workloads, runs one real cycle into SQLite and prints the
scores. Same code paths as production; only the endpoints differ."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from failover.cli.options import console, format_option, open_store
from failover.cli.render import Format, emit
from failover.cli.render.views import DemoView
from failover.errors import FailoverError


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("failover-demo"),
    show_default=True,
    help="Where the demo writes its config, CA certificate and SQLite database.",
)
@click.option("--keep-running", is_flag=True, help="Keep the emulators up after the cycle (Ctrl-C to stop).")
@format_option()
def demo(directory: Path, keep_running: bool, fmt: Format) -> None:
    """Run one real cycle against local emulated AWS, GCP and Azure clouds and print the scores."""
    try:
        from failover.sandbox import demo as estate_mod
    except ImportError as err:  # moto, dnslib or trustme missing
        raise FailoverError(f"the demo needs the sandbox extra: pip install 'failover[sandbox]' ({err})") from None
    import yaml

    from failover.config import load_config
    from failover.runner import run_cycle
    from failover.whatif import matrix

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    starting = console(stderr=True).status("starting local AWS, GCP, Azure, DNS and HTTPS endpoints…")
    with starting as status, estate_mod.running(directory) as estate:
        config_path = directory / "failover.yaml"
        header = (
            "# Written by `failover demo`: accounts point at local emulators that exist only while the\n"
            "# demo runs (use --keep-running to query them). `failover score -c` this file reads the\n"
            "# stored scores without them.\n"
        )
        config_path.write_text(header + yaml.safe_dump(estate.config, sort_keys=False))
        config = load_config(config_path)
        with open_store(config) as store:
            estate_mod.seed_store(store)
            status.update("running one cycle: inventory, probes, checks, score…")
            result = run_cycle(config, store, kind="demo", progress=lambda s: status.update(f"{s}…"))
            whatif = matrix(config, store)
        status.stop()
        elapsed = time.monotonic() - started
        view = DemoView(
            result.scores, result.findings, estate_mod.EXPECTED, elapsed, config.database, config_path, whatif
        )
        emit(view, fmt)
        if keep_running:
            click.echo(f"emulators running; config: {config_path}. Ctrl-C to stop.", err=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    sys.exit(0)
