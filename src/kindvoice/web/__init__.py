"""``kindvoice serve``: the whole tool in a browser (practices, build form, render jobs
with progress, a player with chapters and transcript, the library of sessions).

``app`` holds the Flask application and its guards, ``jobs`` the bounded render queue,
``renders`` what a job does, ``sessions`` the library folder, ``server`` the HTTP server
thread; ``templates/`` and ``static/`` are the pages, their style and their script.
"""

from __future__ import annotations

from kindvoice.web.app import create_app
from kindvoice.web.server import Running, lan_address, start_server

__all__ = ["Running", "create_app", "lan_address", "start_server"]
