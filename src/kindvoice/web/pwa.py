"""The listener's phone app, without an app store: the web app manifest, the service
worker and the practice-history page.

Routes (the ``bp`` blueprint, registered where the app is created):

- ``GET /manifest.webmanifest``: name, icons (192 and 512 px, a maskable one), start URL
  (the list of sessions), ``display: standalone``, the page's colours; installable on a
  phone's home screen;
- ``GET /sw.js``: ``static/sw.js`` served from the root, so its scope covers every page.
  It keeps the page's shell (style, scripts, icons, the history page) and, for the
  sessions the listener keeps offline ("Keep offline" on the player, Cache API), the
  audio, its page, its transcript and its cover; audio is answered with byte ranges so
  an offline copy seeks;
- ``GET /history``: the practice history, drawn by ``static/history.js`` from the
  browser's own storage. No route stores or receives it: it never leaves the phone.

The icons are PNGs drawn by ``scripts/make_icons.py`` and committed in ``static/icons/``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, send_from_directory, url_for
from werkzeug.wrappers import Response as BaseResponse

bp = Blueprint("pwa", __name__)

NAME = "kindvoice"
THEME = "#2d6a5f"  # the page's accent (style.css --accent)
BACKGROUND = "#f6f4ef"  # the page's background (style.css --bg)
#: the service worker script in static/ (its cache names carry their version)
SW_FILE = "sw.js"


def manifest() -> dict[str, object]:
    """The web app manifest: what a phone needs to install the page as an app."""

    def icon(name: str, size: int, purpose: str = "any") -> dict[str, str]:
        return {
            "src": url_for("static", filename=f"icons/{name}"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }

    return {
        "id": "/",
        "name": f"{NAME}: guided self-compassion sessions",
        "short_name": NAME,
        "description": "Your guided sessions, to listen to anywhere, also offline.",
        "start_url": url_for("sessions.sessions_page"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": BACKGROUND,
        "theme_color": THEME,
        "lang": "en",
        "categories": ["health", "lifestyle"],
        "icons": [
            icon("icon-192.png", 192),
            icon("icon-512.png", 512),
            icon("maskable-512.png", 512, "maskable"),
        ],
        "shortcuts": [
            {"name": "Your sessions", "url": url_for("sessions.sessions_page")},
            {"name": "Practice history", "url": url_for("pwa.history_page")},
        ],
    }


@bp.get("/manifest.webmanifest")
def manifest_file() -> BaseResponse:
    body = current_app.json.dumps(manifest())
    headers = {"Cache-Control": "no-cache"}
    return Response(body, mimetype="application/manifest+json", headers=headers)


@bp.get("/sw.js")
def service_worker() -> BaseResponse:
    static = current_app.static_folder
    assert static is not None  # the app always has its static folder
    response = send_from_directory(static, SW_FILE, mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"  # a new version is found at once
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/history")
def history_page() -> str:
    return render_template("history.html", nav="history")
