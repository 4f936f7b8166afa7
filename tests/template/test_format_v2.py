"""Format version 2 in the template layer: [from]/[under] gates, [rotate]/[or], kind,
pronounce and language; their errors with positions; choosing gates by length."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kindvoice.errors import TemplateError
from kindvoice.template.gating import choices, select
from kindvoice.template.model import (
    Gate,
    Node,
    Pause,
    Repeat,
    Rotate,
    Script,
    Speech,
    format_ms,
)
from kindvoice.template.parse import parse_template

FRONT = "---\ntitle: Test practice\n---\n"  # the body starts on line 4
MIN = 60_000


def parse(body: str, front: str = FRONT) -> Script:
    return parse_template(front + body, "t.md")


def body_error(body: str, front: str = FRONT) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        parse_template(front + body, "t.md")
    return info.value


def texts(nodes: tuple[Node, ...]) -> list[str]:
    return [n.text for n in nodes if isinstance(n, Speech)]


def shape(nodes: tuple[Node, ...]) -> list[str]:
    return ["P" if isinstance(n, Pause) and n.paragraph else type(n).__name__ for n in nodes]


# ---------------------------------------------------------------- parsing


def test_gates_parse_with_their_threshold_position_and_nesting() -> None:
    script = parse(
        "Hello.\n[from 15m]\nLonger.\n[pause 5s~20s]\n  [under 1m30s] Odd. [/under]\n[/from]\n"
        "[under 8m]\nShort.\n[/under]\n"
    )
    hello, long_gate, short_gate = script.sections[0].body
    assert isinstance(hello, Speech)
    assert isinstance(long_gate, Gate) and isinstance(short_gate, Gate)
    assert (long_gate.op, long_gate.threshold_ms, long_gate.pos.line) == ("from", 15 * MIN, 5)
    assert (short_gate.op, short_gate.threshold_ms, short_gate.pos.line) == ("under", 8 * MIN, 10)
    assert shape(long_gate.body) == ["Speech", "Pause", "Gate"]
    inner = long_gate.body[2]
    assert isinstance(inner, Gate)
    assert (inner.threshold_ms, inner.pos.line, inner.pos.col) == (90_000, 8, 3)
    assert texts(inner.body) == ["Odd."]
    assert long_gate.label == "[from 15m]" and inner.label == "[under 1m30s]"


@pytest.mark.parametrize(
    ("written", "ms"),
    [("15m", 900_000), ("90s", 90_000), ("1m30s", 90_000), ("500ms", 500), ("1.5m", 90_000)],
)
def test_gate_durations_use_the_marker_grammar(written: str, ms: int) -> None:
    gate = parse(f"[from {written}]\nA.\n[/from]\n").sections[0].body[0]
    assert isinstance(gate, Gate) and gate.threshold_ms == ms


def test_format_ms_writes_the_marker_grammar() -> None:
    assert [format_ms(x) for x in (900_000, 90_000, 45_000, 500, 1500, 0)] == [
        "15m",
        "1m30s",
        "45s",
        "500ms",
        "1.5s",
        "0s",
    ]


def test_rotate_alternatives_span_lines_and_hold_pauses_and_blocks() -> None:
    rotate = (
        parse(
            "[rotate]\nMay I be well.\n\nMay I be kind.\n[or]\nMay I be safe. [pause 2s]\n"
            "[or] [repeat 2] Ease. [/repeat] [/rotate]\n"
        )
        .sections[0]
        .body[0]
    )
    assert isinstance(rotate, Rotate)
    assert rotate.pos.line == 4
    first, second, third = rotate.alternatives
    assert shape(first) == ["Speech", "P", "Speech"]
    assert texts(first) == ["May I be well.", "May I be kind."]
    assert shape(second) == ["Speech", "Pause"]
    assert isinstance(third[0], Repeat) and texts(third[0].body) == ["Ease."]


def test_rotate_inside_an_elastic_repeat() -> None:
    repeat = parse("[repeat 1~6]\n[rotate]\nA.\n[or]\nB.\n[/rotate]\n[pause 1s~9s]\n[/repeat]\n")
    node = repeat.sections[0].body[0]
    assert isinstance(node, Repeat) and node.elastic
    assert shape(node.body) == ["Rotate", "Pause"]


def test_every_phrase_of_every_block_is_listed_for_synthesis() -> None:
    script = parse(
        "A.\n[from 9m]\nB.\n[/from]\n[rotate]\nC.\n[or]\n[under 2m] D. [/under]\n[/rotate]\n"
    )
    assert script.speech_texts() == ["A.", "B.", "C.", "D."]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("body", "line", "col", "fragment"),
    [
        ("A.\n[from 15m]\nB.\n", 5, 1, "[from] is not closed: add [/from]"),
        ("A.\n  [/under]\n", 5, 3, "[/under] without a matching [under 8m]"),
        ("A. [or] B.\n", 4, 4, "[or] outside a [rotate] block"),
        (
            "[rotate]\nA.\n[repeat 2]\nB.\n[or]\nC.\n[/repeat]\n[/rotate]\n",
            8,
            1,
            "[or] inside [repeat]",
        ),
        ("[from 5x]\nA.\n[/from]\n", 4, 1, "Bad duration '5x' in [from]"),
        ("[under]\nA.\n[/under]\n", 4, 1, "[under] needs a length"),
        ("[from 5m~9m]\nA.\n[/from]\n", 4, 1, "one length, not a range"),
        ("[from 5m 6m]\nA.\n[/from]\n", 4, 1, "Too much in [from 5m 6m]"),
        ("[rotate]\nA.\n[/rotate]\n", 4, 1, "at least two alternatives"),
        ("[rotate]\nA.\n[or]\n[/rotate]\n", 6, 1, "Empty alternative in [rotate]"),
        ("[rotate]\n[or]\nA.\n[/rotate]\n", 4, 1, "Empty alternative in [rotate]"),
        ("[rotate now]\nA.\n[or]\nB.\n[/rotate]\n", 4, 1, "[rotate] takes nothing"),
        ("[from 5m]\nA.\n[/from 5m]\n", 6, 1, "[/from] takes nothing"),
        ("[from 5m]\n<!-- nothing -->\n[/from]\n", 4, 1, "Empty [from] block"),
        ("[from 5m]\n[under 9m]\nA.\n[/from]\n", 7, 1, "[/from] found while [under] (line 5)"),
        ("## One\n[under 9m]\nB.\n## Two\nC.\n", 5, 1, "not closed before the section on line 7"),
        ("[form 5m]\nA.\n", 4, 1, "Did you mean [from]?"),
    ],
)
def test_marker_errors_have_positions(body: str, line: int, col: int, fragment: str) -> None:
    err = body_error(body)
    assert (err.line, err.col) == (line, col), str(err)
    assert fragment in err.reason
    assert str(err).startswith(f"t.md:{line}:{col}: ")
    assert "\n" not in str(err)


# ---------------------------------------------------------------- front matter


def test_v2_front_matter_defaults() -> None:
    script = parse("A.\n")
    assert (script.kind, script.language, script.meta.pronounce) == ("practice", "en", ())


def test_kind_language_and_pronounce_are_read() -> None:
    front = (
        "---\ntitle: T\nkind: Talk\nlanguage: pt-br\n"
        'pronounce: {Metta: "met tah", "self-kindness": self kindness}\n---\n'
    )
    script = parse("A.\n", front)
    assert script.kind == "talk" and script.meta.kind == "talk"
    assert script.language == "pt-BR"
    assert script.meta.pronounce == (("Metta", "met tah"), ("self-kindness", "self kindness"))


@pytest.mark.parametrize(
    ("key", "line", "fragment"),
    [
        ("kind: tlak", 3, "Did you mean 'talk'?"),
        ("kind: [talk]", 3, "'kind' must be text"),
        ("language: english", 3, "BCP 47 tag"),
        ("language: en_US", 3, "BCP 47 tag"),
        ("pronounce: metta", 3, "'pronounce' must be a mapping"),
        ('pronounce:\n  "two words": x', 4, "must be single words"),
        ("pronounce: {metta: [a]}", 3, "must be text"),
        ("pronounce: {Metta: a, metta: b}", 3, "respelled twice"),
        ("pronunce: {a: b}", 3, "Did you mean 'pronounce'?"),
    ],
)
def test_front_matter_errors(key: str, line: int, fragment: str) -> None:
    err = body_error("A.\n", f"---\ntitle: T\n{key}\n---\n")
    assert err.line == line, str(err)
    assert fragment in err.reason


# ---------------------------------------------------------------- pronounce


def test_pronounce_changes_only_the_spoken_text() -> None:
    front = '---\ntitle: T\npronounce: {metta: "met tah", don: dawn}\n---\n'
    script = parse("Metta and METTA, mettas, metta-like. Don't, don.\n", front)
    (speech,) = script.sections[0].body
    assert isinstance(speech, Speech)
    assert speech.text == "Metta and METTA, mettas, metta-like. Don't, don."
    assert speech.spoken == "met tah and met tah, mettas, metta-like. Don't, dawn."
    assert script.spoken_texts() == {speech.text: speech.spoken}


def test_without_pronounce_spoken_is_written() -> None:
    (speech,) = parse("Hello.\n").sections[0].body
    assert isinstance(speech, Speech) and speech.spoken == speech.text == "Hello."


# ---------------------------------------------------------------- gating


GATED = """\
## Arrive
A.

