"""The voice field over real HTTP: each engine's list (as data and as the page's markup)
with its default selected, a practice's own language choosing the preselected voice, a
voice sample rendered with espeak through the queue, decoded by ffmpeg, then served from
the file; bad voice names refused with one line listing the choices, before any work.

Kokoro is never rendered here: listing its voices reads a table, nothing more."""

from __future__ import annotations

import html
import re
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

KOKORO = ["heart", "bella", "nicole", "michael", "emma", "george"]
KOKORO_OTHER = ["dora", "alex", "dora-br", "alex-br", "siwis", "sara", "nicola"]
ESPEAK = ["en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-029"]
ESPEAK_OTHER = ["es", "es-419", "fr", "it", "pt-br"]
SPANISH = (
    "---\n"
    "title: Una pausa\n"
    "language: es\n"
    "minutes: {min: 1, default: 2, max: 5}\n"
    "---\n"
    "\n"
    "## Llegar\n"
    "Respira con calma.\n"
    "[pause 5s~]\n"
)


def _checked(markup: str) -> list[str]:
    """The values of the checked voice radios in some markup."""
    return re.findall(
        r'<input type="radio" name="voice" id="[^"]+" value="([^"]+)" checked', markup
    )


def _radios(markup: str) -> list[str]:
    return re.findall(r'<input type="radio" name="voice" id="[^"]+" value="([^"]+)"', markup)


def _decode_seconds_and_rms(data: bytes, tmp_path: Path) -> tuple[float, float]:
    """Decode audio bytes with the ffmpeg binary (not kindvoice): (seconds, RMS)."""
    import imageio_ffmpeg

    path = tmp_path / "sample.mp3"
    path.write_bytes(data)
    raw = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-f",
            "f32le",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    samples = np.frombuffer(raw, dtype=np.float32)
    return len(samples) / 16000, float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_kokoro_list_has_every_voice_and_the_default_selected(site) -> None:
    answer = site.request("/api/voices?engine=kokoro&practice=self-compassion-break").json()
    assert answer["engine"] == "kokoro"
    assert [v["name"] for v in answer["voices"]] == KOKORO + KOKORO_OTHER
    assert (answer["selected"], answer["default"]) == ("heart", "heart")
    heart = answer["voices"][0]
    assert heart["language"] == "en-US" and "warm female" in heart["description"]
    assert heart["label"].startswith("heart: en-US, warm female")
    # the markup the page swaps in: one radio each, heart checked, a play button each
    assert _radios(answer["html"]) == KOKORO + KOKORO_OTHER
    assert _checked(answer["html"]) == ["heart"]
    assert answer["html"].count("data-sample=") == len(KOKORO + KOKORO_OTHER)
    assert 'aria-label="Play a sample of nicole"' in answer["html"]

    # the pages themselves, asked for the Kokoro engine, render the same list
    for path in ("/build?practice=self-compassion-break&engine=kokoro", "/timer?engine=kokoro"):
        page = site.request(path).text
        assert re.search(r'<option value="kokoro"\s*selected>', page), path
        assert _radios(page) == KOKORO + KOKORO_OTHER, path
        assert _checked(page) == ["heart"], path


def test_the_engine_changes_the_list(site) -> None:
    # the tests' default engine is espeak (tests/conftest.py): the page opens with it
    page = site.request("/build?practice=self-compassion-break").text
    assert _radios(page) == ESPEAK + ESPEAK_OTHER
    assert _checked(page) == ["en-us"]
    espeak = site.request("/api/voices?engine=pyttsx3").json()
    kokoro = site.request("/api/voices?engine=kokoro").json()
    assert [v["name"] for v in espeak["voices"]] == ESPEAK + ESPEAK_OTHER
    assert espeak["selected"] == "en-us"
    assert not {v["name"] for v in espeak["voices"]} & {v["name"] for v in kokoro["voices"]}
    assert _checked(espeak["html"]) == ["en-us"]
    bad = site.request("/api/voices?engine=espeak")
    assert bad.status == 400
    assert bad.json()["error"] == "Unknown engine 'espeak'. Choose one of: kokoro, piper, pyttsx3"


def test_a_practice_in_another_language_preselects_a_voice_of_it(site) -> None:
    reply = site.post("/write", {"text": SPANISH})
    assert reply.status == 200
    practice = re.search(r"practice=(upload(?:%3A|:)[0-9a-f]{16})", reply.text)
    assert practice is not None
    query = f"practice={practice.group(1)}"
    assert site.request(f"/api/voices?engine=kokoro&{query}").json()["selected"] == "dora"
    assert site.request(f"/api/voices?engine=pyttsx3&{query}").json()["selected"] == "es"
    page = site.request(f"/build?{query}&engine=kokoro").text
    assert _checked(page) == ["dora"]


