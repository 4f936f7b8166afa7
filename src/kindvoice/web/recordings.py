"""What the web page knows of a teacher's recorded voices (``speech.takes``): the phrases
of a practice to record and how far the voice has come (``recorded.coverage``), a take
waiting for the teacher's "Keep" (``Pending``), and the Build page's slider range for a
recorded voice.

A take posted from the page is cleaned at once (the same chain as ``kindvoice voices
import``: ``speech.cleaning``) and waits, cleaned, in ``recording/<voice>/`` beside the
voices in the library folder, so the teacher hears what would be kept; only "Keep" makes
it the phrase's take, replacing the one before. A take the cleaning refuses, and a take
never kept, leave the kept takes as they were.

The voices live where the recorded engine reads them (``settings.default_library``:
``$KINDVOICE_LIBRARY``; ``kindvoice serve --library`` sets it), so a voice recorded here
renders from the Build page and the command line alike.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import gettext

from kindvoice.errors import TakeError, UsageError
from kindvoice.settings import RenderRequest, VoiceSettings
from kindvoice.web.i18n import N_
from kindvoice.web.state import NotFound

log = logging.getLogger(__name__)

#: the largest take the page accepts, checked against the request's Content-Length before
#: the body is read: a phrase of two minutes as 48 kHz stereo 16-bit wav is 23 MB
MAX_TAKE_BYTES = 32 * 1024 * 1024
#: what MediaRecorder gives (Chrome and Android: webm/opus; Safari and iOS: mp4/aac) and
#: the files a teacher may pick, by media type -> the suffix ffmpeg is given
MEDIA_SUFFIXES = {
    "audio/webm": ".webm",
    "video/webm": ".webm",
    "audio/mp4": ".m4a",
    "video/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/ogg": ".ogg",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/flac": ".flac",
    "audio/mpeg": ".mp3",
}
PENDING_FOLDER = "recording"
#: one cleaning at a time (DeepFilterNet takes a core), and keeps never interleave
_LOCK = threading.Lock()
#: seconds of cleaning per second of take until this server has timed its own (0.68-1.23
#: measured on 2 busy cores, load 10, browser takes of 5-30 s; the first also loads the model)
CLEAN_PACE = 1.0
_PACES: deque[float] = deque(maxlen=5)  # this server's last takes, as cleaned


def voice_library() -> Path:
    """The library folder whose ``voices/`` the recorded engine reads."""
    from kindvoice.settings import default_library

    return default_library()


def names() -> list[str]:
    """The recorded voices, sorted."""
    from kindvoice.speech.takes import recorded_voices

    return recorded_voices(voice_library())


def open_voice(name: str, *, create: bool = False) -> Any:
    """The ``RecordedVoice`` called ``name`` (``create``: made when new)."""
    from kindvoice.speech.takes import RecordedVoice, check_name

    return RecordedVoice(check_name(name.strip().removeprefix("recorded:")), create=create)


def existing(name: str) -> Any | None:
    """The recorded voice ``name``, None when it has no take yet."""
    from kindvoice.errors import UnknownNameError

    try:
        return open_voice(name)
    except UnknownNameError:
        return None


def _request(path: Path, name: str) -> RenderRequest:
    return RenderRequest(
        practice=str(path),
        output=Path("record.mp3"),
        voice=VoiceSettings(engine="recorded", voice=name),
    )


def progress(path: Path, name: str) -> dict[str, Any]:
    """The phrases of the practice in ``path`` for the voice ``name``, in order, each with
    its section, the lengths that play it and whether it has a take, and the summary
    ("12 of 47 phrases recorded; enough for 3 to 9 minutes")."""
    from kindvoice.recorded import changed_phrases, coverage
    from kindvoice.template.parse import load_template

    script = load_template(path)
    voice = existing(name)
    found = coverage(_request(path, name), script, voice)
    changed = changed_phrases(found, voice)
    meta = script.meta
    every = spans_text([(meta.minutes.min, meta.minutes.max, True)])
    phrases = []
    for phrase in found.phrases:
        only = spans_text(phrase.spans)
        phrases.append(
            {
                "stem": phrase.stem,
                "text": phrase.text,
                "section": phrase.section,
                "lengths": "" if only == every else gettext("needed for %(lengths)s", lengths=only),
                "recorded": phrase.text in found.recorded,
                "changed": changed.get(phrase.text, ""),
            }
        )
    done = sum(p.text in found.recorded for p in found.phrases)
    enough = spans_text(found.lengths)
    counts = {"done": done, "count": len(found.phrases)}
    if enough:
        summary = gettext(
            "%(done)s of %(count)s phrases recorded; enough for %(lengths)s",
            lengths=enough,
            **counts,
        )
    else:
        summary = gettext(
            "%(done)s of %(count)s phrases recorded; not yet enough for any length", **counts
        )
    return {
        "voice": name,
        "summary": summary,
        "lengths": enough,
        "written": every,
        "phrases": phrases,
    }


def phrase_text(path: Path, stem: str) -> str:
    """The text of the practice's phrase whose take is named ``stem``."""
    from kindvoice.speech.takes import phrase_stem
    from kindvoice.template.parse import load_template

    for text in load_template(path).spoken_texts():
        if phrase_stem(text) == stem:
            return text
    raise NotFound(f"The practice has no phrase '{stem[:60]}' (was it changed?): reload the page.")


