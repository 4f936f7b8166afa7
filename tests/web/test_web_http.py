"""The web app over real HTTP (a server on 127.0.0.1, urllib as the client): the guards
(token, Host, CSRF, upload size, paths), template validation, the range endpoint, renders
through the queue (timer, preview) and the library with delete."""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path

import mutagen
import pytest

BROKEN = (
    "---\n"
    "title: Broken\n"
    "minutes: {min: 1, default: 2, max: 5}\n"
    "---\n"
    "\n"
    "## Start\n"
    "Hello there.\n"
    "[paws 5s]\n"
)
VALID = (
    "---\n"
    "title: A Short Pause\n"
    "summary: One minute of kindness.\n"
    "minutes: {min: 1, default: 2, max: 5}\n"
    "---\n"
    "\n"
    "## Arriving\n"
    "Let yourself arrive.\n"
    "[pause 5s~]\n"
)


# --------------------------------------------------------------------------- guards


def test_token_refused_without_it_when_required(start_site) -> None:
    site = start_site(require_token=True)
    for path in (
        "/",
        "/build",
        "/sessions",
        "/api/sessions",
        "/files/x.mp3",
        "/manifest.webmanifest",
    ):
        reply = site.request(path)
        assert reply.status == 403, path
    # the page's style and scripts hold no data: served, so the refusal page is styled
    assert site.request("/static/app.js").status == 200
    refused = site.request("/")
    assert "access link" in refused.text
    assert site.token not in refused.text  # the refusal page must not hand it out
    assert site.request("/?token=wrong").status == 403

    # the link with the token sets a strict cookie and drops the token from the address
    first = site.request(f"/sessions?token={site.token}")
    assert first.status == 303
    assert first.headers["Location"] == "/sessions"
    cookie = first.headers["Set-Cookie"]
    assert f"kindvoice_token={site.token}" in cookie
    assert "SameSite=Strict" in cookie and "HttpOnly" in cookie

    jar = {"Cookie": f"kindvoice_token={site.token}"}
    assert site.request("/sessions", headers=jar).status == 200
    assert site.request("/api/sessions", headers=jar).json() == []
    # the cookie alone does not make a POST: the form's token must come with it (CSRF)
    assert site.request("/write", {"text": VALID}, headers=jar).status == 403
    ok = site.request("/write", {"text": VALID, "token": site.token}, headers=jar)
    assert ok.status == 200


def test_loopback_needs_no_token_to_read_but_checks_host_and_posts(site) -> None:
    assert site.request("/").status == 200
    assert "The Self-Compassion Break" in site.request("/").text
    # DNS rebinding: a page elsewhere reaching the loopback server under its own name
    rebound = site.request("/", headers={"Host": "evil.example:80"})
    assert rebound.status == 403 and site.token not in rebound.text
    assert site.token in site.request("/").text  # the page's own forms carry it
    assert site.request("/write", {"text": VALID}).status == 403  # no token in the form
    assert site.request("/write", {"text": VALID, "token": "guess"}).status == 403
    assert site.post("/write", {"text": VALID}).status == 200


def test_paths_never_leave_the_library(site, tmp_path: Path) -> None:
    secret = tmp_path / "secret.mp3"
    secret.write_bytes(b"SECRET")
    (site.library / "link.mp3").symlink_to(secret)
    for path in (
        "/files/..%2Fsecret.mp3",
        "/files/%2e%2e%2fsecret.mp3",
        "/files/..%5Csecret.mp3",
        "/files/link.mp3",
        "/files/.hidden.mp3",
        "/files/%2Fetc%2Fpasswd",
        "/previews/..%2F..%2Fsecret.mp3",
        "/sessions/..%2Fsecret",
    ):
        reply = site.request(path)
        assert reply.status == 404, path
        assert b"SECRET" not in reply.body
    assert site.post("/sessions/..%2Fsecret/delete", {}).status == 404
    assert site.post("/sessions/link/delete", {}).status == 404
    assert secret.read_bytes() == b"SECRET"
    # a practice is an id or an upload, never a path
    reply = site.request("/build?practice=/etc/passwd")
    assert reply.status == 400 and "Unknown practice" in reply.text


def test_oversized_upload_refused(site) -> None:
    big = "x" * (1024 * 1024 + 10)
    reply = site.post("/write", {"text": big})
    assert reply.status == 413
    assert "this page takes at most 1024 KB" in reply.text
    assert not any((site.library / "templates").glob("*.md"))


# --------------------------------------------------------------------------- templates


def test_broken_template_shows_its_line(site) -> None:
    reply = site.post("/write", {"text": BROKEN})
    assert reply.status == 422
    assert "Line 8, column 1:" in reply.text
    assert "Unknown marker" in reply.text
    bad = re.search(r'<li class="bad"[^>]*><code>(.*?)</code>', reply.text)
    assert bad is not None and bad.group(1) == "<mark>[paws 5s]</mark>"  # from column 1


