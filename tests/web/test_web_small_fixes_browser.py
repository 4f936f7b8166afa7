"""The walk-through's small fixes on a phone (issue 23 §7), in a real headless Chromium
at 390x844 with touch: the "MP3 quality" row hidden for the other formats, a mono file
with binaural beats refused by the channels field before anything is queued, and the
Write page keeping the typed draft when a chosen file is too large or not UTF-8, and
saying how long so far while its check runs.

Run ``bash scripts/install_browser.sh`` once to install Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kv_testing import BROWSER_TESTS, PHONE

DRAFT = "---\ntitle: My draft\n---\n\n## Start\nA line I typed and do not want to lose.\n"

pytestmark = BROWSER_TESTS


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


def _shown(page: Any, selector: str) -> bool:
    return bool(page.locator(selector).is_visible())


def test_mp3_quality_shows_for_mp3_only(phone: Any, site) -> None:
    phone.goto(site.base + "/timer")
    row = "[data-mp3-only]"
    assert _shown(phone, row)
    for fmt in ("wav", "flac", "ogg", "opus", "m4a"):
        options = phone.locator("#format option").evaluate_all("os => os.map(o => o.value)")
        if fmt not in options:
            continue
        phone.locator("#format").select_option(fmt)
        assert not _shown(phone, row), fmt
        display = phone.locator(row).evaluate("el => getComputedStyle(el).display")
        assert display == "none", fmt
    phone.locator("#format").select_option("mp3")
    assert _shown(phone, row)


def test_mono_with_binaural_beats_is_refused_by_the_channels_field(phone: Any, site) -> None:
    phone.goto(site.base + "/timer")
    phone.locator("#t-background").select_option("binaural-theta")
    phone.locator("#channels").select_option("mono")
    phone.get_by_role("button", name="Render the timer").click()
    error = phone.locator("[data-field-error=channels]")
    error.wait_for()
    assert "stereo" in error.inner_text().lower() and "--mono" not in error.inner_text()
    assert phone.url.endswith("/timer")  # still the form: nothing was queued
    assert site.state.jobs.running() == 0 and site.state.db.sessions() == []
    assert error.bounding_box()["width"] <= 390
    # the same from the Build form's server side (a practice's own binaural background too)
    fields = {"token": site.token, "minutes": "1", "bell": "bowl", "warmup": "0s"}
    fields |= {"background": "binaural-theta", "engine": "pyttsx3", "format": "mp3"}
    fields |= {"channels": "mono"}
    refused = site.request("/timer", fields, headers={"Accept": "application/json"})
    assert refused.status == 400 and refused.json()["field"] == "channels"
    build = {"token": site.token, "practice": "one-minute-break", "minutes": "1", "rate": "1"}
    build |= {"engine": "pyttsx3", "format": "mp3", "channels": "mono", "bg_binaural-delta": "1"}
    build |= {"bg_binaural-delta_db": "0"}
    refused = site.request("/build", build, headers={"Accept": "application/json"})
    assert refused.status == 400 and refused.json()["field"] == "channels", refused.text


def test_an_upload_error_keeps_the_typed_draft(phone: Any, site, tmp_path: Path) -> None:
    phone.goto(site.base + "/write")
    editor = phone.get_by_label("Template text")
    editor.fill(DRAFT)
    big = tmp_path / "big.md"
    big.write_text("# " + "words " * 1_000_000)  # about 6 MB
    phone.set_input_files("#file", str(big))
    note = phone.locator("#file-error")
    note.wait_for()
    assert "at most" in note.inner_text() and "kept" in note.inner_text()
    assert editor.input_value() == DRAFT
    latin = tmp_path / "latin.md"
    latin.write_bytes("---\ntitle: Caf\xe9\n---\n".encode("latin-1"))
    phone.set_input_files("#file", str(latin))
    phone.wait_for_function("() => /UTF-8/.test(document.getElementById('file-error').textContent)")
    assert editor.input_value() == DRAFT
    assert phone.url.endswith("/write")  # never left the page
    # a good file replaces the draft only when the teacher says so
    good = tmp_path / "good.md"
    good.write_text("---\ntitle: From a file\n---\n")
    phone.once("dialog", lambda dialog: dialog.dismiss())
    phone.set_input_files("#file", str(good))
    phone.wait_for_function("() => document.getElementById('file').value === ''")
    assert editor.input_value() == DRAFT
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.set_input_files("#file", str(good))
    phone.wait_for_function("() => document.getElementById('text').value.includes('From a file')")
    # the check is one request: while it runs (held here by the server), the page says
    # for how long so far (read as it changes: the page cannot be asked while its form
    # is being sent)
    release = threading.Event()
    app = site.running.server.app
    app.wsgi_app = _held_posts(app.wsgi_app, "/write", release)
    said: list[str] = []
    phone.expose_function("kindvoiceSaw", lambda text: said.append(text))
    phone.evaluate(
        """() => { const line = document.querySelector('[data-write-status]');
        new MutationObserver(() => window.kindvoiceSaw(line.textContent))
          .observe(line, { childList: true, characterData: true, subtree: true }); }"""
    )
    phone.get_by_role("button", name="Check it").click(no_wait_after=True)
    started = time.monotonic()
    while len(said) < 2 and time.monotonic() - started < 6:
        phone.wait_for_timeout(100)
    release.set()
    assert said[:2] == [
        "Checking every length of its range… (0:02 so far)",
        "Checking every length of its range… (0:03 so far)",
    ], said
    phone.wait_for_function("() => !document.querySelector('[data-write-status]:not([hidden])')")
    assert "From a file" in phone.get_by_label("Template text").input_value()  # the answer
    # without the page's script, a file that is not UTF-8 still keeps the typed text
    reply = site.request(
        "/write",
        _multipart({"token": site.token, "text": DRAFT, "engine": "pyttsx3"}, latin.read_bytes()),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert reply.status == 422 and "A line I typed" in reply.text


BOUNDARY = "kindvoiceboundary"


def _multipart(fields: dict[str, str], data: bytes) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.md"\r\n'
        "Content-Type: text/markdown\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _held_posts(inner: Any, path: str, release: threading.Event) -> Any:
    """WSGI middleware: a POST to ``path`` waits for ``release`` (at most 30 s)."""

    def held(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == path:
            release.wait(30)
        return inner(environ, start_response)

    return held
