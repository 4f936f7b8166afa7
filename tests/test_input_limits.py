"""Bounded work per input (issue 16, items 5-12): small hostile inputs are refused with one
clear line, fast, before any expansion or render; environment failures are one line too.

Everything runs through the real CLI (``kv_testing.kindvoice``) with small inputs and the
pyttsx3 engine, each with a timeout well under what the unbounded cases used to take.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kindvoice.speech.sentences import SPLIT_WORDS, chunks
from kindvoice.template.limits import MAX_BLOCK_DEPTH, MAX_PHRASE_WORDS, MAX_SECTIONS

from kv_testing import kindvoice, spoken_phrases

FAST = 60  # seconds: every refusal here takes a few


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    assert "Internal error" not in stderr
    assert len(lines) == 1, stderr
    return lines[0]


def template(tmp_path: Path, body: str, front: str = "title: T") -> Path:
    path = tmp_path / "t.md"
    path.write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")
    return path


# ---------------------------------------------------------------- item 6: nested [repeat]


def nested_repeats(depth: int, count: int) -> str:
    return f"[repeat {count}]\n" * depth + "Breathe.\n" + "[/repeat]\n" * depth


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_nested_repeats_are_refused_before_expanding(
    tmp_path: Path, command: str, own_cache: Path
) -> None:
    """Seven nested [repeat 100] (10^14 phrases) once hung plan, build and validate."""
    path = template(tmp_path, nested_repeats(7, 100))
    args = ["--no-length-check"] if command == "validate" else ["--engine", "pyttsx3"]
    run = kindvoice(command, str(path), *args, timeout=FAST)
    assert run.code == 3, run.stderr
    assert spoken_phrases(own_cache) == []  # plan measures speech: refused before it
    assert f"{path}:4:1: Too much to play" in run.stderr
    assert "Traceback" not in run.stderr and "Internal error" not in run.stderr


def test_thousand_deep_nesting_is_a_clear_error(tmp_path: Path) -> None:
    path = template(tmp_path, nested_repeats(1000, 2))
    run = kindvoice("validate", "--no-length-check", str(path), timeout=FAST)
    assert run.code == 3, run.stderr
    assert "RecursionError" not in run.stderr and "Internal error" not in run.stderr
    # the first block past the limit is named: line 4 is the first [repeat]
    assert f"{path}:{4 + MAX_BLOCK_DEPTH}:1: Blocks nest 1000 deep" in run.stderr


def test_nesting_at_the_limit_is_fine(tmp_path: Path) -> None:
    path = template(tmp_path, nested_repeats(MAX_BLOCK_DEPTH, 1))
    run = kindvoice("validate", "--no-length-check", str(path), timeout=FAST)
    assert run.code == 0, run.stderr


# ---------------------------------------------------------------- item 7: one phrase's size


def test_a_phrase_over_the_cap_is_refused_at_its_line(tmp_path: Path) -> None:
    path = template(tmp_path, "Hello.\n\n" + "word " * (MAX_PHRASE_WORDS + 1) + "\n")
    run = kindvoice("plan", str(path), "--engine", "pyttsx3", timeout=FAST)
    assert run.code == 3, run.stderr
    line = one_line_error(run.stderr)
    assert f"{path}:6:1:" in line and f"{MAX_PHRASE_WORDS:,}" in line


def test_a_long_var_value_is_checked_too(tmp_path: Path) -> None:
    path = template(tmp_path, "Hello {name|friend}.\n")
    value = "word " * (MAX_PHRASE_WORDS + 5)
    run = kindvoice("plan", str(path), "--engine", "pyttsx3", "--var", f"name={value}")
    assert run.code == 3, run.stderr
    assert f"{path}:4:1:" in one_line_error(run.stderr)


def test_long_text_is_cut_at_sentences() -> None:
    sentence = "This is one calm sentence of ten words, said slowly."
    text = " ".join([sentence] * 40)  # 360 words
    parts = chunks(text)
    assert len(parts) > 1
    assert all(len(p.split()) <= SPLIT_WORDS for p in parts)
    assert all(p.endswith("slowly.") for p in parts)  # whole sentences
    assert " ".join(parts).split() == text.split()  # nothing lost or added
    # a run-on with no punctuation is still cut, between words
    run_on = chunks("word " * 300)
    assert [len(p.split()) for p in run_on] == [SPLIT_WORDS, SPLIT_WORDS, 60]
    assert chunks("Short phrase.") == ["Short phrase."]


def test_a_long_paragraph_under_the_cap_is_spoken_in_pieces(tmp_path: Path) -> None:
    """A 400-word paragraph: spoken a few sentences per engine call, and the plan holds it."""
    text = " ".join(["Let the breath come and go at its own pace."] * 40)
    path = template(tmp_path, text + "\n[pause 5s~]\n")
    run = kindvoice("plan", str(path), "--engine", "pyttsx3", "--minutes", "10", timeout=300)
    assert run.code == 0, run.stderr


# ---------------------------------------------------------------- item 10: chapters


def test_too_many_sections_fail_at_validate_and_before_rendering(
    tmp_path: Path, own_cache: Path
) -> None:
    count = MAX_SECTIONS + 1
    body = "".join(f"## Part {i}\nHello.\n[pause 1s~]\n" for i in range(count))
    path = template(tmp_path, body)
    run = kindvoice("validate", "--no-length-check", str(path), timeout=FAST)
    assert run.code == 3, run.stderr
    last = 4 + 3 * MAX_SECTIONS  # the heading of section 256
    assert f"{path}:{last}:1: Too many sections: {count}" in run.stderr
    out = tmp_path / "x.mp3"
    run = kindvoice("build", str(path), "--engine", "pyttsx3", "-o", str(out), timeout=FAST)
    assert run.code == 3, run.stderr
    assert spoken_phrases(own_cache) == []  # refused before any speech
    assert "Too many sections" in one_line_error(run.stderr)
    assert not out.exists()


def test_the_most_sections_still_tag(tmp_path: Path) -> None:
    """255 sections is within the ID3 limit: validate accepts it."""
    body = "".join(f"## Part {i}\nHello.\n" for i in range(MAX_SECTIONS))
    run = kindvoice("validate", "--no-length-check", str(template(tmp_path, body)))
    assert run.code == 0, run.stderr


# ---------------------------------------------------------------- item 11: the feed


def test_control_characters_never_reach_the_feed(tmp_path: Path) -> None:
    """A title with a control character (written by another tool into the tags) is
    stripped; one given on the command line is refused; the feed always parses."""
    import xml.etree.ElementTree as ET

    from mutagen.id3 import ID3, TIT2

    folder = tmp_path / "show"
    folder.mkdir()
    path = template(tmp_path, "Hello there.\n[pause 5s~]\n", "title: Fine\nminutes: 0.3")
    run = kindvoice("build", str(path), "--engine", "pyttsx3", "-o", str(folder / "a.mp3"))
    assert run.code == 0, run.stderr
    tags = ID3(folder / "a.mp3")
    tags.add(TIT2(encoding=3, text="Bad\x01 title\x1b"))
    tags.save(folder / "a.mp3", v2_version=3)
    base = "https://example.org/show"
    run = kindvoice("feed", str(folder), "--base-url", base, "--title", "Sit\x07 down")
    assert run.code == 2, run.stderr
    assert "U+0007" in one_line_error(run.stderr)
    assert not (folder / "feed.xml").exists()
    run = kindvoice("feed", str(folder), "--base-url", base, "--description", "x\x0cy")
    assert run.code == 2 and "U+000C" in one_line_error(run.stderr)
    run = kindvoice("feed", str(folder), "--base-url", base, "--title", "Sit down")
    assert run.code == 0, run.stderr
    root = ET.parse(folder / "feed.xml").getroot()  # well-formed
    assert [item.findtext("title") for item in root.iter("item")] == ["Bad title"]
    run = kindvoice("feed", str(folder), "--base-url", base, "--title", "Sit down")
    assert run.code == 0, run.stderr
    assert "ignoring the old" not in run.stderr  # the next run reads its own feed


@pytest.mark.parametrize("count", [3, MAX_SECTIONS, 600])
def test_id3_chapters_past_255_nest_under_the_top_table(tmp_path: Path, count: int) -> None:
    """A script built in code (not a template) may have more chapters than one CTOC holds:
    they are grouped in tables of 255 under the top one, and every CHAP is written."""
    import lameenc
    from mutagen.id3 import ID3

    from kindvoice.audio import SAMPLE_RATE
    from kindvoice.export.tags import TagInfo, write_tags

    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_bit_rate(64)
    path = tmp_path / "x.mp3"
    path.write_bytes(encoder.encode(bytes(2 * SAMPLE_RATE)) + encoder.flush())
    step = SAMPLE_RATE // count
    chapters = tuple((f"Part {i}", i * step, (i + 1) * step) for i in range(count))
    info = TagInfo("T", "a", "b", "", "", chapters, total_samples=SAMPLE_RATE)
    write_tags(path, "mp3", info)
    tags = ID3(path)
    tocs = {frame.element_id: frame for frame in tags.getall("CTOC")}
    assert len(tags.getall("CHAP")) == count
    listed = [
        child
        for top in tocs["toc"].child_element_ids
        for child in (tocs[top].child_element_ids if top in tocs else [top])
    ]
    assert listed == [f"chp{i}" for i in range(count)]
    assert all(len(toc.child_element_ids) <= MAX_SECTIONS for toc in tocs.values())
