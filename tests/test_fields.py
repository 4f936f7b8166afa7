"""The one table of session fields (``kindvoice.fields``) against every front end: the
command line, the web forms, a batch manifest, a course plan and a template's front
matter refuse the same out-of-bounds values and accept the same in-bounds ones, each in
its own words (the option, the form field's label, the column with its row, the key
with its file, the key at its line and column)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from werkzeug.datastructures import MultiDict

from kindvoice.errors import KindvoiceError, TemplateError
from kindvoice.fields import FIELDS, Said
from kindvoice.settings import MAX_COURSE_SESSIONS, MAX_SESSION_MINUTES

#: a front end's reader: (value as that front end writes it, a scratch folder) -> the
#: value it read; raises KindvoiceError naming the field in its words
Reader = Callable[[str, Path], Any]


def _cli(command: str, option: str, extra: tuple[str, ...] = ()) -> Reader:
    def read(text: str, tmp: Path) -> Any:
        from kindvoice.cli import cli

        root = cli.make_context("kindvoice", [command, "--help"], resilient_parsing=True)
        root.obj = {"templates_dir": None, "quiet": True, "debug": False}
        sub = cli.get_command(root, command)
        assert isinstance(sub, click.Command)
        args = [*extra, option, text]
        with sub.make_context(command, args, parent=root) as ctx:
            return ctx.params[option.lstrip("-").replace("-", "_")]

    return read


def _web(name: str, table: str | None = None) -> Reader:
    def read(text: str, tmp: Path) -> Any:
        from kindvoice.web import forms

        return forms.field_value(MultiDict({name: text}), name, table)

    return read


def _web_level(text: str, tmp: Path) -> Any:
    from kindvoice.web.forms import background_spec

    return background_spec(MultiDict({"bg_rain": "1", "bg_rain_db": text}))


def _manifest(column: str) -> Reader:
    def read(text: str, tmp: Path) -> Any:
        from kindvoice.publish.manifest import job_from_row

        row = {"practice": "soothing-touch", column: text}
        job = job_from_row(row, 3, base=tmp, output_dir=tmp)
        return job.request.voice.rate if column == "rate" else job.request.length_ms

    return read


def _plan(key: str) -> Reader:
    def read(text: str, tmp: Path) -> Any:
        from kindvoice.publish.course import load_plan

        plan = {"title": "T", "days": "3", "start_minutes": "3", "end_minutes": "5"}
        plan |= {"practices": "[soothing-touch]", key: text}
        path = tmp / "plan.yaml"
        path.write_text("".join(f"{k}: {v}\n" for k, v in plan.items()), encoding="utf-8")
        return getattr(load_plan(path), {"days": "count"}.get(key, key))

    return read


def _front_matter(shape: str, attribute: Callable[[Any], Any]) -> Reader:
    def read(text: str, tmp: Path) -> Any:
        from kindvoice.template.frontmatter import parse_meta

        return attribute(parse_meta(f"title: T\n{shape.format(text)}\n", "t.md"))

    return read


RATE_READERS = {
    "--rate of build": _cli("build", "--rate", ("x", "-o", "/nonexistent/x.mp3")),
    "--rate of timer": _cli("timer", "--rate", ("--minutes", "5", "-o", "/nonexistent/t.mp3")),
    "the Build form's rate": _web("rate"),
    "a manifest's rate": _manifest("rate"),
    "a plan's rate": _plan("rate"),
    "front matter voice.rate": _front_matter("voice: {{rate: {}}}", lambda m: m.voice_rate),
}
MINUTES_READERS = {
    "--minutes of plan": _cli("plan", "--minutes", ("x",)),
    "--length of build": _cli("build", "--length", ("x", "-o", "/nonexistent/x.mp3")),
    "the Build form's minutes": _web("minutes"),
    "the Course form's first day": _web("start_minutes", "minutes"),
    "a manifest's minutes": _manifest("minutes"),
    "a manifest's length": _manifest("length"),
    "a plan's start_minutes": _plan("start_minutes"),
    "front matter minutes": _front_matter("minutes: {}", lambda m: m.minutes.max),
}
DAYS_READERS = {"the Course form's days": _web("days"), "a plan's days": _plan("days")}
LEVEL_READERS = {"the Build form's background level": _web_level}

TOP = f"{MAX_SESSION_MINUTES:g}"
CASES = [
    ("rate", RATE_READERS, ["0.5", "0.8", "1", "2"], ["0.49", "2.01", "0", "-1", "9", "3.0"]),
    ("minutes", MINUTES_READERS, ["0.2", "1", "12.5", TOP], ["0", "-1", "600.5", "1e9"]),
    ("days", DAYS_READERS, ["1", "21", f"{MAX_COURSE_SESSIONS}"], ["0", "1000", "2.5", "-3"]),
    ("level", LEVEL_READERS, ["-30", "-6", "6"], ["-31", "6.5", "40"]),
]


def _reads(reader: Reader, text: str, tmp: Path) -> tuple[bool, str]:
    try:
        reader(text, tmp)
    except (KindvoiceError, click.ClickException) as exc:
        return False, str(exc)
    return True, ""


@pytest.mark.parametrize(("name", "readers", "good", "bad"), CASES, ids=[case[0] for case in CASES])
def test_every_front_end_draws_the_same_line(
    name: str, readers: dict[str, Reader], good: list[str], bad: list[str], tmp_path: Path
) -> None:
    """In-bounds values are read by every front end, out-of-bounds ones refused by each,
    and the table's own reader agrees with them all."""
    spec = FIELDS[name]
    for text in good:
        spec.read(text, Said(name))  # the table itself takes it
        refused = {}
        for where, reader in readers.items():
            ok, why = _reads(reader, text, tmp_path)
            if not ok:
                refused[where] = why
        assert refused == {}, f"{text} is in bounds for {name}"
    for text in bad:
        with pytest.raises(KindvoiceError):
            spec.read(text, Said(name))
        taken = [where for where, r in readers.items() if _reads(r, text, tmp_path)[0]]
        assert taken == [], f"{text} is out of bounds for {name}"


