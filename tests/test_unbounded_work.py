"""Bounded work (issue 24 §2): small inputs that used to cost minutes or gigabytes are
answered quickly, with one clear line, or refused before anything is expanded.

Each case that once exhausted memory or ran for minutes runs here in a real process
under a memory cap (``RLIMIT_AS``) and a timeout, so on code without the bound it fails
by that limit instead of taking the machine. The probe's cases are in
``../shared/RELIABILITY_REVIEW.md`` (classes E, F, H and K).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kindvoice.audio import SAMPLE_RATE
from kindvoice.errors import ExitStatus
from kindvoice.publish.batch import IN_FLIGHT, LOOKAHEAD, NAMED_ROWS, run_batch
from kindvoice.publish.jobs import Job, Outcome
from kindvoice.settings import MAX_COURSE_SESSIONS, MAX_SESSION_MINUTES, RenderRequest
from kindvoice.speech.base import quoted
from kindvoice.template import fit
from kindvoice.template.limits import MAX_PHRASE_CHARS, MAX_SPOKEN_CHARS, MAX_TOKEN_CHARS

from kv_testing import spoken_phrases

GIGABYTE = 1 << 30


def bounded(
    args: list[str], tmp_path: Path, seconds: float = 60, memory: int = 3 * GIGABYTE
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in a process of its own, capped at ``memory`` bytes of address
    space and ``seconds`` of time, with its own caches and the espeak engine."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {
        **os.environ,
        "KINDVOICE_ENGINE": "pyttsx3",
        "KINDVOICE_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    try:
        return subprocess.run(
            [sys.executable, *args],
            capture_output=True,
            text=True,
            timeout=seconds,
            preexec_fn=cap,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {seconds:g} s: {' '.join(args)[:200]}")


def kv(*args: str, tmp_path: Path, seconds: float = 60) -> subprocess.CompletedProcess[str]:
    return bounded(["-m", "kindvoice", *args], tmp_path, seconds)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr and "Internal error" not in stderr, stderr[-2000:]
    assert len(lines) == 1, stderr[-2000:]
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- a very large minutes max

BIG_RANGE = "---\ntitle: Big\nminutes: {min: 1, default: 1, max: 1000000000000}\n---\nBreathe.\n"


def test_a_huge_minutes_max_is_refused_at_its_key(tmp_path: Path) -> None:
    """90 bytes once made validate build every whole minute up to 10^12 (MemoryError at
    2.4 GB in 37 s)."""
    path = write(tmp_path / "big.md", BIG_RANGE)
    run = kv("validate", str(path), tmp_path=tmp_path, seconds=30)
    assert run.returncode == ExitStatus.TEMPLATE, run.stderr[-2000:]
    line = [x for x in run.stderr.splitlines() if x.startswith(str(path))]
    assert line == [
        f"{path}:3:31: 'minutes' reaches 1e+12; a session is at most "
        f"{MAX_SESSION_MINUTES:g} minutes: give a max of {MAX_SESSION_MINUTES:g} or less"
    ]
    bare = write(tmp_path / "bare.md", "---\ntitle: B\nminutes: 100000\n---\nBreathe.\n")
    run = kv("validate", "--no-length-check", str(bare), tmp_path=tmp_path, seconds=30)
    assert run.returncode == ExitStatus.TEMPLATE and f"{bare}:3:1: 'minutes' reaches" in run.stderr


def test_the_write_page_check_refuses_a_huge_range(tmp_path: Path) -> None:
    """The web's Write page runs the same check in the request (HTTP 500 after 11 s)."""
    code = (
        "from kindvoice.errors import TemplateError\n"
        "from kindvoice.web.routes.pages import validate_text\n"
        "try:\n"
        f"    validate_text({BIG_RANGE!r}, 'pyttsx3')\n"
        "except TemplateError as exc:\n"
        "    print(exc.message)\n"
    )
    run = bounded(["-c", code], tmp_path, seconds=30)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "a session is at most 600 minutes" in run.stdout


# ---------------------------------------------------------------- the rotating solver


