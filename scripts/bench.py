"""Speed and memory, measured in one run on this machine, against the targets of issue 6.

    .venv/bin/python scripts/bench.py [--quick | --kokoro]

Prints, for a 10- and a 60-minute session (MP3 128 kbps stereo, brown-noise background,
warm phrase cache): render time, CPU time and peak RSS of ``kindvoice build``; the time
one lameenc encoder alone takes to encode the same audio (the floor) and the ratio; the
same session built the naive way (``scripts/naive_baseline.py``: pydub ``+=``,
``overlay``, ffmpeg export) and the ratios; cold-cache Piper synthesis with 1 and with
all workers; a batch of 8 renders with 1 and with all workers (after an untimed batch
that fills the phrase cache, so both timed runs start warm). These use the espeak engine
(the phrase cache is warm, so the engine hardly matters): they measure the pipeline.

Then Kokoro, the default voice (``--kokoro``, or everything without ``--quick``): a cold
render of the default self-compassion break with 1 worker and with one per core (the
speed-up), the pure ONNX inference time of the same phrases in one thread (the ratio
says what everything around the model costs) and the peak RSS of one speech worker.

Every render runs as its own process, so peak RSS is that process's own (``os.wait4``;
this script never holds audio itself, since Linux hands a child its parent's peak at
fork). kindvoice encodes on all cores, the floor on one: the CPU line shows what the
render costs in all. Figures vary with machine load: read the ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRACTICE = "self-compassion-break"
BACKGROUND = "brown"


@dataclass
class Measured:
    seconds: float
    rss_mb: float
    cpu_seconds: float


def run(args: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run a command to completion; its wall time and its own peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        assert proc.stderr is not None
        raise SystemExit(f"failed ({status}): {' '.join(args)}\n{proc.stderr.read().decode()}")
    return Measured(seconds, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime)


def kindvoice(*args: str, env: dict[str, str] | None = None) -> Measured:
    return run([sys.executable, "-m", "kindvoice", "-q", *args], env)


def lame_floor(wav: Path) -> float:
    """Seconds one lameenc encoder takes to encode ``wav`` as kindvoice ships (128 kbps,
    q7, 1-s blocks), measured in a process of its own: a child inherits its parent's peak
    RSS (Linux copies the high-water mark at fork), so this process must never hold audio."""
    out = subprocess.run(
        [sys.executable, __file__, "--floor", str(wav)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def encode_floor(wav: Path) -> float:
    """The floor itself (run by ``--floor``): the encode loop alone, timed."""
    import lameenc
    import soundfile

    audio, rate = soundfile.read(wav, dtype="int16")
    blocks = [audio[i : i + rate].tobytes() for i in range(0, len(audio), rate)]
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(128)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(audio.shape[1])
    encoder.set_quality(7)
    encoder.silence()
    start = time.perf_counter()
    for block in blocks:
        encoder.encode(block)
    encoder.flush()
    return time.perf_counter() - start


def line(label: str, value: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("  met" if ok else "  NOT MET")
    print(f"{label:<58} {value:>14}  {target}{verdict}")


def renders(work: Path, minutes_list: list[int]) -> dict[int, dict[str, float]]:
    figures: dict[int, dict[str, float]] = {}
    for minutes in minutes_list:
        out = work / f"kv-{minutes}.mp3"
        wav = work / f"kv-{minutes}.wav"
        args = [PRACTICE, "--minutes", str(minutes), "--background", BACKGROUND]
        ours = kindvoice("build", *args, "-o", str(out))
        kindvoice("build", *args, "-o", str(wav))
        floor = lame_floor(wav)
        naive = run(
            [
                sys.executable,
                str(ROOT / "scripts" / "naive_baseline.py"),
                PRACTICE,
                str(minutes),
                str(work / f"naive-{minutes}.mp3"),
            ]
        )
        figures[minutes] = {
            "time": ours.seconds,
            "cpu": ours.cpu_seconds,
            "rss": ours.rss_mb,
            "floor": floor,
            "naive_time": naive.seconds,
            "naive_rss": naive.rss_mb,
        }
        line(f"{minutes}-minute render, warm cache", f"{ours.seconds:.2f} s")
        line(f"{minutes}-minute render, CPU time (all threads)", f"{ours.cpu_seconds:.2f} s")
        line(f"{minutes}-minute render, peak RSS", f"{ours.rss_mb:.0f} MB")
        line(f"{minutes}-minute lameenc-only encode (the floor)", f"{floor:.2f} s")
        line(f"{minutes}-minute render / floor", f"{ours.seconds / floor:.2f} x")
        line(f"{minutes}-minute naive build (pydub +=, export)", f"{naive.seconds:.2f} s")
        line(f"{minutes}-minute naive build, peak RSS", f"{naive.rss_mb:.0f} MB")
        for f in (out, wav):
            f.unlink(missing_ok=True)
    return figures


def cold_synthesis(work: Path, workers: int) -> float:
    """Seconds to synthesize every phrase of a practice with Piper into an empty cache."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from kindvoice.speech.base import EngineSpec\n"
        "from kindvoice.speech.cache import PhraseCache\n"
        "from kindvoice.speech.synth import synthesize_phrases\n"
        "from kindvoice.template.library import resolve_practice\n"
        "from kindvoice.template.parse import load_template\n"
        "texts = load_template(resolve_practice('compassionate-body-scan')).speech_texts()\n"
        "start = time.perf_counter()\n"
        f"synthesize_phrases(EngineSpec('piper', None, 0.9), texts, PhraseCache(Path(sys.argv[1])),"
        f" {workers})\n"
        "print(time.perf_counter() - start)\n"
    )
    cache = Path(tempfile.mkdtemp(dir=work))
    out = subprocess.run(
        [sys.executable, "-c", code, str(cache)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


KOKORO_INFERENCE = """
import sys, time
from kindvoice.lengths import voice_spec
from kindvoice.pipeline import prepare
from kindvoice.settings import RenderRequest, VoiceSettings
from kindvoice.speech import kokoro_engine
from kindvoice.template.library import resolve_practice
from kindvoice.template.parse import load_template

kokoro_engine.intra_op_threads = 1
request = RenderRequest(sys.argv[1], sys.argv[2], voice=VoiceSettings(engine="pyttsx3"))
texts = sorted({e.text for e in prepare(request).timeline.speech})
meta = load_template(resolve_practice(sys.argv[1], None, None)).meta
engine = kokoro_engine.KokoroEngine(voice_spec(VoiceSettings(engine="kokoro"), meta))
calls = [ph for text in texts for ph, _ in engine._calls(text)]
seconds = 0.0
audio = 0
for phonemes in calls:
    ids = [engine._vocab[c] for c in phonemes if c in engine._vocab]
    start = time.perf_counter()
    audio += len(engine._speak(ids))
    seconds += time.perf_counter() - start
print(seconds, audio / 24000, len(texts))
"""

WORKER_RSS = """
import resource, sys
from kindvoice.cli import main
sys.argv = ["kindvoice", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    if exit.code:
        raise
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def kokoro(work: Path, cores: int) -> None:
    """Cold Kokoro renders of the default self-compassion break (1 worker, then one per
    core), the pure inference time of its phrases, and one speech worker's peak RSS."""
    env = {k: v for k, v in os.environ.items() if k != "KINDVOICE_ENGINE"}
    out = work / "kokoro.mp3"

    def cold_build(workers: int) -> tuple[float, float]:
        env["KINDVOICE_CACHE_DIR"] = tempfile.mkdtemp(dir=work)
        args = ["-q", "build", PRACTICE, "--workers", str(workers), "-o", str(out), "-f"]
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", WORKER_RSS, *args], env=env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"kokoro build failed: {proc.stderr}")
        return time.perf_counter() - start, float(proc.stdout.strip().splitlines()[-1])

    one, rss = cold_build(1)
    many, _ = cold_build(cores)
    proc = subprocess.run(
        [sys.executable, "-c", KOKORO_INFERENCE, PRACTICE, str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    inference, speech_s, phrases = (float(x) for x in proc.stdout.split())
    line(
        f"Kokoro: {PRACTICE} at its default, {phrases:.0f} phrases",
        f"{speech_s:.0f} s of speech",
    )
    line("Kokoro: cold render, 1 worker", f"{one:.1f} s ({speech_s / one:.2f} x real time)")
    line(f"Kokoro: cold render, {cores} workers", f"{many:.1f} s")
    line("Kokoro: speed-up", f"{one / many:.2f} x", "target >= 1.6", one / many >= 1.6)
    line("Kokoro: pure ONNX inference, 1 thread", f"{inference:.1f} s")
    ratio = one / inference
    line("Kokoro: render (1 worker) / inference", f"{ratio:.2f} x", "target <= 1.3", ratio <= 1.3)
    line("Kokoro: peak RSS of a speech worker", f"{rss:.0f} MB")


def batch(work: Path, workers: int, name: str) -> float:
    """Seconds for a batch of 8 renders into a new folder ``name``."""
    folder = work / name
    folder.mkdir()
    rows = ["practice,minutes,background,output"]
    for i in range(8):
        practice = ("morning-intention", "soothing-touch", "self-compassion-break")[i % 3]
        rows.append(f"{practice},{3 + i % 3},brown,session-{i}.mp3")
    manifest = folder / "batch.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return kindvoice(
        "batch", str(manifest), "--workers", str(workers), "--output-dir", str(folder)
    ).seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="10 minutes only; no Piper, no batch, no Kokoro"
    )
    parser.add_argument("--kokoro", action="store_true", help="only the Kokoro figures")
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        print(encode_floor(args.floor))
        return
    cores = os.cpu_count() or 1
    print(f"kindvoice benchmark on {cores} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.kokoro:
            kokoro(work, cores)
            return
        os.environ["KINDVOICE_CACHE_DIR"] = str(work / "cache")
        os.environ["KINDVOICE_ENGINE"] = "pyttsx3"  # the pipeline's figures; Kokoro below
        kindvoice("build", PRACTICE, "--minutes", "3", "-o", str(work / "warm.mp3"))  # warm up
        minutes_list = [10] if args.quick else [10, 60]
        figures = renders(work, minutes_list)
        print()
        if 60 in figures:
            f60, f10 = figures[60], figures[10]
            ratio = f60["time"] / f60["floor"]
            line(
                "60 min: render / bare lameenc encode",
                f"{ratio:.2f} x",
                "target <= 1.25",
                ratio <= 1.25,
            )
            line(
                "60 min: render CPU time / bare lameenc encode",
                f"{f60['cpu'] / f60['floor']:.2f} x",
            )
            line("60 min: peak RSS", f"{f60['rss']:.0f} MB", "target <= 250", f60["rss"] <= 250)
            growth = f60["rss"] / f10["rss"]
            line("peak RSS 60 min / 10 min", f"{growth:.2f} x", "target <= 1.3", growth <= 1.3)
            speed = f60["naive_time"] / f60["time"]
            line("60 min: naive time / kindvoice time", f"{speed:.1f} x", "target >= 3", speed >= 3)
            memory = f60["naive_rss"] / f60["rss"]
            line("60 min: naive RSS / kindvoice RSS", f"{memory:.1f} x", "target >= 8", memory >= 8)
        if args.quick:
            return
        one = cold_synthesis(work, 1)
        many = cold_synthesis(work, cores)
        line("cold Piper synthesis (compassionate-body-scan), 1 worker", f"{one:.2f} s")
        line(f"cold Piper synthesis, {cores} workers", f"{many:.2f} s")
        line(
            "cold Piper synthesis speed-up",
            f"{one / many:.2f} x",
            "target >= 1.6",
            one / many >= 1.6,
        )
        batch(work, cores, "batch-warm-up")  # fills the cache: both timed runs start warm
        single = batch(work, 1, "batch-1")
        multi = batch(work, cores, f"batch-{cores}")
        line("batch of 8 renders, 1 worker", f"{single:.2f} s")
        line(f"batch of 8 renders, {cores} workers", f"{multi:.2f} s")
        line("batch speed-up", f"{single / multi:.2f} x", "target >= 1.6", single / multi >= 1.6)
        kokoro(work, cores)


if __name__ == "__main__":
    main()
