"""The HTTP server for the web app: werkzeug's threaded WSGI server on its own thread.

The server is a local tool's (a few people at once on one network), so werkzeug's
threaded server is enough and needs nothing beyond Flask. ``start_server`` returns a
handle with the address and ``stop()``; the CLI and the tests use the same function.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import logging
import socket
import threading
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from kindvoice.errors import UsageError

log = logging.getLogger(__name__)


@dataclass
class Running:
    """A server answering on ``host``:``port`` until ``stop()``."""

    server: BaseWSGIServer
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address to bind) is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str:
    """This machine's address on its local network (for the phone to open), else loopback.

    Connecting a UDP socket sends nothing; it only makes the kernel pick the outgoing
    interface, whose address is the one other devices reach."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, never contacted
            address = str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"
    return address


def start_server(app: Flask, host: str = "127.0.0.1", port: int = 8765) -> Running:
    """Serve ``app`` on ``host``:``port`` (0: any free port) from a daemon thread."""
    said = io.StringIO()  # werkzeug prints its own lines before it exits 1 (a port in use)
    try:
        with contextlib.redirect_stderr(said):
            server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        raise UsageError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. "
            "Choose another --port (or --port 0 for any free one)."
        ) from None
    except SystemExit:
        reason = (said.getvalue().splitlines() or ["cannot bind"])[0].rstrip(".")
        raise UsageError(
            f"Cannot listen on {host}:{port}: {reason} (another program, or another "
            "kindvoice, may be using it). Choose another --port (or --port 0 for any free one)."
        ) from None
    thread = threading.Thread(target=server.serve_forever, name="kindvoice-http", daemon=True)
    thread.start()
    running = Running(server, thread, host, server.server_port)
    log.info("serving on %s", running.url)
    return running