def suffix_for(media_type: str, filename: str) -> str:
    """The suffix a posted take is saved with, from its media type (``audio/webm;
    codecs=opus``) or else its file name; ``TakeError`` for anything that is not audio."""
    from kindvoice.recorded import AUDIO_SUFFIXES

    kind = media_type.split(";", 1)[0].strip().lower()
    if kind in MEDIA_SUFFIXES:
        return MEDIA_SUFFIXES[kind]
    suffix = Path(filename).suffix.lower()
    if suffix in AUDIO_SUFFIXES:
        return suffix
    shown = kind or suffix or "no type"
    raise TakeError(
        f"A take must be audio (webm, mp4, ogg, wav, flac or mp3), not '{shown[:60]}'; "
        "record it again on this page."
    )


@dataclass(frozen=True)
class Pending:
    """A cleaned take waiting for "Keep": ``recording/<voice>/<stem>.flac`` and the file
    as posted, ``<stem>.posted<suffix>``."""

    voice: str
    stem: str

    @property
    def folder(self) -> Path:
        return voice_library() / PENDING_FOLDER / self.voice

    @property
    def audio_path(self) -> Path:
        return self.folder / f"{self.stem}.flac"

    def posted(self) -> Path | None:
        return next(iter(sorted(self.folder.glob(f"{self.stem}.posted.*"))), None)

    def clear(self) -> None:
        for old in self.folder.glob(f"{self.stem}.*"):
            old.unlink(missing_ok=True)


