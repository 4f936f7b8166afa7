"""``kindvoice serve``: the whole tool in a browser (practices, build form, render jobs
with progress, a player with chapters and transcript, the library of sessions).

``app`` creates the Flask application (guards, error pages) and registers one blueprint
per area: ``routes.pages`` (the forms' pages), ``routes.jobs`` (renders through the
queue), ``routes.sessions`` (the library), ``voices`` (the voice field) and ``pwa`` (the
phone app). ``forms`` reads and checks the forms, ``practices`` the practice cards,
``state`` what the routes share, ``jobs`` the bounded render queue, ``renders`` what a job
does, ``sessions`` the library folder, ``server`` the HTTP server thread; ``templates/``
and ``static/`` are the pages, their style and their scripts.
"""

from __future__ import annotations

from kindvoice.web.app import create_app
from kindvoice.web.server import Running, lan_address, start_server

__all__ = ["Running", "create_app", "lan_address", "start_server"]