[from 15m]
B.
[from 20m]
C.
[/from]
[/from]

D.
[under 8m]
E.
[/under]
## Long only
[from 15m]
F.
[/from]
"""


def played(script: Script, minutes: float) -> list[str]:
    out: list[str] = []
    for section in select(script, minutes * MIN).sections:
        out.append(f"## {section.title}")
        out.extend(texts(section.body))
    return out


def test_gates_decide_content_by_length_at_the_thresholds() -> None:
    script = parse(GATED)
    assert played(script, 5) == ["## Arrive", "A.", "D.", "E."]
    assert played(script, 8) == ["## Arrive", "A.", "D."]  # under 8m: below 8 only
    assert played(script, 14.99) == ["## Arrive", "A.", "D."]
    assert played(script, 15) == ["## Arrive", "A.", "B.", "D.", "## Long only", "F."]
    assert played(script, 20) == ["## Arrive", "A.", "B.", "C.", "D.", "## Long only", "F."]


def test_choices_list_every_gate_with_its_state() -> None:
    script = parse(GATED)
    found = [
        (c.gate.pos.line, c.gate.label, c.plays, c.reached, c.depth)
        for c in choices(script, 10 * MIN)
    ]
    assert found == [
        (7, "[from 15m]", False, True, 0),
        (9, "[from 20m]", False, False, 1),
        (15, "[under 8m]", False, True, 0),
        (19, "[from 15m]", False, True, 0),
    ]
    assert all(c.plays for c in choices(script, 25 * MIN) if c.gate.op == "from")


def test_paragraph_gaps_across_gate_edges() -> None:
    script = parse(GATED)
    arrive = select(script, 20 * MIN).sections[0].body
    # blank lines stand before [from 15m] and after [/from]: gaps there; B-C and D-E have
    # no blank line, yet two phrases never run into one: the least gap goes in (spacing)
    assert shape(arrive) == ["Speech", "P", "Speech", "P", "Speech", "P", "Speech"]
    short = select(script, 5 * MIN).sections[0].body
    assert shape(short) == ["Speech", "P", "Speech", "P", "Speech"]
    assert not any(isinstance(n, Gate) for n in select(script, 20 * MIN).nodes())


def test_paragraph_gaps_at_rotate_edges_per_alternative() -> None:
    script = parse("A.\n\n[rotate]\nB.\n[or]\n[pause 1s] C.\n[/rotate]\n\nD.\n")
    # the gaps go inside each alternative: only those that start or end with speech get one
    (a, rotate, d) = select(script, 5 * MIN).sections[0].body
    assert isinstance(a, Speech) and isinstance(rotate, Rotate) and isinstance(d, Speech)
    assert [shape(block) for block in rotate.alternatives] == [
        ["P", "Speech", "P"],
        ["Pause", "Speech", "P"],
    ]


def test_the_bundled_format_doc_examples_parse() -> None:
    doc = Path(__file__).resolve().parents[2] / "meditations" / "TEMPLATE_FORMAT.md"
    v2 = doc.read_text(encoding="utf-8").split("format version 2")[1]
    blocks = re.findall(r"```markdown\n(.*?)```", v2, re.S)
    assert len(blocks) == 2
    for block in blocks:
        script = parse(block.replace("...", "and so on."))
        assert script.nodes()
