"""The clips that ship with the package (``kindvoice.web.shipped``): every bundled practice's
card preview and every offered default-engine voice's sample is there and made from the
script and voice as they are now; the page answers them at once, with no job; anything
changed falls back to the job; and they are real MP3s of their length."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from mutagen.mp3 import MP3

from kindvoice.languages import LANGUAGES
from kindvoice.settings import DEFAULT_ENGINE
from kindvoice.template.library import bundled_dir, list_practices
from kindvoice.web import shipped
from kindvoice.web.voices import choices, sample_name

from kv_testing import NEEDS_CHROMIUM

NO_USER_TEMPLATES = Path("/nonexistent/kindvoice-templates")  # bundled practices only
REMAKE = "remake them: `.venv/bin/python scripts/make_shipped.py` (it speaks only what changed)"


@pytest.fixture
def default_engine(monkeypatch: pytest.MonkeyPatch) -> str:
    """The real default engine (the tests' espeak stands aside): what ships is its."""
    monkeypatch.setenv("KINDVOICE_ENGINE", DEFAULT_ENGINE)
    return DEFAULT_ENGINE


def _expected() -> dict[str, str]:
    """Every clip that should ship -> the digest of what it is made from now."""
    expected = {}
    for voice in choices(DEFAULT_ENGINE):
        name = sample_name(DEFAULT_ENGINE, voice.name)
        expected[name] = shipped.sample_digest(DEFAULT_ENGINE, voice.name, voice.language)
    for code in LANGUAGES:
        for ref in list_practices(NO_USER_TEMPLATES, code):
            name = shipped.preview_name(ref.id, None if code == "en" else code)
            expected[name] = shipped.preview_digest(ref.path)
    return expected


def _matching(name: str) -> bool:
    """Whether the shipped ``name`` matches the bundled script as it is now (the tests
    of the page use such a one)."""
    return shipped.ready(name, _expected_digest(name)) is not None


def _expected_digest(name: str) -> str:
    practice, _, rest = name.partition(".")
    code = rest.removesuffix("mp3").rstrip(".") or "en"
    found = [r.path for r in list_practices(NO_USER_TEMPLATES, code) if r.id == practice]
    return shipped.preview_digest(found[0]) if found else ""


def test_every_practice_and_voice_has_a_current_shipped_clip(default_engine) -> None:
    entries = shipped.manifest()
    expected = _expected()
    missing = sorted(name for name in expected if name not in entries)
    stale = sorted(
        name
        for name, digest in expected.items()
        if name in entries and shipped.ready(name, digest) is None
    )
    extra = sorted(set(entries) - set(expected))
    assert not (missing or stale or extra), (
        f"shipped clips out of date: {len(missing)} missing {missing}, {len(stale)} made "
        f"from another script or voice {stale}, {len(extra)} no longer offered {extra}: "
        f"{REMAKE}"
    )


def test_shipped_clips_are_real_mp3s_of_their_length() -> None:
    entries = shipped.manifest()
    assert entries, f"no shipped clips: {REMAKE}"
    for name, entry in entries.items():
        path = shipped.FOLDER / name
        info = MP3(path).info  # mutagen reads the frames: a real MP3
        assert info.channels == 1 and info.bitrate == 32_000, name  # mono, speech bitrate
        assert info.length == pytest.approx(entry["seconds"], abs=0.05), name
        assert path.stat().st_size == entry["bytes"], name
        if entry["kind"] == "preview":
            assert info.length == pytest.approx(shipped.PREVIEW_SECONDS, abs=0.1), name
        else:  # the sample passage: about half a minute
            assert 10.0 < info.length < 45.0, name
        # 4 KB a second at 32 kbps, and the tags (the transcript; no cover): small
        assert entry["bytes"] < 4_000 * info.length + 16_000, name


def test_the_page_answers_shipped_clips_at_once(default_engine, start_site) -> None:
    site = start_site(require_token=True, templates_dir=NO_USER_TEMPLATES)
    teacher = {"Cookie": f"kindvoice_token={site.token}", "X-Kindvoice-Token": site.token}
    listener = {"Cookie": f"kindvoice_token={site.state.listener_token}"}
    previews = [n for n, e in shipped.manifest().items() if e["kind"] == "preview"]
    ready = [n for n in previews if _matching(n)]
    assert ready, f"no shipped preview matches its script: {REMAKE}"
    for name in ready[:3] + [n for n in ready if "." in n.removesuffix(".mp3")][:2]:
        practice, _, rest = name.partition(".")
        language = rest.removesuffix("mp3").rstrip(".")
        query = f"?language={language}" if language else ""
        answer = site.request(f"/api/previews/{practice}{query}", b"", headers=teacher).json()
        assert answer == {"url": f"/shipped/{name}"}, name  # no job
        clip = site.request(answer["url"], headers=listener)  # a listener plays it
        assert clip.status == 200 and clip.headers["Content-Type"] == "audio/mpeg"
        assert clip.body == (shipped.FOLDER / name).read_bytes()
    heart = site.request("/api/voices/sample", {"engine": "kokoro", "voice": "heart"}, teacher)
    assert heart.json() == {"url": "/shipped/voice_kokoro_heart.mp3"}
    assert site.request("/shipped/voice_kokoro_heart.mp3").status == 403  # no token
    assert site.request("/shipped/x.mp3", headers=teacher).status == 404  # not listed


def _held(site: Any) -> threading.Event:
    """The only worker held, so a job asked for waits (and never starts: the queue stops
    before the worker is let go)."""
    release = threading.Event()
    site.state.jobs.submit("session", "blocker", lambda progress: str(release.wait(60)))
    return release


def test_a_changed_script_falls_back_to_a_job(default_engine, start_site, tmp_path) -> None:
    name = next((n for n in shipped.manifest() if n.endswith(".mp3") and _matching(n)), None)
    name = "soothing-touch.mp3" if _matching("soothing-touch.mp3") else name
    assert name is not None and not name.startswith("voice_"), REMAKE
    practice = name.removesuffix(".mp3")
    own = tmp_path / "templates"  # the teacher's own copy, one word changed, wins
    own.mkdir()
    text = (bundled_dir() / f"{practice}.md").read_text(encoding="utf-8")
    changed = text.replace("\n## ", "\n## Now, ", 1)  # its first chapter renamed
    assert changed != text
    (own / f"{practice}.md").write_text(changed, "utf-8")
    site = start_site(workers=1, templates_dir=own)
    release = _held(site)
    try:
        teacher = {"X-Kindvoice-Token": site.token}
        answer = site.request(f"/api/previews/{practice}", b"", headers=teacher).json()
        assert "job" in answer and "url" not in answer
        job = site.state.jobs.get(answer["job"])
        assert job.kind == "preview" and job.status == "waiting"
    finally:
        site.state.jobs.shutdown()
        release.set()


def test_a_clip_made_from_something_else_is_not_served(
    default_engine, start_site, tmp_path, monkeypatch
) -> None:
    """A manifest entry whose digest is not what a render would be now (a new Kokoro
    format, another voice) is ignored: the sample is rendered as before."""
    folder = tmp_path / "shipped"
    shutil.copytree(shipped.FOLDER, folder)
    entries = json.loads((folder / shipped.MANIFEST).read_text(encoding="utf-8"))
    entries["files"]["voice_kokoro_heart.mp3"]["digest"] = "0" * 64
    (folder / shipped.MANIFEST).write_text(json.dumps(entries), encoding="utf-8")
    monkeypatch.setattr(shipped, "FOLDER", folder)
    site = start_site(workers=1, templates_dir=NO_USER_TEMPLATES)
    release = _held(site)
    try:
        teacher = {"X-Kindvoice-Token": site.token}
        fields = {"engine": "kokoro", "voice": "heart"}
        answer = site.request("/api/voices/sample", fields, teacher).json()
        assert "job" in answer and "url" not in answer
        other = site.request("/api/voices/sample", {**fields, "voice": "bella"}, teacher).json()
        assert other == {"url": "/shipped/voice_kokoro_bella.mp3"}  # its entry matches
        assert site.request("/shipped/voice_kokoro_heart.mp3").status == 200  # kept, not used
    finally:
        site.state.jobs.shutdown()
        release.set()


@pytest.mark.browser
@NEEDS_CHROMIUM
def test_a_card_preview_plays_at_once_on_a_phone(default_engine, start_site, phone) -> None:
    """A phone taps a card's "Play a preview": the shipped clip, no job, playing within
    moments (the time from the tap to playing is printed: issue 23's figure)."""
    from kindvoice.template.parse import load_template

    name = "soothing-touch.mp3" if _matching("soothing-touch.mp3") else None
    name = name or next((n for n in shipped.manifest() if "." not in n[:-4] and _matching(n)), None)
    assert name is not None, REMAKE
    practice = name.removesuffix(".mp3")
    title = load_template(bundled_dir() / f"{practice}.md").meta.title
    site = start_site(templates_dir=NO_USER_TEMPLATES)
    page = phone.new_page()
    page.goto(site.running.url)
    button = page.get_by_role("button", name=f"Play a preview of {title}", exact=True)
    button.scroll_into_view_if_needed()
    started = time.perf_counter()
    with page.expect_response("**/api/previews/**") as reply:
        button.tap()
    assert reply.value.json() == {"url": f"/shipped/{name}"}  # no job
    page.wait_for_function(
        f"""() => {{ const a = document.getElementById('preview-{practice}');
            return a.readyState >= 2 && !a.paused && a.currentTime > 0; }}""",
        timeout=20_000,
    )
    print(f"{practice}: playing {time.perf_counter() - started:.2f} s after the tap")
    audio = page.locator(f"#preview-{practice}")
    assert audio.evaluate("a => a.duration") == pytest.approx(shipped.PREVIEW_SECONDS, abs=0.2)
