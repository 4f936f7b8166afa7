"""The template parser: every marker, every error path (with its line and column), variables,
front matter, comments, sections, paragraph pauses, and real files on disk."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kindvoice.durations import FORMS
from kindvoice.errors import TemplateError, UnknownNameError, UsageError
from kindvoice.template.model import (
    Bell,
    Breathe,
    Minutes,
    Node,
    Pause,
    Repeat,
    Script,
    Section,
    Speech,
    Variable,
)
from kindvoice.template.parse import MAX_TEMPLATE_BYTES, load_template, parse_template

FRONT = "---\ntitle: Test practice\n---\n"  # the body starts on line 4


def parse(body: str, values: dict[str, str] | None = None, front: str = FRONT) -> Script:
    return parse_template(front + body, "t.md", values)


def error(text: str, values: dict[str, str] | None = None) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        parse_template(text, "t.md", values)
    return info.value


def body_error(body: str, values: dict[str, str] | None = None) -> TemplateError:
    return error(FRONT + body, values)


def nodes(body: str, values: dict[str, str] | None = None) -> tuple[Node, ...]:
    """The nodes of the only section."""
    script = parse(body, values)
    assert len(script.sections) == 1
    return script.sections[0].body


def only(body: str) -> Node:
    found = nodes(body)
    assert len(found) == 1, found
    return found[0]


def texts(found: tuple[Node, ...]) -> list[str]:
    return [n.text for n in found if isinstance(n, Speech)]


def shape(found: tuple[Node, ...]) -> list[str]:
    """Node kinds in order, 'P' for a paragraph pause."""
    out = []
    for n in found:
        if isinstance(n, Pause) and n.paragraph:
            out.append("P")
        else:
            out.append(type(n).__name__)
    return out


# ---------------------------------------------------------------- front matter

FULL_EXAMPLE = """\
---
id: self-compassion-break            # defaults to the file name
title: The Self-Compassion Break
summary: "Three steps for a hard moment: mindfulness, common humanity, kindness."
minutes: {min: 3, default: 10, max: 40}   # the lengths this script is meant for
background: bowl                     # a soundscape name
voice: {rate: 0.9}                   # 1.0 = the engine's normal pace
variables:
  name: {default: "", describe: "Listener's first name, spoken in the greeting"}
  difficulty: {default: "something that is hard for you right now"}
  place: the sea
