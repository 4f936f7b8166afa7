"""``kindvoice serve``: start the web page (``kindvoice.web``) and print its two links
(the teacher's and the listener's), each with a QR code for a phone to scan. The links
stay the same across restarts (the tokens are kept in the data folder) until
``--new-token`` rotates them or ``--token`` sets the teacher's."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click

from kindvoice.cli.app import cli
from kindvoice.errors import UsageError

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
@click.option(
    "--token",
    metavar="TOKEN",
    help="Use this teacher's token from now on (kept, like the generated ones).",
)
@click.option(
    "--new-token", is_flag=True, help="Make new links (both tokens): the old ones stop working."
)
@click.option(
    "--proxy",
    metavar="URL",
    help="The https address a reverse proxy on this computer serves kindvoice at (e.g. "
    "Caddy with a real certificate): links and QR codes use it, the proxy's "
    "X-Forwarded-Proto and -Host are trusted, and links are needed even on 127.0.0.1.",
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
    token: str | None,
    new_token: bool,
    proxy: str | None,
) -> None:
    """Serve kindvoice as a web page: choose, render, listen, download.

    It prints two links: the teacher's (render, upload, delete) and the listener's
    (play, download, subscribe to the podcast feed). The database of sessions,
    templates, courses and renders and the two tokens are kept in the data folder
    (with --library, in that folder)."""
    import webbrowser

    from kindvoice.web import create_app, start_server
    from kindvoice.web.server import is_loopback
    from kindvoice.web.sessions import default_library

    # werkzeug logs every request at INFO; show them only with -v
    logging.getLogger("werkzeug").setLevel(logging.getLogger().getEffectiveLevel())
    local = is_loopback(host) and proxy is None  # behind a proxy, others reach it
    folder = (library or default_library()).expanduser()
    # the default library's state lives in the data folder above it; another library's in it
    data_dir = folder if library else folder.parent
    if library:  # the recorded voices the page records and the renders read live there too
        from kindvoice.settings import LIBRARY_ENV

        os.environ[LIBRARY_ENV] = str(folder)
    proxy = _checked(token, proxy)
    app = create_app(
        folder,
        require_token=not local,
        workers=workers,
        queue_limit=queue_limit,
        templates_dir=ctx.obj["templates_dir"],
        data_dir=data_dir,
        new_token=new_token,
        token=token,
    )
    if proxy is not None:  # the page's links and QR codes on the proxy's address
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]
    running = start_server(app, host, port)
    url = _say_where(running, app.extensions["kindvoice"], host, proxy, folder, data_dir)
    if open_browser:
        webbrowser.open(url)
    _serve_until_stopped(running)


def _checked(token: str | None, proxy: str | None) -> str | None:
    """Refuse a weak ``--token`` or a bad ``--proxy``; the proxy's address ends in "/"."""
    from kindvoice.web.db import TOKEN_RULE, valid_token

    if token is not None and not valid_token(token):
        raise UsageError(
            f"--token {token!r}: use {TOKEN_RULE} (or leave it out for a generated one)."
        )
    if proxy is None:
        return None
    from kindvoice.publish.feed import check_base_url

    return check_base_url(proxy, "--proxy").rstrip("/") + "/"


def _say_where(
    running: Any, state: Any, host: str, proxy: str | None, folder: Path, data_dir: Path
) -> str:
    """Print where the page is, the two links (with QR codes when phones can reach them)
    and where things are kept; returns the teacher's link."""
    from kindvoice.web import lan_address
    from kindvoice.web.links import links, qr_text
    from kindvoice.web.server import is_loopback

    local = is_loopback(host) and proxy is None
    shown = lan_address() if host in ("0.0.0.0", "::") else host
    base = proxy or (running.url if local else f"http://{shown}:{running.port}/")
    both = links(base, state.token, state.listener_token)
    if proxy is not None:
        click.echo(f"kindvoice is at {running.url}, behind your proxy at {proxy} (Ctrl-C to stop)")
    elif local:
        click.echo(f"kindvoice is at {running.url}  (only on this computer; Ctrl-C to stop)")
    else:
        click.echo("kindvoice is open to your network (Ctrl-C to stop). Scan a code with a phone.")
    click.echo(f"Teacher's link (render, upload, delete; keep it to yourself):\n  {both.teacher}")
    if not local:
        click.echo(qr_text(both.teacher))
    click.echo(f"Listener's link (play, download, subscribe; to share):\n  {both.listener}")
    if not local:
        click.echo(qr_text(both.listener))
        click.echo("Without one of these links every request is refused.")
    else:
        click.echo("For phones, start it with --host 0.0.0.0 (the links then get QR codes).")
    click.echo(f"Sessions are saved in {folder}; the database and links in {data_dir}")
    return str(both.teacher)


def _serve_until_stopped(running: Any) -> None:
    """Wait for Ctrl-C or `kill`, then stop: a render putting its files in place first."""
    from kindvoice.export.commit_guard import finish_commits

    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    try:
        while running.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("Stopping.", err=True)
    finally:
        running.stop()
        # a render putting its files in place finishes that first: whole sets only
        if not finish_commits():
            log.warning("a render was still putting its files in place")
