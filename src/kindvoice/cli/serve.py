"""``kindvoice serve``: start the web page (``kindvoice.web``) and say where to open it."""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path
from types import FrameType

import click

from kindvoice.cli.app import cli

log = logging.getLogger(__name__)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 lets phones on your network in (with a token).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (0: any free port).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in your browser.")
@click.option(
    "--library",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for rendered sessions (default: your kindvoice data folder).",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Renders at once (default: one per core)."
)
@click.option(
    "--queue-limit",
    type=click.IntRange(1, 100),
    default=8,
    show_default=True,
    help="Renders waiting or running before new ones are refused.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    open_browser: bool,
    library: Path | None,
    workers: int | None,
    queue_limit: int,
) -> None:
    """Serve kindvoice as a web page: choose, render, listen, download."""
    import webbrowser

    from kindvoice.web import create_app, lan_address, start_server
    from kindvoice.web.server import is_loopback
    from kindvoice.web.sessions import default_library

    # werkzeug logs every request at INFO; show them only with -v
    logging.getLogger("werkzeug").setLevel(logging.getLogger().getEffectiveLevel())
    local = is_loopback(host)
    folder = (library or default_library()).expanduser()
    app = create_app(
        folder,
        require_token=not local,
        workers=workers,
        queue_limit=queue_limit,
        templates_dir=ctx.obj["templates_dir"],
    )
    running = start_server(app, host, port)
    token = app.extensions["kindvoice"].token
    if local:
        url = running.url
        click.echo(f"kindvoice is at {url}  (Ctrl-C to stop)")
    else:
        shown = lan_address() if host in ("0.0.0.0", "::") else host
        url = f"http://{shown}:{running.port}/?token={token}"
        click.echo("kindvoice is open to your network. On a phone on the same network, open:")
        click.echo(f"  {url}")
        click.echo("Anyone with this link can use it; without the token every request is refused.")
        click.echo("Ctrl-C to stop.")
    click.echo(f"Sessions are saved in {folder}")
    if open_browser:
        webbrowser.open(url)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    try:
        while running.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("Stopping.", err=True)
    finally:
        running.stop()