tags: [self-compassion, short]
language: de
---
Hello {name}. Bring to mind {difficulty}.
"""


def test_full_front_matter_is_read() -> None:
    script = parse_template(FULL_EXAMPLE, "meditations/x.md")
    meta = script.meta
    assert meta.id == "self-compassion-break"
    assert meta.title == "The Self-Compassion Break"
    assert meta.summary.startswith("Three steps for a hard moment:")
    assert meta.minutes == Minutes(3, 10, 40)
    assert meta.background == "bowl"
    assert meta.voice_rate == 0.9
    assert meta.variables == (
        Variable("name", "", "Listener's first name, spoken in the greeting"),
        Variable("difficulty", "something that is hard for you right now"),
        Variable("place", "the sea"),
    )
    assert meta.tags == ("self-compassion", "short")
    assert meta.language == "de"
    assert script.source == "meditations/x.md"
    assert texts(script.sections[0].body) == [
        "Hello. Bring to mind something that is hard for you right now."
    ]


def test_minimal_front_matter_gets_defaults() -> None:
    script = parse_template("---\ntitle: T\n---\nHi.\n", "some/dir/my-practice.md")
    assert script.meta.id == "my-practice"
    assert script.meta.minutes == Minutes(1.0, 10.0, 60.0)
    assert script.meta.background is None
    assert script.meta.voice_rate is None
    assert script.meta.language == "en"
    assert script.meta.tags == ()


def test_bare_minutes_is_the_default_and_the_range_widens() -> None:
    assert parse("Hi.", front="---\ntitle: T\nminutes: 5\n---\n").meta.minutes == Minutes(1, 5, 60)
    assert parse("Hi.", front="---\ntitle: T\nminutes: 90\n---\n").meta.minutes == Minutes(
        1, 90, 90
    )


@pytest.mark.parametrize(
    ("front", "line", "col", "fragment"),
    [
        ("titel: T\n", 2, 1, "Unknown key 'titel' in front matter. Did you mean 'title'?"),
        ("title: T\nmintues: 5\n", 3, 1, "Did you mean 'minutes'?"),
        ("title: T\nzzz: 5\n", 3, 1, "Valid keys: id, title, summary"),
        ("title: T\nminutes: {min: 3, dfault: 5}\n", 3, 19, "Did you mean 'default'?"),
        ("title: T\nvoice: {speed: 2}\n", 3, 9, "Unknown key 'speed' under 'voice'"),
        ("title: T\nvariables:\n  a: {defualt: x}\n", 4, 7, "Did you mean 'default'?"),
        ("summary: x\n", 1, 1, "has no 'title'"),
        ("title:\n", 1, 1, "has no 'title'"),
        ("title: '  '\n", 2, 1, "'title' must not be empty"),
        ("title: 2024\n", 2, 1, "'title' must be text (put it in quotes"),
        ("title: yes\n", 2, 1, "got yes/no"),
        ("title: T\nsummary: [a, b]\n", 3, 1, "'summary' must be text"),
        ("title: T\nid: my practice\n", 3, 1, "'id' must be letters"),
        ("title: T\nid: 12\n", 3, 1, "'id' must be text"),
        ("title: T\nminutes: ten\n", 3, 1, "'minutes' must be a number"),
        ("title: T\nminutes: -2\n", 3, 1, "greater than 0"),
        ("title: T\nminutes: {min: 3, default: 2, max: 9}\n", 3, 1, "min <= default <= max"),
        ("title: T\nminutes: {min: 3, max: 9}\n", 3, 1, "'minutes' needs a default"),
        ("title: T\nminutes: {min: 3, default: x}\n", 3, 19, "'minutes.default' must be a number"),
        ("title: T\nvoice: {rate: 0}\n", 3, 9, "'voice.rate' must be between 0.5 and 2; got 0"),
        ("title: T\nvoice: fast\n", 3, 1, "'voice' must be a mapping"),
        ("title: T\ntags: short\n", 3, 1, "'tags' must be a list of text"),
        ("title: T\ntags: [a, 3]\n", 3, 1, "'tags' must be a list of text"),
        ("title: T\nlanguage: 3\n", 3, 1, "'language' must be text"),
        ("title: T\nvariables: [a, b]\n", 3, 1, "'variables' must be a mapping"),
        ("title: T\nvariables:\n  first name: x\n", 4, 3, "must be letters, digits"),
        ("title: T\nvariables:\n  n: 3\n", 4, 3, "Variable 'n' must be text"),
        ("title: T\nvariables:\n  n: {describe: 4}\n", 4, 7, "'variables.n.describe' must be"),
        ("title: T\ntitle: U\n", 3, 1, "Duplicate key 'title'"),
        ("- a\n- b\n", 1, 1, "must be 'key: value' lines"),
    ],
)
def test_front_matter_errors_point_at_the_key(
    front: str, line: int, col: int, fragment: str
) -> None:
    err = error(f"---\n{front}---\nHello.\n")
    assert (err.file, err.line, err.col) == ("t.md", line, col), err.message
    assert fragment in err.reason


@pytest.mark.parametrize(
    ("front", "line", "col", "fragment"),
    [
        ("title: [unclosed\n", 2, 17, "expected ',' or ']'"),
        ("title: T\nsummary: a: b\n", 3, 11, "put the value in quotes"),
        ("title: T\n  bad: x\n", 3, 6, "not valid YAML"),
        ("title: T\nx: !!python/object/apply:os.system ['true']\n", 3, 4, "tags (!!...)"),
        ('title: "\ufffe"\n', 2, 9, "character YAML cannot read"),
    ],
)
def test_yaml_errors_are_offset_by_the_fence_line(
    front: str, line: int, col: int, fragment: str
) -> None:
    err = error(f"---\n{front}---\nHello.\n")
    assert (err.line, err.col) == (line, col), err.message
    assert fragment in err.reason


def test_missing_and_unclosed_front_matter() -> None:
    err = error("Hello there.\n")
    assert (err.line, err.col) == (1, 1)
    assert "Missing front matter" in err.reason
    err = error("---\ntitle: T\nHello.\n")
    assert (err.line, err.col) == (1, 1)
    assert "not closed" in err.reason
    assert "has no 'title'" in error("---\n---\nHello.\n").reason


def test_bom_and_crlf_keep_lines_right() -> None:
    text = "\ufeff---\r\ntitle: T\r\n---\r\nOne.\r\n\r\nTwo [pause 5s]\r\n"
    script = parse_template(text, "t.md")
    found = script.sections[0].body
    assert shape(found) == ["Speech", "P", "Speech", "Pause"]
    assert found[3].pos.line == 6 and found[3].pos.col == 5
    err = error("---\r\ntitle: T\r\n---\r\nOne.\r\n[paws]\r\n")
    assert (err.line, err.col) == (5, 1)


# ---------------------------------------------------------------- speech and paragraphs


def test_lines_of_a_paragraph_join_into_one_speech() -> None:
    found = nodes("Breathe   in\n   slowly,\tand deeply.\n")
    assert texts(found) == ["Breathe in slowly, and deeply."]
    assert (found[0].pos.line, found[0].pos.col) == (4, 1)


def test_markers_inside_a_line_split_the_speech() -> None:
    found = nodes("Breathe in. [pause 3s] Breathe out.\n")
    assert shape(found) == ["Speech", "Pause", "Speech"]
    assert texts(found) == ["Breathe in.", "Breathe out."]
    assert (found[1].pos.line, found[1].pos.col) == (4, 13)
    assert (found[2].pos.line, found[2].pos.col) == (4, 24)


def test_paragraph_pause_only_between_two_speeches() -> None:
    found = nodes("One.\n\nTwo.\n\n\n[bell]\n\nThree.\n\n[pause 2s]\n\nFour.\nFive.\n")
    assert shape(found) == ["Speech", "P", "Speech", "Bell", "Speech", "Pause", "Speech"]
    gap = found[1]
    assert isinstance(gap, Pause)
    assert (gap.min_ms, gap.max_ms, gap.pos.line) == (0, 0, 5)
    assert texts(found)[-1] == "Four. Five."


def test_no_paragraph_pause_at_section_edges_or_repeat_edges() -> None:
    script = parse("One.\n\n## Next\n\nTwo.\n\n[repeat 2]\n\nThree.\n\n[/repeat]\n\nFour.\n")
    assert shape(script.sections[0].body) == ["Speech"]
    assert shape(script.sections[1].body) == ["Speech", "Repeat", "Speech"]
    block = script.sections[1].body[1]
    assert isinstance(block, Repeat)
    assert shape(block.body) == ["Speech"]


def test_empty_fragments_are_dropped_and_keep_the_paragraph_gap() -> None:
    found = nodes("[bell] ... [bell]\n")
    assert shape(found) == ["Bell", "Bell"]
    found = nodes("One.\n\n{gone|}\n\nTwo.\n")
    assert shape(found) == ["Speech", "P", "Speech"]


def test_markdown_emphasis_and_bullets_are_not_spoken() -> None:
    found = nodes(
        "- *Breathe* in, **slowly**.\n"
        "* _feel_ the __breath__ in your_body.\n"
        "1. First.\n"
        "12) Second.\n"
        "> A quote.\n"
    )
    assert texts(found) == [
        "Breathe in, slowly. feel the breath in your_body. First. Second. A quote."
    ]
    assert found[0].pos.col == 3


def test_plain_square_brackets_are_text() -> None:
    assert texts(nodes("Count [1] and [ two ] and [2b].\n")) == ["Count [1] and [ two ] and [2b]."]


def test_control_characters_are_refused() -> None:
    err = body_error("Hello\x07 there.\n")
    assert (err.line, err.col) == (4, 6)
    assert "U+0007" in err.reason


def test_nothing_to_play_is_an_error() -> None:
    err = body_error("<!-- only a comment -->\n\n## Empty\n")
    assert (err.line, err.col) == (4, 1)
    assert err.reason.startswith("The template has nothing to play")
    err = body_error("{who|}\n")
    assert err.reason == "With these variable values the template has nothing to play"


# ---------------------------------------------------------------- sections


def test_sections_and_the_implicit_first_section() -> None:
    script = parse("Welcome.\n## Part one\nA.\n## Empty part\n## Part three\nC.\n")
    assert [s.title for s in script.sections] == [
        "Test practice",
        "Part one",
        "Empty part",
        "Part three",
    ]
    assert script.sections[2].body == ()
    assert (script.sections[1].pos.line, script.sections[1].pos.col) == (5, 1)


def test_no_implicit_section_without_content_before_the_first_heading() -> None:
    script = parse("<!-- intro -->\n\n## Only\nA.\n")
    assert [s.title for s in script.sections] == ["Only"]
    assert isinstance(script.sections[0], Section)


def test_heading_text_takes_variables_and_loses_emphasis() -> None:
    script = parse(
        "## For *{who}* ##\nA.\n",
        front="---\ntitle: T\nvariables:\n  who: you\n---\n",
        values={"who": "Sam"},
    )
    assert script.sections[0].title == "For Sam"


@pytest.mark.parametrize(
    ("body", "line", "col", "fragment"),
    [
        ("A.\n# Big\n", 5, 1, "Only '## ' headings start sections"),
        ("A.\n  ### Small\n", 5, 3, "Only '## '"),
        ("A.\n##\n", 5, 1, "needs a title"),
        ("A.\n## Rest [pause 2s]\n", 5, 9, "Headings are not spoken"),
    ],
)
def test_heading_errors(body: str, line: int, col: int, fragment: str) -> None:
    err = body_error(body)
    assert (err.line, err.col) == (line, col), err.message
    assert fragment in err.reason


# ---------------------------------------------------------------- comments


def test_comments_are_never_spoken() -> None:
    found = nodes(
        "One <!-- hidden --> two.\n"
        "<!-- a whole line -->\n"
        "three <!-- spans\n"
        "several [paws] {bad\n"
        "lines --> four.\n"
    )
    assert texts(found) == ["One two. three four."]


def test_unclosed_comment_points_at_its_start() -> None:
    err = body_error("One.\nTwo <!-- never\nclosed.\n")
    assert (err.line, err.col) == (5, 5)
    assert "Comment is not closed" in err.reason


# ---------------------------------------------------------------- variables

VARS = '---\ntitle: T\nvariables:\n  name: {default: "friend"}\n  place: {default: the sea}\n---\n'


def test_variable_precedence_values_then_inline_then_front_matter() -> None:
    body = "A {name}. B {name|dear one}. C {place}.\n"
    assert texts(parse(body, front=VARS).sections[0].body) == ["A friend. B dear one. C the sea."]
    script = parse(body, front=VARS, values={"name": "Sam"})
    assert texts(script.sections[0].body) == ["A Sam. B Sam. C the sea."]
    assert script.values == {"name": "Sam", "place": "the sea"}


def test_inline_default_declares_a_variable_and_values_can_fill_it() -> None:
    assert texts(nodes("Hi {who|there}.\n")) == ["Hi there."]
    script = parse("Hi {who|there}.\n", values={"who": "Ana"})
    assert texts(script.sections[0].body) == ["Hi Ana."]
    assert script.values == {"who": "Ana"}


def test_unknown_variable_is_an_error_with_a_suggestion() -> None:
    err = error(VARS + "Hello\n  {nme}.\n")
    assert (err.line, err.col) == (8, 3)
    assert "Unknown variable 'nme'. Did you mean 'name'?" in err.reason
    assert "Declare it under variables:" in err.reason


def test_unknown_value_key_is_an_unknown_name_error() -> None:
    with pytest.raises(UnknownNameError) as info:
        parse("Hi {name}.\n", front=VARS, values={"nmae": "x"})
    assert "Unknown variable 'nmae'. Did you mean name?" in info.value.message
    with pytest.raises(UnknownNameError):
        parse("Hi.\n", values={"anything": "x"})


def test_declared_but_unused_variable_accepts_a_value() -> None:
    script = parse("Hi.\n", front=VARS, values={"place": "the hills"})
    assert script.values == {"name": "friend", "place": "the hills"}


def test_values_are_plain_text_never_markers() -> None:
    hostile = "Sam [pause 5s] {place} [[h@'loU]] [/repeat] <!-- x"
    found = parse("Hi {name}, welcome.\n", front=VARS, values={"name": hostile}).sections[0].body
    assert shape(found) == ["Speech"]
    assert texts(found) == ["Hi Sam pause 5s {place} h@'loU /repeat <!-- x, welcome."]
    assert "[" not in texts(found)[0]


def test_a_repeat_silenced_by_an_empty_value_is_not_an_error() -> None:
    front = '---\ntitle: T\nvariables:\n  name: ""\n---\n'
    found = parse("Hi.\n[repeat 2]\n{name}\n[/repeat]\n", front=front).sections[0].body
    assert shape(found) == ["Speech"]
    found = parse("Hi.\n[repeat 2]\n{name}\n[/repeat]\n", front=front, values={"name": "Al"})
    assert shape(found.sections[0].body) == ["Speech", "Repeat"]


def test_empty_values_leave_tidy_sentences() -> None:
    front = '---\ntitle: T\nvariables:\n  name: ""\n---\n'
    found = parse("Hello {name}. {name}, welcome ( {name} ) here !\n", front=front).sections[0].body
    assert texts(found) == ["Hello. Welcome here!"]  # the sentence keeps its capital


def test_a_vocative_comma_before_an_empty_name_goes() -> None:
    front = '---\ntitle: T\nvariables:\n  name: ""\n---\n'
    body = "Hola, {name}. Buenos días, {name}! Bonjour, {name} : ça va?\n"
    found = parse(body, front=front).sections[0].body
    assert texts(found) == ["Hola. Buenos días! Bonjour: ça va?"]
    named = parse(body, front=front, values={"name": "Ana"}).sections[0].body
    assert texts(named) == ["Hola, Ana. Buenos días, Ana! Bonjour, Ana: ça va?"]


def test_literal_braces() -> None:
    assert texts(nodes("Set {{a}} and }} {{{{.\n")) == ["Set {a} and } {{."]


@pytest.mark.parametrize(
    ("body", "col", "fragment"),
    [
        ("A { name.\n", 3, "Bad variable"),
        ("A {1x}.\n", 3, "Bad variable"),
        ("A {x|y{z}}.\n", 3, "Bad variable"),
        ("A x}.\n", 4, "Stray '}'"),
    ],
)
def test_brace_errors(body: str, col: int, fragment: str) -> None:
    err = body_error(body)
    assert (err.line, err.col) == (4, col)
    assert fragment in err.reason


# ---------------------------------------------------------------- pauses and durations


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("500ms", 500),
        ("5s", 5000),
        ("1.5s", 1500),
        ("2m", 120_000),
        ("1m30s", 90_000),
        ("0.25s", 250),
        ("1m500ms", 60_500),
        ("0s", 0),
    ],
)
def test_durations(text: str, ms: int) -> None:
    pause = only(f"[pause {text}]")
    assert isinstance(pause, Pause)
    assert (pause.min_ms, pause.max_ms, pause.elastic) == (ms, ms, False)


@pytest.mark.parametrize("text", ["5", "5sec", "1h", "s", "1.s", "30s1m", "-5s", "5 s s", "٣s"])
def test_bad_durations_list_the_valid_forms(text: str) -> None:
    err = body_error(f"Rest. [pause {text}]\n")
    assert (err.line, err.col) == (4, 7)
    assert f"write {FORMS}" in err.reason


def test_pause_forms() -> None:
    fixed, elastic, unbounded, weighted, spaced = nodes(
        "[pause 5s] [pause 10s~60s] [pause 20s~] [pause 10s~1m x2.5] [Pause 1s ~ 2s]"
    )
    assert isinstance(fixed, Pause) and (fixed.min_ms, fixed.max_ms) == (5000, 5000)
    assert isinstance(elastic, Pause) and (elastic.min_ms, elastic.max_ms) == (10_000, 60_000)
    assert elastic.elastic and elastic.weight == 1.0
    assert isinstance(unbounded, Pause) and unbounded.max_ms is None and unbounded.elastic
    assert isinstance(weighted, Pause) and weighted.weight == 2.5 and weighted.max_ms == 60_000
    assert isinstance(spaced, Pause) and (spaced.min_ms, spaced.max_ms) == (1000, 2000)
    assert not any(
        isinstance(n, Pause) and (n.fade_background or n.paragraph)
        for n in (fixed, elastic, unbounded, weighted)
    )


def test_silence_fades_the_background() -> None:
    silence = only("[silence 1m~]")
    assert isinstance(silence, Pause)
    assert (silence.min_ms, silence.max_ms, silence.fade_background) == (60_000, None, True)


@pytest.mark.parametrize(
    ("marker", "fragment"),
    [
        ("[pause]", "[pause] needs a length"),
        ("[pause 60s~10s]", "the minimum is longer than the maximum"),
        ("[pause 1s~2s~3s]", "Bad length"),
        ("[pause 10s~20s x0]", "Bad weight 'x0'"),
        ("[pause 10s~20s xx]", "Bad weight"),
        ("[pause 5s x2]", "A weight only applies to an elastic pause"),
        ("[silence ~5s]", "Bad duration '' in [silence]"),
        ("[pause 100000m]", "over 24 hours"),
    ],
)
def test_pause_errors(marker: str, fragment: str) -> None:
    err = body_error(f"Now.\n  {marker}\n")
    assert (err.line, err.col) == (5, 3)
    assert fragment in err.reason


# ---------------------------------------------------------------- bells and breathing


@pytest.mark.parametrize(
    ("marker", "kind", "strikes"),
    [
        ("[bell]", None, 1),
        ("[bell soft]", "soft", 1),
        ("[bell 3]", None, 3),
        ("[bell soft 3]", "soft", 3),
        ("[bell big-bowl 12]", "big-bowl", 12),
    ],
)
def test_bells(marker: str, kind: str | None, strikes: int) -> None:
    bell = only(marker)
    assert isinstance(bell, Bell)
    assert (bell.kind, bell.strikes) == (kind, strikes)


@pytest.mark.parametrize(
    ("marker", "fragment"),
    [
        ("[bell 0]", "strikes must be 1 to 12"),
        ("[bell 13]", "strikes must be 1 to 12"),
        ("[bell soft 3 4]", "Too much in [bell]"),
        ("[bell 3 soft]", "Too much in [bell]"),
        ("[bell -1]", "Bad bell kind '-1'"),
    ],
)
def test_bell_errors(marker: str, fragment: str) -> None:
    err = body_error(f"Begin. {marker}\n")
    assert (err.line, err.col) == (4, 8)
    assert fragment in err.reason


def test_breathe() -> None:
    plain, paced, suffixed = nodes(
        "[breathe 4]\n[breathe 4 in=4 hold=2 out=6]\n[breathe 2 out=7.5s]"
    )
    assert isinstance(plain, Breathe)
    assert (plain.count, plain.in_ms, plain.hold_ms, plain.out_ms) == (4, 4000, 0, 6000)
    assert isinstance(paced, Breathe) and paced.duration_ms == 4 * 12_000
    assert isinstance(suffixed, Breathe) and suffixed.out_ms == 7500 and suffixed.in_ms == 4000


@pytest.mark.parametrize(
    ("marker", "fragment"),
    [
        ("[breathe]", "needs a number of breaths"),
        ("[breathe 0]", "1 to 200 breaths"),
        ("[breathe 201]", "1 to 200 breaths"),
        ("[breathe 4 inn=4]", "Did you mean 'in='?"),
        ("[breathe 4 in=fast]", "Bad [breathe] in='fast'"),
        ("[breathe 4 out=0]", "give 0.5 to 60 seconds"),
        ("[breathe 4 hold=61]", "give 0 to 60 seconds"),
        ("[breathe 4 in=3 in=4]", "sets 'in' twice"),
    ],
)
def test_breathe_errors(marker: str, fragment: str) -> None:
    err = body_error(f"\n\n{marker}\n")
    assert (err.line, err.col) == (6, 1)
    assert fragment in err.reason


# ---------------------------------------------------------------- repeats


def test_repeats_fixed_elastic_and_nested() -> None:
    found = nodes(
        "[repeat 2]\nMay I be kind.\n[repeat 1~6]\n"
        "May I be safe. [pause 2s~5s]\n[/repeat]\n[/repeat]\n"
    )
    outer = found[0]
    assert isinstance(outer, Repeat)
    assert (outer.min_count, outer.max_count, outer.elastic) == (2, 2, False)
    assert (outer.pos.line, outer.pos.col) == (4, 1)
    assert shape(outer.body) == ["Speech", "Repeat"]
    inner = outer.body[1]
    assert isinstance(inner, Repeat)
    assert (inner.min_count, inner.max_count, inner.elastic) == (1, 6, True)
    assert shape(inner.body) == ["Speech", "Pause"]


def test_inline_repeat_and_paragraphs_inside() -> None:
    found = nodes("Say: [repeat 3] one.\n\ntwo. [/repeat] Done.\n")
    assert shape(found) == ["Speech", "Repeat", "Speech"]
    block = found[1]
    assert isinstance(block, Repeat)
    assert shape(block.body) == ["Speech", "P", "Speech"]


@pytest.mark.parametrize(
    ("body", "line", "col", "fragment"),
    [
        ("A.\n[repeat 2]\nB.\n", 5, 1, "[repeat] is not closed"),
        ("A.\n  [/repeat]\n", 5, 3, "[/repeat] without a matching [repeat"),
        ("[repeat 2]\n[repeat 3]\nB.\n[/repeat]\n", 4, 1, "[repeat] is not closed"),
        (
            "## One\n[repeat 2]\nB.\n## Two\nC.\n[/repeat]\n",
            5,
            1,
            "not closed before the section on line 7",
        ),
        ("[repeat 0]\nA.\n[/repeat]\n", 4, 1, "1 to 100"),
        ("[repeat 101]\nA.\n[/repeat]\n", 4, 1, "1 to 100"),
        ("[repeat 6~1]\nA.\n[/repeat]\n", 4, 1, "minimum is larger than the maximum"),
        ("[repeat]\nA.\n[/repeat]\n", 4, 1, "Bad [repeat] count ''"),
        ("[repeat two]\nA.\n[/repeat]\n", 4, 1, "Bad [repeat] count"),
        ("[repeat 2]\n<!-- nothing -->\n[/repeat]\n", 4, 1, "Empty [repeat] block"),
        ("[repeat 2]\nA.\n[/repeat 2]\n", 6, 1, "[/repeat] takes nothing"),
    ],
)
def test_repeat_errors(body: str, line: int, col: int, fragment: str) -> None:
    err = body_error(body)
    assert (err.line, err.col) == (line, col), err.message
    assert fragment in err.reason


# ---------------------------------------------------------------- unknown markers


def test_unknown_marker_suggests_the_closest() -> None:
    err = body_error("Rest now.\nAnd [paus 5s] then.\n")
    assert (err.line, err.col) == (5, 5)
    assert "Unknown marker '[paus]'. Did you mean [pause]?" in err.reason
    assert "[breathe 4]" in err.reason
    assert "Did you mean [/repeat]?" in body_error("[/repaet]").reason
    assert "Did you mean" not in body_error("[xylophone]").reason


def test_unclosed_marker() -> None:
    err = body_error("Rest [pause 5s\n")
    assert (err.line, err.col) == (4, 6)
    assert "add ']'" in err.reason


def test_message_names_file_line_and_column() -> None:
    err = body_error("[paws]")
    assert err.message.startswith("t.md:4:1: Unknown marker")
    assert err.exit_code == 3


# ---------------------------------------------------------------- uids


def test_uids_are_unique_across_the_script() -> None:
    script = parse(
        "A.\n\nB. [pause 1s]\n## S\n[repeat 1~3]\nC. [bell]\n\nD.\n[/repeat]\n[breathe 2]\n"
    )
    uids: list[int] = []

    def walk(found: tuple[Node, ...]) -> None:
        for n in found:
            uids.append(n.uid)
            if isinstance(n, Repeat):
                walk(n.body)

    for section in script.sections:
        walk(section.body)
    assert len(uids) == 9
    assert len(set(uids)) == len(uids)


# ---------------------------------------------------------------- files on disk


def test_load_template_reads_a_real_file(tmp_path: Path) -> None:
    path = tmp_path / "evening-walk.md"
    path.write_text(FRONT + "Hello, café.\n", encoding="utf-8")
    script = load_template(path)
    assert script.source == str(path)
    assert script.meta.id == "evening-walk"
    assert texts(script.sections[0].body) == ["Hello, café."]


def test_non_utf8_byte_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes(FRONT.encode() + "Café ok.\nNaïve é".encode() + b" caf\xe9.\n")
    with pytest.raises(TemplateError) as info:
        load_template(path)
    assert (info.value.file, info.value.line, info.value.col) == (str(path), 5, 12)
    assert "0xe9 is not UTF-8" in info.value.reason


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "song.md"
    path.write_bytes(b"---\ntitle: x\n---\nID3\x00\x00\x01\x02")
    with pytest.raises(TemplateError) as info:
        load_template(path)
    assert (info.value.line, info.value.col) == (4, 4)
    assert "binary file" in info.value.reason


@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n"])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(content)
    with pytest.raises(TemplateError, match="File is empty"):
        load_template(path)


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.write_bytes(FRONT.encode() + b"Breathe.\n" * (MAX_TEMPLATE_BYTES // 9 + 1))
    with pytest.raises(TemplateError, match="over 1 MB"):
        load_template(path)
    # just under the limit still parses (in paragraphs: one phrase holds 1,000 words)
    paragraph = b"Breathe. " * 500 + b"\n\n"
    path.write_bytes(FRONT.encode() + paragraph * ((MAX_TEMPLATE_BYTES - 100) // len(paragraph)))
    assert load_template(path).sections


def test_missing_file_and_folder_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_template(tmp_path / "nope.md")
    with pytest.raises(UsageError, match="is a folder"):
        load_template(tmp_path)


def test_load_template_passes_values(tmp_path: Path) -> None:
    path = tmp_path / "v.md"
    path.write_text(VARS + "Hi {name}.\n", encoding="utf-8")
    assert texts(load_template(path, {"name": "Jo"}).sections[0].body) == ["Hi Jo."]


# ---------------------------------------------------------------- property tests

_WORDS = st.sampled_from(["Breathe", "in", "gently", "you", "are", "not", "alone", "kind."])
_MARKER = st.sampled_from(
    [
        "[pause 5s]",
        "[pause 10s~60s]",
        "[pause 20s~]",
        "[pause 1s~2m x2]",
        "[silence 1m~]",
        "[bell]",
        "[bell soft 3]",
        "[breathe 4 in=4 hold=2 out=6]",
        "{name}",
        "{who|a friend}",
        "<!-- note -->",
        "{{",
        "}}",
        "*so*",
        "[1]",
    ]
)
_LINE = st.lists(st.one_of(_WORDS, _MARKER), min_size=1, max_size=8).map(" ".join)


@st.composite
def _bodies(draw: st.DrawFn) -> str:
    lines: list[str] = []
    depth = 0
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["text", "text", "blank", "heading", "open", "close"]))
        if kind == "heading" and depth == 0:
            lines.append("## " + draw(_WORDS))
        elif kind == "open" and depth < 3:
            lines.append(draw(st.sampled_from(["[repeat 2]", "[repeat 1~6]"])))
            lines.append(draw(_WORDS) + " " + draw(_LINE))  # a repeat needs content
            depth += 1
        elif kind == "close" and depth > 0:
            lines.append("[/repeat]")
            depth -= 1
        elif kind == "blank":
            lines.append("")
        else:
            lines.append(draw(st.sampled_from(["", "- ", "1. "])) + draw(_LINE))
    lines.extend(["[/repeat]"] * depth)
    lines.append("Done.")
    return "\n".join(lines)


@settings(max_examples=150, deadline=None)
@given(body=_bodies(), name=st.text(max_size=20))
def test_generated_valid_templates_parse(body: str, name: str) -> None:
    front = '---\ntitle: Generated\nvariables:\n  name: {default: ""}\n---\n'
    script = parse_template(front + body, "gen.md", {"name": name})
    assert script.sections
    assert "Done" in script.speech_texts()[-1]


_SOUP = st.lists(
    st.sampled_from(
        [
            "[",
            "]",
            "{",
            "}",
            "|",
            "~",
            "#",
            "## ",
            "<!--",
            "-->",
            "\n",
            "\n\n",
            " ",
            "x",
            "*",
            "_",
            "pause",
            "bell",
            "breathe",
            "repeat",
            "/repeat",
            "silence",
            "5s",
            "1m",
            "~",
            "x2",
            "in=",
            "3",
            "0",
            "é",
            "\t",
            "\r",
            "---",
            "title: T",
            "name",
            ":",
        ]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(body=_SOUP)
def test_marker_soup_only_raises_template_errors(body: str) -> None:
    try:
        parse_template(FRONT + body, "soup.md")
    except TemplateError as err:
        assert err.line >= 1 and err.col >= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=300),
        _SOUP.map(lambda s: s.encode()),
        st.binary(max_size=200).map(lambda b: FRONT.encode() + b),
    )
)
def test_byte_soup_files_only_raise_template_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "soup.md"
        path.write_bytes(data)
        try:
            load_template(path)
        except TemplateError as err:
            assert err.line >= 1 and err.col >= 1


def test_dedented_example_from_the_docs() -> None:
    text = textwrap.dedent(
        """\
        ---
        title: Docs
        ---
        [bell]
        Settle in. [pause 10s~60s]

        Notice your breath.
        [breathe 4]
        [repeat 1~6]
        May I be kind to myself.
        [pause 5s~20s]
        [/repeat]
        [silence 1m~]
        [bell 3]
        """
    )
    found = parse_template(text, "docs.md").sections[0].body
    assert shape(found) == [
        "Bell",
        "Speech",
        "Pause",
        "Speech",
        "Breathe",
        "Repeat",
        "Pause",
        "Bell",
    ]
