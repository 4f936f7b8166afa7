"""The Course page over real HTTP: a tiny course built through the job queue into a
sub-folder of the library, then listed with its files served from there, each day in the
session player (also for a course built before ``course.json``, read from its playlist)."""

from __future__ import annotations

import mutagen
import pytest


def test_course_builds_into_the_library(site) -> None:
    form = site.request("/course")
    assert form.status == 200 and 'name="practices"' in form.text
    fields = {
        "title": "Tiny Kindness",
        "teacher": "Sam",
        "days": "2",
        "start_minutes": "3",
        "end_minutes": "3",
        "practices": "morning-intention",
        "background": "none",
        "engine": "pyttsx3",
    }
    assert site.request("/course", fields).status == 403  # no token: refused (CSRF)
    queued = site.post("/course", fields)
    assert queued.status == 303, queued.text
    job_id = queued.headers["Location"].rsplit("/", 1)[1]
    state = site.wait_job(f"/api/jobs/{job_id}")
    assert state["status"] == "done", state["message"]
    assert state["percent"] == 100.0

    folder = site.library / "courses" / state["result"]
    mp3s = sorted(p.name for p in folder.glob("*.mp3"))
    assert mp3s == ["01-morning-intention.mp3", "02-morning-intention.mp3"]
    for name in mp3s:
        assert mutagen.File(folder / name).info.length == pytest.approx(180.0, abs=0.5)
    playlist = (folder / "playlist.m3u").read_text(encoding="utf-8")
    assert playlist.startswith("#EXTM3U") and all(name in playlist for name in mp3s)

    page = site.request(state["url"])
    assert page.status == 200 and "A course by Sam" in page.text and "Day 1: " in page.text
    audio = site.request(f"/courses/{state['result']}/{mp3s[0]}")
    assert audio.status == 200 and audio.body == (folder / mp3s[0]).read_bytes()
    # names stay inside the course folder
    assert site.request(f"/courses/{state['result']}/..%2F..%2Fx.mp3").status == 404
    assert site.request(f"/courses/..%2F{state['result']}/{mp3s[0]}").status == 404
    assert site.request(f"/courses/{state['result']}/playlist.yaml").status == 404

    # each day opens the session player; its transcript downloads as text
    day = site.request(f"/courses/{state['result']}/days/2")
    assert day.status == 200 and 'id="player"' in day.text and "Day 2 of 2" in day.text
    words = site.request(f"/courses/{state['result']}/days/2/transcript.txt")
    assert words.status == 200 and words.text.startswith("Day 2: ")
    assert len(words.text.splitlines()) > 5
    assert site.request(f"/courses/{state['result']}/days/3").status == 404
    # in the listener's language: the page's words translated, the course's own marked
    spanish = {"Accept-Language": "es"}
    page = site.request(state["url"], headers=spanish)
    assert "Un curso de Sam: 2 días, de 3:00 a 3:00" in page.text
    assert "Guardar todo el curso sin conexión" in page.text and "Los 2 días: unos " in page.text
    assert '<h1 lang="en">Tiny Kindness</h1>' in page.text
    day = site.request(f"/courses/{state['result']}/days/2", headers=spanish)
    assert "Día 2 de 2" in day.text and "&lsaquo; Día 1</a>" in day.text
    # a Spanish course built before its tracks said "Día n": its page says it so
    manifest = folder / "course.json"
    english = manifest.read_text(encoding="utf-8")
    assert '"title": "Day 1: ' in english
    manifest.write_text(english.replace('"language": "en"', '"language": "es"'), "utf-8")
    page = site.request(state["url"]).text
    assert '<ol class="cards days" lang="es">' in page
    assert ">Día 1: " in page and ">Día 2: " in page and ">Day 1: " not in page
    assert ">Día 2: " in site.request(f"/courses/{state['result']}/days/2").text
    manifest.write_text(english, "utf-8")
    # a course built before course.json: its days come from the playlist
    (folder / "course.json").unlink()
    page = site.request(state["url"])
    assert page.status == 200 and page.text.count('href="/courses/') >= 2
    assert "Day 1: " in page.text and "Sam - Day 1" not in page.text
    assert site.request(f"/courses/{state['result']}/days/1").status == 200