def test_sample_rendered_on_demand_then_served_from_the_file(start_site, tmp_path: Path) -> None:
    site = start_site(workers=1)
    headers = {"X-Kindvoice-Token": site.token}
    fields = {"engine": "pyttsx3", "voice": "en-gb"}
    # hold the only worker, so two plays of one voice meet while the first is waiting
    release = threading.Event()
    site.state.jobs.submit("session", "blocker", lambda progress: str(release.wait(60)))
    older = site.library / "previews" / "voice_pyttsx3_en-gb.0123456789ab.mp3"
    older.parent.mkdir(parents=True, exist_ok=True)
    older.write_bytes(b"ID3 a sample of the voice before an upgrade")
    first = site.request("/api/voices/sample", fields, headers).json()
    second = site.request("/api/voices/sample", fields, headers).json()
    release.set()
    assert "job" in first and "url" not in first
    assert second["job"] == first["job"]  # rendered once

    state = site.wait_job(first["poll"])
    assert state["status"] == "done", state["message"]
    # named by what it is made from (the passage, the voice's identity, the encoding)
    assert re.fullmatch(r"/previews/voice_pyttsx3_en-gb\.[0-9a-f]{12}\.mp3", state["url"])
    assert not older.exists()  # the old voice's sample is gone
    clip = site.request(state["url"])
    assert clip.status == 200 and clip.headers["Content-Type"] == "audio/mpeg"
    seconds, rms = _decode_seconds_and_rms(clip.body, tmp_path)
    assert 10.0 < seconds < 40.0  # the sample passage, about half a minute
    assert rms > 0.01  # speech, not silence
    kept = site.library / "previews" / state["url"].rsplit("/", 1)[1]
    assert kept.read_bytes() == clip.body

    again = site.request("/api/voices/sample", fields, headers).json()
    assert again == {"url": state["url"]}  # the kept file: no job
    assert site.request("/api/voices/sample", fields).status == 403  # no token


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"engine": "pyttsx3", "voice": "heart"},
            "Unknown pyttsx3 voice 'heart'. Choose one of: en-029, en-gb, en-gb-scotland, "
            "en-gb-x-rp, en-us, es, es-419, fr, it, pt-br",
        ),
        (
            {"engine": "kokoro", "voice": "hart"},
            "Unknown kokoro voice 'hart'. Did you mean heart, sara? Choose one of: alex, alex-br, "
            "bella, dora, dora-br, emma, george, heart, michael, nicola, nicole, sara, siwis",
        ),
        ({"engine": "kokoro", "voice": "../../etc/passwd"}, "Unknown kokoro voice"),
        ({"engine": "espeak", "voice": "en-us"}, "Unknown engine 'espeak'"),
    ],
)
def test_bad_voice_names_are_refused_with_the_choices(site, fields, message) -> None:
    headers = {"X-Kindvoice-Token": site.token}
    reply = site.request("/api/voices/sample", fields, headers)
    assert reply.status == 400
    assert reply.json()["error"].startswith(message)
    assert "\n" not in reply.json()["error"]
    assert not (site.library / "previews").exists()  # nothing was rendered


def test_forms_refuse_a_voice_they_do_not_offer_before_queueing(site) -> None:
    build = site.post(
        "/build",
        {
            "practice": "self-compassion-break",
            "minutes": "5",
            "engine": "pyttsx3",
            "voice": "michael",
            "rate": "1",
            "format": "mp3",
        },
    )
    assert build.status == 400
    assert "Unknown pyttsx3 voice 'michael'. Choose one of: en-029" in html.unescape(build.text)
    ranged = site.request("/api/range?practice=self-compassion-break&engine=kokoro&voice=x&rate=1")
    assert ranged.status == 400 and ranged.json()["error"].startswith("Unknown kokoro voice 'x'")
    timer = site.post(
        "/timer",
        {
            "minutes": "1",
            "bell": "chime",
            "background": "none",
            "engine": "pyttsx3",
            "voice": "nobody",
            "format": "mp3",
        },
    )
    assert timer.status == 400
    assert "Unknown pyttsx3 voice 'nobody'" in html.unescape(timer.text)


def test_every_espeak_voice_offered_is_one_espeak_has() -> None:
    from kindvoice.speech.pyttsx3_engine import Pyttsx3Engine, _resolve_voice
    from kindvoice.speech.synth import list_voices

    offered = Pyttsx3Engine.offered_voices()
    installed = list_voices("pyttsx3")
    resolved = {v.id: _resolve_voice(v.id, installed) for v in offered}
    assert resolved["en-us"].default
    assert resolved["pt-br"].language.casefold() == "pt-br"
    assert resolved["fr"].language.casefold().startswith("fr")
    assert len({v.id for v in resolved.values()}) == len(offered)  # all different