def clean_posted(voice: str, stem: str, data: Any, suffix: str) -> dict[str, Any]:
    """Save the posted take (``data``: a file storage with ``save``), clean it and keep the
    result as the phrase's pending take; ``TakeError`` (one line, "This take ...") when the
    cleaning refuses it, and then the phrase's takes, kept and pending, are as before."""
    import soundfile as sf

    from kindvoice.audio import SAMPLE_RATE
    from kindvoice.speech.cleaning import clean_take, decode
    from kindvoice.speech.takes import check_name

    pending = Pending(check_name(voice), stem)  # the voice itself is made by the first keep
    pending.folder.mkdir(parents=True, exist_ok=True)
    upload = pending.folder / f".{stem}.upload{suffix}"
    try:
        data.save(upload)
        with _LOCK:
            began = time.monotonic()
            try:
                raw = decode(upload)
                cleaned = clean_take(raw, upload.name)
            except TakeError as exc:
                raise TakeError(exc.message.replace(f"'{upload.name}'", "This take")) from None
            pending.clear()
            sf.write(pending.audio_path, cleaned.audio, SAMPLE_RATE, format="FLAC")
            upload.replace(pending.folder / f"{stem}.posted{suffix}")
            _PACES.append((time.monotonic() - began) / max(len(raw) / SAMPLE_RATE, 1.0))
    finally:
        upload.unlink(missing_ok=True)
    seconds = len(cleaned.audio) / SAMPLE_RATE
    log.info(
        "take %s/%s: %.1f s, noise floor %.1f -> %.1f dBFS",
        voice,
        stem,
        seconds,
        cleaned.noise_floor_before_db,
        cleaned.noise_floor_after_db,
    )
    return {
        "seconds": round(seconds, 2),
        "noise_floor_db": round(cleaned.noise_floor_after_db),
        "clean_pace": round(cleaning_pace(), 3),
    }


def spans_text(spans: Sequence[tuple[float, float, bool]]) -> str:
    """``recorded.describe_spans`` in the page's language: "3 to 4:59 and 10 to 30
    minutes" ("" for none)."""
    from kindvoice.recorded import describe_spans

    return describe_spans(list(spans), say=gettext)


# describe_spans's words, for the catalogues
N_("%(low)s to %(high)s")
N_("%(some)s and %(last)s")
N_("%(lengths)s minutes")


def cleaning_pace() -> float:
    """Seconds of cleaning per second of take: the median of this server's last takes
    (the page tells the time left of the next from it), ``CLEAN_PACE`` before any."""
    import statistics

    return statistics.median(_PACES) if _PACES else CLEAN_PACE


def keep(voice_name: str, text: str) -> None:
    """Make the phrase's pending take its take (replacing the one before); ``UsageError``
    when nothing waits."""
    import soundfile as sf

    from kindvoice.speech.takes import phrase_stem

    voice = open_voice(voice_name, create=True)
    pending = Pending(voice.name, phrase_stem(text))
    with _LOCK:
        posted = pending.posted()
        if posted is None or not pending.audio_path.is_file():
            raise UsageError("No new take of this phrase waits to be kept: record it first.")
        audio, _ = sf.read(pending.audio_path, dtype="float32")
        named = posted.with_name(f"{pending.stem}{posted.suffix}")  # the original's name
        shutil.copyfile(posted, named)  # a failed add leaves the take waiting, whole
        try:
            voice.add(text, audio, named, replace=True)
        finally:
            named.unlink(missing_ok=True)
        pending.clear()


def slider_range(path: Path, name: str, fill: bool) -> dict[str, Any]:
    """The Build slider's answer (as ``RangeCache``'s) for a recorded voice: the lengths
    fully recorded, or with ``fill`` (gaps filled by a synthetic voice) the practice's
    own range. Never cached: a take kept a moment ago counts."""
    from kindvoice.recorded import coverage
    from kindvoice.template.parse import load_template

    script = load_template(path)
    minutes = script.meta.minutes
    found = coverage(_request(path, name), script, existing(name))
    label = f"recorded voice {name}"
    if fill or not found.lengths:
        low, high = minutes.min, minutes.max
        if not fill:  # the page's note starts "With <voice>: ..."
            label += " (no length fully recorded yet: record more, or tick the box below)"
    else:  # from the first length fully recorded to the last, on the slider's half minutes
        (low, _, _), (_, high, closed) = found.lengths[0], found.lengths[-1]
        low = math.ceil(low * 2 - 1e-9) / 2
        high = math.floor(high * 2 + 1e-9) / 2 if closed else math.ceil(high * 2 - 1e-9) / 2 - 0.5
        high = max(low, high)
    return {
        "min": low,
        "max": high,
        "step": 0.5,
        "low_s": low * 60.0,
        "high_s": high * 60.0,
        "voice": label,
    }