@pytest.mark.parametrize(
    ("reader", "words"),
    [
        (RATE_READERS["--rate of build"], "--rate must be between 0.5 and 2; got 9."),
        (RATE_READERS["the Build form's rate"], "The speaking pace must be between 0.5 and 2"),
        (RATE_READERS["a manifest's rate"], "Row 3: 'rate' must be between 0.5 and 2; got 9."),
        (RATE_READERS["a plan's rate"], "plan.yaml: 'rate' must be between 0.5 and 2; got 9."),
        (RATE_READERS["front matter voice.rate"], "t.md:3:9: 'voice.rate' must be between"),
    ],
)
def test_each_front_end_names_the_field_in_its_own_words(
    reader: Reader, words: str, tmp_path: Path
) -> None:
    ok, message = _reads(reader, "9", tmp_path)
    assert not ok and words in message


def test_front_matter_refuses_at_the_key() -> None:
    from kindvoice.template.frontmatter import parse_meta

    with pytest.raises(TemplateError) as caught:
        parse_meta("title: T\nvoice: {rate: 2.5}\n", "t.md")
    assert (caught.value.line, caught.value.col) == (3, 9)  # after the opening ---


def test_the_web_form_names_the_field_it_refuses() -> None:
    from kindvoice.errors import FieldError
    from kindvoice.web import forms

    with pytest.raises(FieldError) as caught:
        forms.field_value(MultiDict({"start_minutes": "700"}), "start_minutes", "minutes")
    assert caught.value.field == "start_minutes"
    assert caught.value.message.startswith("The length in minutes must be a positive length")


def test_every_option_of_the_table_is_on_the_command_line() -> None:
    """Each field with an option is an option of ``build`` or the timer, with the table's
    help text (one place to word it)."""
    from kindvoice.cli import cli

    ctx = click.Context(cli)
    found: dict[str, str] = {}
    for command in ("build", "timer"):
        sub = cli.get_command(ctx, command)
        assert sub is not None
        for param in sub.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    found.setdefault(opt, param.help or "")
    for spec in FIELDS.values():
        if spec.option is not None:
            assert spec.option in found, spec.name
    assert found["--rate"] == FIELDS["rate"].help and found["--workers"] == FIELDS["workers"].help