def rotating_layout() -> fit.Layout:
    """The probe's r07: two nested [repeat 1~100] around a two-way [rotate] (40,000
    events), after a fixed 3-minute pause; no elastic pause, so lengths come in steps."""
    rate = 48_000
    rotate = fit.Rot(3, ((fit.Fixed(2 * rate), fit.Fixed(3 * rate)), (fit.Fixed(4 * rate),)))
    inner = fit.Rep(2, 1, 100, (rotate,))
    outer = fit.Rep(1, 1, 100, (inner, fit.Fixed(rate // 2)))
    return fit.Layout((fit.Fixed(180 * rate), outer), edge_samples=7 * rate)


def test_an_impossible_length_is_answered_quickly() -> None:
    """Below the shortest, and in a gap between count choices: the solver once tried all
    10,000 count pairs walking 40,000 events round by round (95 s for one length)."""
    layout = rotating_layout()
    low, high = fit.feasible_range(layout)
    assert high is not None
    started = time.perf_counter()
    with pytest.raises(fit.Infeasible) as below:
        fit.solve(layout, low - 48_000)
    assert (below.value.low, below.value.high) == (low, high)
    gap = low + 1  # every total is a whole number of seconds plus the fixed part
    with pytest.raises(fit.Infeasible) as between:
        fit.solve(layout, gap)
    assert between.value.near is not None and between.value.near[0] <= gap
    assert fit.solve(layout, low).total_samples == low
    assert time.perf_counter() - started < 10  # a few seconds on a busy machine


def test_rotates_that_never_come_back_round_are_cut_by_the_budget() -> None:
    """97 and 89 alternatives inside two [repeat 1~100]: no cycle within the counts, so
    each count pair walks up to 20,000 items; a gap length once took 104 s."""
    rate = 48_000
    outer_alts = tuple((fit.Fixed(rate * (1 + i % 5)),) for i in range(97))
    inner_alts = tuple((fit.Fixed(rate * (2 + i % 3)),) for i in range(89))
    inner = fit.Rep(2, 1, 100, (fit.Rot(4, inner_alts),))
    layout = fit.Layout((fit.Rep(1, 1, 100, (inner, fit.Rot(3, outer_alts))),), 7 * rate)
    low, _ = fit.feasible_range(layout)
    started = time.process_time()
    with pytest.raises(fit.Infeasible):
        fit.solve(layout, low + 1)
    assert time.process_time() - started < 15  # about 3 s of CPU


def test_validate_solves_a_600_minute_range_of_a_rotating_template(tmp_path: Path) -> None:
    """The r07 template with max 600: every minute in a gap, each once a full search."""
    body = (
        "[pause 3m]\n\n[repeat 1~100]\n[repeat 1~100]\n[rotate]\n"
        "Breathe in. [pause 2s] Breathe out. [pause 1s]\n[or]\nRest. [pause 3s]\n"
        "[/rotate]\n[/repeat]\n[/repeat]\n"
    )
    front = "title: Rot\nminutes: {min: 1, default: 5, max: 600}"
    path = write(tmp_path / "rot.md", f"---\n{front}\n---\n{body}")
    run = kv("validate", str(path), tmp_path=tmp_path, seconds=120)
    assert run.returncode == ExitStatus.TEMPLATE, run.stderr[-2000:]
    assert "minutes max (600) cannot be met (nor any whole minute from 1)" in run.stderr


def walk_round_by_round(layout: fit.Layout, counts: dict[int, int]) -> tuple[int, dict[int, int]]:
    """The reference: every round of every repeat walked, every rotate visit counted."""
    fixed, mult, visits = layout.edge_samples, {}, {}

    def walk(items: tuple[fit.Item, ...]) -> None:
        nonlocal fixed
        for item in items:
            if isinstance(item, fit.Fixed):
                fixed += item.samples
            elif isinstance(item, fit.Elastic):
                mult[item.uid] = mult.get(item.uid, 0) + 1
            elif isinstance(item, fit.Rot):
                visit = visits.get(item.uid, 0)
                visits[item.uid] = visit + 1
                walk(item.alternatives[visit % len(item.alternatives)])
            else:
                for _ in range(counts.get(item.uid, item.min_count)):
                    walk(item.children)

    walk(layout.items)
    return fixed, mult


def test_rounds_added_by_cycle_match_rounds_walked_one_by_one() -> None:
    pause = fit.Elastic(9, 100, None)
    rot_in = fit.Rot(8, ((fit.Fixed(5),), (pause, fit.Fixed(7)), (fit.Fixed(11),)))
    rot_out = fit.Rot(6, ((fit.Rep(7, 0, 5, (rot_in,)),), (fit.Fixed(13),)))
    layout = fit.Layout(
        (fit.Rep(1, 0, 40, (fit.Rep(2, 1, 9, (rot_out, pause)), rot_in, fit.Fixed(3))),), 2
    )
    for a in (0, 1, 7, 40):
        for b in (1, 2, 9):
            for c in (0, 3, 5):
                counts = {1: a, 2: b, 7: c}
                flat = fit._flatten(layout, counts)
                fixed, mult = walk_round_by_round(layout, counts)
                assert flat.fixed == fixed, counts
                assert {p.uid: m for p, m in flat.pauses} == {u: m for u, m in mult.items() if m}


# ---------------------------------------------------------------- expansions


def test_respellings_are_counted_before_they_are_built(tmp_path: Path) -> None:
    """A 400 KB respelling of 'a' said 250,000 times: 100 GB of spoken text from a 0.9 MB
    file (MemoryError at 2.8 GB)."""
    said = "ba " * 133_000
    paragraph = " ".join(["a"] * 999)
    body = "\n\n".join([paragraph] * 250)
    path = write(tmp_path / "e.md", f'---\ntitle: E\npronounce:\n  a: "{said}"\n---\n{body}\n')
    run = kv("validate", "--no-length-check", str(path), tmp_path=tmp_path, seconds=60)
    assert run.returncode == ExitStatus.TEMPLATE, run.stderr[-2000:]
    line = run.stderr.splitlines()[0]
    assert line.startswith(f"{path}:6:1: This phrase is ") and f"{MAX_PHRASE_CHARS:,}" in line


def test_a_long_value_used_many_times_is_refused_before_joining(tmp_path: Path) -> None:
    value = "x" * 99 + " "
    path = write(tmp_path / "v.md", "---\ntitle: V\n---\nHello.\n\n" + "{v|a} " * 999 + "\n")
    run = kv("plan", str(path), "--var", f"v={value * 1000}", tmp_path=tmp_path)
    assert run.returncode == ExitStatus.TEMPLATE, run.stderr[-2000:]
    line = one_line(run.stderr)  # 100 MB once built, then counted in words
    assert line.startswith(f"Error: {path}:6:1: This phrase is 99,900,000 characters long as")


def test_the_whole_script_is_bounded_too(tmp_path: Path) -> None:
    """Each phrase under its limit, the script over ``MAX_SPOKEN_CHARS``."""
    value = "abcdefghijklmnopq " * 1000  # 18,000 characters, 1,000 words: one phrase's most
    count = MAX_SPOKEN_CHARS // len(value) + 2
    front = f"title: S\nvariables: {{v: '{value}'}}"
    path = write(tmp_path / "s.md", f"---\n{front}\n---\n" + "{v}\n\n" * count)
    run = kv("validate", "--no-length-check", str(path), tmp_path=tmp_path)
    assert run.returncode == ExitStatus.TEMPLATE, run.stderr[-2000:]
    line = run.stderr.splitlines()[0]
    assert f"a script holds at most {MAX_SPOKEN_CHARS:,}" in line


# ---------------------------------------------------------------- long tokens


def test_an_overlong_word_is_refused_at_its_column(tmp_path: Path) -> None:
    word = "zq" * 200  # Kokoro's English front-end took 25 s over it
    ok = "w" * MAX_TOKEN_CHARS
    path = write(tmp_path / "w.md", f"---\ntitle: W\n---\nHello {ok} now.\n\nBreathe {word} now.\n")
    run = kv("validate", "--no-length-check", str(path), tmp_path=tmp_path)
    assert run.returncode == ExitStatus.TEMPLATE, run.stderr[-2000:]
    line = run.stderr.splitlines()[0]
    assert line.startswith(f"{path}:6:9: A word of 400 characters ('zqzq")
    assert len(line) < 400
    # a long --var value is named where the variable is used
    path = write(tmp_path / "v.md", "---\ntitle: V\n---\nHello there.\n\nBreathe, {name|friend}.\n")
    run = kv("plan", str(path), "--var", f"name={word}", tmp_path=tmp_path)
    assert run.stderr.splitlines()[0].startswith(f"Error: {path}:6:10: A word of 401 characters")
    # and a respelling that makes one
    said = "o" * (MAX_TOKEN_CHARS + 1)
    path = write(tmp_path / "r.md", f"---\ntitle: R\npronounce: {{om: {said}}}\n---\nSay om.\n")
    run = kv("validate", "--no-length-check", str(path), tmp_path=tmp_path)
    assert "after its 'pronounce' respelling" in run.stderr.splitlines()[0]


def test_a_200_kb_token_never_reaches_espeak(tmp_path: Path) -> None:
    """It crashed libespeak-ng, and the error repeated the 200 KB phrase on stderr."""
    token = "zqx" * 66_667
    path = write(tmp_path / "t.md", f"---\ntitle: T\n---\nHello there.\n\nBreathe {token} now.\n")
    run = kv("plan", str(path), "--engine", "pyttsx3", tmp_path=tmp_path)
    assert run.returncode == ExitStatus.TEMPLATE, run.stderr[-2000:]
    assert len(run.stderr) < 1000
    assert one_line(run.stderr).startswith(f"Error: {path}:6:1: This phrase is 200,014 characters")
    assert spoken_phrases(tmp_path / "cache") == []


def test_an_error_quotes_at_most_80_characters_of_a_phrase() -> None:
    assert quoted("Hello.") == "'Hello.'"
    long = quoted("word " * 40_000)
    assert long.endswith("... (200,000 characters)") and len(long) < 120


# ---------------------------------------------------------------- courses and stamps


def test_a_course_of_too_many_weeks_is_refused_before_any_render(tmp_path: Path) -> None:
    """1,500 weeks started 10,500 renders."""
    weeks = "".join("  - practices: [one-minute-break]\n    minutes: 1\n" for _ in range(1500))
    plan = write(tmp_path / "plan.yaml", "title: Huge\nweeks:\n" + weeks)
    run = kv("course", str(plan), "-o", str(tmp_path / "out"), tmp_path=tmp_path, seconds=30)
    assert run.returncode == ExitStatus.USAGE, run.stderr[-2000:]
    most = MAX_COURSE_SESSIONS // 7
    assert one_line(run.stderr) == (
        f"Error: {plan}: 1,500 weeks are 10,500 sessions; a course holds at most "
        f"{MAX_COURSE_SESSIONS}: give at most {most} weeks."
    )
    assert not (tmp_path / "out").exists()


def test_a_course_of_the_most_weeks_loads(tmp_path: Path) -> None:
    from kindvoice.publish.course import load_plan

    most = MAX_COURSE_SESSIONS // 7
    weeks = "".join("  - practices: [one-minute-break]\n    minutes: 1\n" for _ in range(most))
    plan = load_plan(write(tmp_path / "plan.yaml", "title: Long\nweeks:\n" + weeks))
    assert len(plan.schedule) == most * 7 <= MAX_COURSE_SESSIONS


STAMP_READER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from kindvoice.export.outputs import read_stamp\n"
    "started = time.perf_counter()\n"
    "print(read_stamp(Path(sys.argv[1])), round(time.perf_counter() - started, 2))\n"
)


@pytest.mark.parametrize("kind", ["deep", "zero", "fifo", "huge"])
def test_a_stamp_is_read_with_size_type_and_depth_bounds(tmp_path: Path, kind: str) -> None:
    """200,000-deep JSON gave RecursionError, a link to /dev/zero MemoryError, a FIFO a
    hang: each is now a stamp that cannot be read (the files count as the user's)."""
    audio = tmp_path / "a.mp3"
    audio.write_bytes(b"x")
    stamp = tmp_path / ".a.mp3.kindvoice.json"
    if kind == "deep":
        stamp.write_text("[" * 200_000 + "]" * 200_000)
    elif kind == "zero":
        stamp.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(stamp)
    else:
        stamp.write_text(json.dumps({"files": {"a.mp3": ["0" * 64]}, "pad": "x" * (2 << 20)}))
    run = bounded(["-c", STAMP_READER, str(audio)], tmp_path, seconds=20, memory=GIGABYTE)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[0] == "None"


def test_a_good_stamp_still_reads(tmp_path: Path) -> None:
    from kindvoice.export.outputs import read_stamp

    audio = tmp_path / "a.mp3"
    (tmp_path / ".a.mp3.kindvoice.json").write_text('{"files": {"a.mp3": ["ab"]}}')
    assert read_stamp(audio) == {"files": {"a.mp3": ["ab"]}}


# ---------------------------------------------------------------- batches


def failing_manifest(tmp_path: Path, rows: int) -> Path:
    lines = ["practice,minutes,output"] + [f"missing.md,1,o{i}.mp3" for i in range(rows)]
    return write(tmp_path / "m.csv", "\n".join(lines) + "\n")


def test_ten_thousand_failing_rows_report_as_they_end_in_one_short_line(tmp_path: Path) -> None:
    """They took 24 s before any summary, and the failure line listed every row (59 KB)."""
    manifest = failing_manifest(tmp_path, 10_000)
    run = kv("batch", str(manifest), "--workers", "2", tmp_path=tmp_path, seconds=120)
    assert run.returncode == ExitStatus.SOME_FAILED, run.stderr[-2000:]
    named = ", ".join(str(row) for row in range(1, NAMED_ROWS + 1))
    assert one_line(run.stderr) == (
        f"Error: 10000 of 10000 sessions failed (rows {named} and 9,980 more)."
    )
    table = run.stdout.splitlines()
    assert table[-1] == "0 rendered, 0 skipped, 10000 failed"
    assert len(table) == 10_002 and "not found" in table[1]


def test_a_batch_takes_rows_as_it_goes(tmp_path: Path) -> None:
    """Outcomes are reported while rows are still being taken, and the rows taken but not
    finished never exceed a window (``IN_FLIGHT`` in the pool, ``LOOKAHEAD`` being put
    in order)."""
    taken: list[int] = []
    reported_at: list[int] = []

    def items() -> Iterator[Job | Outcome]:
        for row in range(1, 3001):
            taken.append(row)
            request = RenderRequest(
                practice=str(tmp_path / "missing.md"), output=tmp_path / f"{row}.mp3"
            )
            yield Job(row, f"{row}.mp3", request)

    outcomes = run_batch(items(), report=lambda o: reported_at.append(len(taken)), total=3000)
    assert [o.row for o in outcomes] == list(range(1, 3001))
    assert all(o.status == "failed" for o in outcomes)
    assert len(reported_at) == 3000
    # rows taken but not yet reported: at most a window in the pool and one to be sorted
    assert max(taken_then - done for done, taken_then in enumerate(reported_at)) <= (
        LOOKAHEAD + IN_FLIGHT
    )
    assert reported_at[0] < 3000


# ---------------------------------------------------------------- measuring keeps lengths only


def test_measuring_keeps_lengths_not_speech(tmp_path: Path) -> None:
    """A long legal script once held all its speech while planning (12 MB a minute: the
    re-probe's 700 paragraphs reached 3.7 GB). Measured for lengths only, real espeak
    speech comes back as placeholders holding no samples, of the phrases' true lengths."""
    from kindvoice.speech.base import EngineSpec
    from kindvoice.speech.cache import PhraseCache
    from kindvoice.speech.synth import synthesize_phrases

    spec = EngineSpec("pyttsx3", None, 1.0)
    texts = [f"Breathe gently and notice the warmth of your hands, part {i}." for i in range(6)]
    cache = PhraseCache(tmp_path / "speech")
    kept = synthesize_phrases(spec, texts, cache, workers=2, lengths_only=True)
    whole = synthesize_phrases(spec, texts, cache, workers=2)  # the same, from the cache
    for text in texts:
        assert kept[text].strides == (0,) and kept[text].base is not None  # no samples held
        assert len(kept[text]) == len(whole[text]) > SAMPLE_RATE  # each over a second
