"""``kindvoice serve --proxy https://...``: kindvoice behind a reverse proxy that adds
https (Caddy with a real certificate), the other honest route to offline copies on
phones (issue 23 §3). The printed links and the page's QR links are on the proxy's https
address, the page no longer says that offline copies need https, and a request without a
link is refused even though the server listens on 127.0.0.1 only (the proxy lets the
world in)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

PUBLIC = "https://kindness.example.org/"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "kindness.example.org"}


def _get(url: str, headers: dict[str, str]) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_serve_behind_an_https_proxy(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "kindvoice", "serve", "--library", str(tmp_path)]
    command += ["--port", "0", "--proxy", PUBLIC]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        printed = ""
        while "Listener's link" not in printed or not printed.rstrip().endswith("█"):
            line = server.stdout.readline()
            assert line, server.stderr.read() if server.stderr else "serve stopped"
            printed += line
        address = re.search(r"kindvoice is at (http://127\.0\.0\.1:\d+/)", printed)
        assert address, printed
        teacher = re.search(rf"{re.escape(PUBLIC)}\?token=(\S+)", printed)
        assert teacher, printed  # the links printed are the proxy's https ones
        local = address.group(1)

        # what the proxy forwards: the page's links are https, and it says nothing of http
        headers = {**FORWARDED, "Cookie": f"kindvoice_token={teacher.group(1)}"}
        status, page = _get(local + "sessions", headers)
        assert status == 200, page
        assert f'href="{PUBLIC}?token=' in page
        assert "data-http-note" not in page
        # without the proxy's https, the teacher is told (the plain http case)
        status, page = _get(local + "sessions", {"Cookie": headers["Cookie"]})
        assert status == 200 and "data-http-note" in page
        # no link, no page: the proxy lets anyone reach this loopback server
        status, page = _get(local + "sessions", dict(FORWARDED))
        assert status == 403, page
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
