"""Every output format through the page (real renders with espeak through the Build form):
the session list shows it and its player page and audio answer, with the format's mime
type from ``export.formats``; and the Background field's "none" can be chosen."""

from __future__ import annotations

import html
import json

import mutagen
import pytest
from werkzeug.datastructures import MultiDict

from kindvoice.export import formats
from kindvoice.web.forms import background_spec

# the formats the session list once left out (it knew only mp3, wav and flac)
FORMATS = ("m4a", "opus", "ogg")


def _build(site, fmt: str, **extra: str) -> dict:
    """Render the one-minute break in ``fmt`` through the Build form; the finished job."""
    fields = {
        "practice": "one-minute-break",
        "minutes": "1",
        "engine": "pyttsx3",
        "voice": "",
        "rate": "1",
        "format": fmt,
        "channels": "mono",
        **extra,
    }
    queued = site.post("/build", fields)
    assert queued.status == 303, html.unescape(queued.text)
    state = site.wait_job(queued.headers["Location"].replace("/jobs/", "/api/jobs/"))
    assert state["status"] == "done", state["message"]
    return state


def test_the_web_offers_every_format_of_the_table(site) -> None:
    page = site.request("/build?practice=one-minute-break").text
    offered = [v for v in formats.names() if f'<option value="{v}"' in page]
    assert offered == list(formats.names("web")) == list(formats.names())


def test_m4a_opus_and_ogg_renders_are_listed_and_play(site) -> None:
    done = {fmt: _build(site, fmt, bg_none="1") for fmt in FORMATS}

    listed = {s["stem"]: s for s in site.request("/api/sessions").json()}
    page = site.request("/sessions").text
    for fmt, state in done.items():
        stem = state["result"]
        assert stem in listed, f"{fmt} render missing from the session list"
        audio = listed[stem]["files"]["audio"]
        assert audio == f"{stem}.{fmt}"
        assert f'href="/sessions/{stem}"' in page

        player = site.request(state["url"])
        assert player.status == 200, fmt
        assert f'src="/files/{audio}"' in player.text
        served = site.request(f"/files/{audio}")
        assert served.status == 200
        assert served.headers["Content-Type"] == formats.by_name(fmt).mime
        assert served.body == (site.library / audio).read_bytes()
        assert mutagen.File(site.library / audio).info.length > 50  # a real minute, encoded

        meta = json.loads((site.library / f"{stem}.session.json").read_text(encoding="utf-8"))
        assert meta["background"] == "none"  # the ticked "none", not the practice's own
        assert meta["format"] == fmt


def test_none_background_alone_or_beside_others() -> None:
    def spec(**fields: str) -> str | None:
        return background_spec(MultiDict(fields))

    assert spec(bg_none="1") == "none"  # "none" has no level field
    assert spec(bg_none="1", bg_rain="1", bg_rain_db="-3") == "rain@-3"
    assert spec(bg_rain="1", bg_rain_db="0", bg_drone="1", bg_drone_db="-8") == "drone@-8+rain"
    assert spec() is None  # nothing ticked: the practice's own


@pytest.mark.parametrize(
    ("level", "said"),
    [
        ("loud", "The level of rain must be a number; got 'loud'"),
        ("", "The level of rain is missing"),
    ],
)
def test_a_bad_level_names_the_layer(level: str, said: str) -> None:
    from kindvoice.errors import UsageError

    with pytest.raises(UsageError, match=said):
        background_spec(MultiDict({"bg_rain": "1", "bg_rain_db": level}))
