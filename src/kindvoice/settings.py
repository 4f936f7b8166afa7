"""Typed, frozen settings for one render, with the defaults a listener gets.

The CLI builds these from options; ``pipeline.render()`` only reads them. Units are in
the names: ``_ms`` milliseconds, ``_db`` decibels, ``_lufs`` LUFS, ``_lu`` loudness units.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: the engine that speaks when none is named: Kokoro, the natural voice
DEFAULT_ENGINE = "kokoro"
#: an environment variable that names another default engine (e.g. "piper" for drafts)
ENGINE_ENV = "KINDVOICE_ENGINE"


#: MP3/AAC/Opus bitrates a listener gets unless a quality preset says otherwise
STEREO_BITRATE_KBPS = 128
MONO_BITRATE_KBPS = 64
#: the longest session, in minutes, whatever asks for it (``fields.FIELDS["minutes"]``)
MAX_SESSION_MINUTES = 600.0
#: the speaking pace a session may ask for (1.0: the engine's normal pace): what every
#: engine can speak (Kokoro's range)
MIN_SPEECH_RATE = 0.5
MAX_SPEECH_RATE = 2.0
#: the most sessions one course renders (its ``days``, ``sessions``, or seven a week)
MAX_COURSE_SESSIONS = 999


@dataclass(frozen=True)
class Pace:
    """The silences a guiding voice leaves inside and between its phrases, in ms.

    Guidance for meditation leaves 0.8-1.5 s between sentences and more between
    instructions; a talk teaches and may run closer to a reading. Engines that can find
    their own pauses (Kokoro) set them to these; ``paragraph_gap_ms`` stands between the
    paragraphs of a section and at a section's edge where nothing else is written.
    """

    sentence_gap_ms: int
    comma_gap_ms: int
    paragraph_gap_ms: int


#: the pace by a template's ``kind`` (a timer's few words are spoken as a practice's)
PACES: dict[str, Pace] = {
    "practice": Pace(sentence_gap_ms=1000, comma_gap_ms=380, paragraph_gap_ms=1600),
    "talk": Pace(sentence_gap_ms=750, comma_gap_ms=300, paragraph_gap_ms=1200),
    "timer": Pace(sentence_gap_ms=1000, comma_gap_ms=380, paragraph_gap_ms=1600),
}
#: the least silence between two phrases and between speech and a bell, whatever the
#: template writes (a section's edge, a written short pause): nothing runs on, no bell
#: strikes on a word
MIN_PHRASE_GAP_MS = 800
MIN_BELL_GAP_MS = 1500


@dataclass(frozen=True)
class PaceShift:
    """A section's ``[pace NAME]``: the voice's rate and the silences inside its phrases
    (sentence ends, commas) scaled, so a session can slow as it deepens."""

    rate: float
    gaps: float


#: ``[pace NAME]`` in a template; "normal" is the voice as chosen (the kind's pace)
PACE_SHIFTS: dict[str, PaceShift] = {
    "slower": PaceShift(rate=0.9, gaps=1.3),
    "normal": PaceShift(rate=1.0, gaps=1.0),
    "faster": PaceShift(rate=1.1, gaps=0.8),
}
NORMAL_PACE = "normal"


@dataclass(frozen=True)
class Intonation:
    """A guide's pitch over a section, in semitones from the voice's own level (issue 21):
    ``top_st`` at a section's start, ``step_st`` down a sentence to ``floor_st``, and
    ``lift_st`` up after a written pause of ``lift_after_ms`` or more. A voice that speaks
    each phrase on its own otherwise starts every sentence at one level."""

    top_st: float = 2.5
    step_st: float = 1.25
    floor_st: float = -2.5
    lift_st: float = 1.25
    lift_after_ms: int = 3000


INTONATION = Intonation()


def pace_for(kind: str) -> Pace:
    """The pace of a template ``kind`` (practice, talk or timer)."""
    return PACES.get(kind, PACES["practice"])


#: an environment variable that names the library folder (sessions, recorded voices)
LIBRARY_ENV = "KINDVOICE_LIBRARY"


def default_library() -> Path:
    """The library folder: ``$KINDVOICE_LIBRARY``, else the platformdirs user data dir /
    "library" (rendered sessions of the web page, the teacher's recorded voices)."""
    import platformdirs

    chosen = os.environ.get(LIBRARY_ENV, "").strip()
    return Path(chosen) if chosen else Path(platformdirs.user_data_dir("kindvoice")) / "library"


def default_engine() -> str:
    """The engine used when neither the command line nor the template names one."""
    return os.environ.get(ENGINE_ENV, "").strip() or DEFAULT_ENGINE


@dataclass(frozen=True)
class VoiceSettings:
    """Which engine speaks, with which voice, how fast (1.0 = the engine's normal pace)."""

    engine: str | None = None  # None: the template's ``voice.engine``, else default_engine()
    voice: str | None = None  # None: the template's ``voice.name``, else the engine's default
    rate: float | None = None  # None: the template's ``voice.rate``, else the engine's default
    pace: Pace | None = None  # None: the template kind's pace (``PACES``)
    fill_with: str | None = None  # a recorded voice's missing phrases: "ENGINE[:VOICE]"


@dataclass(frozen=True)
class MixSettings:
    """How the voice, bells and background sit together on the timeline."""

    background: str | None = None  # None: the template's background, else "drone"
    background_level_lu: float = -20.0  # background under speech, relative to the voice
    background_rise_lu: float = 6.0  # how much it may rise in long silences
    duck_attack_ms: int = 400  # the background starts to dip this long before speech
    duck_release_ms: int = 1200  # and comes back up over this long after it
    lead_in_ms: int = 3000  # background alone before the first sound
    tail_ms: int = 4000  # after the last sound, while everything fades out
    fade_in_ms: int = 2500
    fade_out_ms: int = 3500
    bell_level_lu: float = 4.0  # bell strike peak (dBFS) relative to the voice target (LUFS)
    cue_level_lu: float = -8.0  # breathing cue tones, likewise
    seed: int = 0  # noise and bell detuning: the same inputs give the same bytes


@dataclass(frozen=True)
class ExportSettings:
    """The output file: format from the extension, loudness targets, tags."""

    mono: bool = False
    bitrate_kbps: int | None = None  # None: STEREO_ or MONO_BITRATE_KBPS
    lame_quality: int = 7  # LAME -q: 2 best ... 7 fast; plenty at 128 kbps for voice and ambience
    target_lufs_stereo: float = -16.0
    target_lufs_mono: float = -19.0
    true_peak_ceiling_db: float = -1.5  # below -1 dBTP with room for the codec's overshoot
    artist: str = "kindvoice"
    album: str | None = None

    @property
    def channels(self) -> int:
        return 1 if self.mono else 2

    @property
    def target_lufs(self) -> float:
        return self.target_lufs_mono if self.mono else self.target_lufs_stereo

    @property
    def bitrate(self) -> int:
        if self.bitrate_kbps is not None:
            return self.bitrate_kbps
        return MONO_BITRATE_KBPS if self.mono else STEREO_BITRATE_KBPS


@dataclass(frozen=True)
class RenderRequest:
    """Everything one render needs: what to say, how long, how it sounds, where it goes."""

    practice: str  # a bundled id or a path to a template file
    output: Path
    # the session's length in ms, as ``durations.parse_length_ms`` reads it (None: the
    # template's minutes.default); a timer's schedule may end between two whole ms
    length_ms: float | None = None
    variables: dict[str, str] = field(default_factory=dict, hash=False)
    voice: VoiceSettings = VoiceSettings()
    mix: MixSettings = MixSettings()
    export: ExportSettings = ExportSettings()
    use_cache: bool = True
    workers: int | None = None  # None: one per core
    templates_dir: Path | None = None  # None: the user templates folder (platformdirs)
    language: str | None = None  # a practice id's translation (None: English)
    # replace an existing output kindvoice did not write (the CLI's --force); off, so no
    # caller (the web, the Python API) replaces a user's file by forgetting to say so
    force: bool = False
    # a part only (a preview): this section, or the first seconds, faded at the cut
    section: str | None = None
    limit_seconds: float | None = None
    # with limit_seconds: speak only the phrases those first seconds play (a slow voice's
    # later phrases estimated from the text, so a card preview costs its own length)
    opening_only: bool = False
    # beside the audio once it is in place: VTT, SRT, LRC, chapters JSON and cover JPEG
    sidecars: bool = False
    cover: Path | None = None  # the user's cover image (None: a generated one)
    title: str | None = None  # replaces the practice's title in the tags (a course, a sample)
    track: tuple[int, int] | None = None  # (n, of N) in a course
    encoder_threads: int | None = None  # MP3 encoder threads (None: one per core; a batch: 1)
    # facts added to the stamp beside the output (a batch's hash of its inputs)
    stamp: Mapping[str, object] = field(default_factory=dict, hash=False)