def test_uploaded_template_is_data_and_can_be_built(site) -> None:
    reply = site.post("/write", {"text": VALID})
    assert reply.status == 200
    link = re.search(r'href="(/build\?practice=upload(?:%3A|:)[0-9a-f]{16})"', reply.text)
    assert link is not None
    saved = list((site.library / "templates").glob("*.md"))
    assert len(saved) == 1 and saved[0].read_text(encoding="utf-8") == VALID
    page = site.request(link.group(1))
    assert page.status == 200 and "A Short Pause (your template)" in page.text


def test_yaml_tags_are_not_executed(site, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n---\nHello.\n"
    reply = site.post("/write", {"text": evil})
    assert reply.status == 422
    assert not marker.exists()


# --------------------------------------------------------------------------- renders


def test_range_endpoint_measures_the_voice(site) -> None:
    query = "practice=self-compassion-break&engine=pyttsx3&voice=&rate=0.9"
    answer = site.request(f"/api/range?{query}").json()
    assert 60 < answer["low_s"] < 180  # the script's shortest, measured with espeak
    # [from] blocks make the longer versions longer: the whole written range fits, and the
    # longest version could run past it (the range is not the one at the default length)
    assert answer["high_s"] is None or answer["high_s"] > 30 * 60
    assert (answer["min"], answer["max"], answer["step"]) == (3.0, 30.0, 0.5)
    assert "en-us" in answer["voice"]
    bad = site.request("/api/range?practice=nope&engine=pyttsx3&voice=&rate=1")
    assert bad.status == 400 and "Unknown practice" in bad.json()["error"]


def test_timer_renders_lists_and_deletes(site) -> None:
    fields = {
        "minutes": "1",
        "warmup": "0s",
        "interval": "",
        "at": "",
        "bell": "chime",
        "background": "none",
        "welcome": "",
        "engine": "pyttsx3",
        "format": "wav",
        "channels": "mono",
        "bitrate": "",
    }
    queued = site.post("/timer", fields)
    assert queued.status == 303
    job_id = queued.headers["Location"].rsplit("/", 1)[1]
    state = site.wait_job(f"/api/jobs/{job_id}")
    assert state["status"] == "done", state["message"]
    assert state["percent"] == 100.0

    sessions = site.request("/api/sessions").json()
    assert [s["stem"] for s in sessions] == [state["result"]]
    files = sessions[0]["files"]
    audio = site.library / files["audio"]
    assert audio.suffix == ".wav"
    # 3 s lead-in + 60 s + the chime's ring-out (3.8 s) + 4 s tail
    assert mutagen.File(audio).info.length == pytest.approx(70.8, abs=0.1)
    player = site.request(state["url"])
    assert player.status == 200 and f'src="/files/{files["audio"]}"' in player.text
    download = site.request(f"/files/{files['audio']}?download=1")
    assert download.body == audio.read_bytes()
    assert "attachment" in download.headers["Content-Disposition"]

    gone = site.post(f"/sessions/{state['result']}/delete", {})
    assert gone.status == 303
    assert site.request("/api/sessions").json() == []
    assert list(site.library.glob(f"{state['result']}*")) == []
    assert list(site.library.glob(f".{state['result']}*")) == []  # nor its stamp


def test_bad_timer_schedule_is_refused_before_queueing(site) -> None:
    reply = site.post(
        "/timer",
        {
            "minutes": "5",
            "warmup": "soon",
            "bell": "bowl",
            "background": "none",
            "engine": "pyttsx3",
            "format": "mp3",
        },
    )
    assert reply.status == 400 and "Cannot read the warm-up 'soon'" in html.unescape(reply.text)


def test_preview_rendered_on_demand_then_cached(site) -> None:
    headers = {"X-Kindvoice-Token": site.token}
    first = site.request("/api/previews/soothing-touch", b"", headers=headers).json()
    assert "job" in first and "url" not in first
    state = site.wait_job(first["poll"])
    assert state["status"] == "done", state["message"]
    # named by the digest of what it was made from: a changed script is rendered again
    assert re.fullmatch(r"/previews/soothing-touch\.[0-9a-f]{12}\.mp3", state["url"])
    clip = site.library / "previews" / state["url"].rsplit("/", 1)[1]
    assert mutagen.File(clip).info.length == pytest.approx(30.0, abs=0.05)
    again = site.request("/api/previews/soothing-touch", b"", headers=headers).json()
    assert again == {"url": state["url"]}
    assert site.request(again["url"]).body == clip.read_bytes()
    assert site.request("/api/previews/soothing-touch", b"").status == 403  # no token


def test_queue_full_is_refused_with_a_message(start_site) -> None:
    site = start_site(workers=1, queue_limit=1)
    jobs = site.state.jobs
    release = threading.Event()
    jobs.submit("session", "blocker", lambda progress: str(release.wait(60)))
    reply = site.post(
        "/timer",
        {
            "minutes": "1",
            "bell": "chime",
            "background": "none",
            "engine": "pyttsx3",
            "format": "mp3",
        },
    )
    release.set()
    assert reply.status == 429
    assert "1 renders are already waiting or running (the limit is 1)" in reply.text
