"""The command line's session options, made from the one table of session fields
(``kindvoice.fields``): ``session_options`` puts the options a command takes on it
(``build``, ``preview``, ``plan``, ``timer``, ``voices preview``), each with the table's
help text and read by the table's checker, so a bad value is refused here exactly as the
web, a manifest, a course plan or front matter refuses it, in the words of the option
(``--rate must be between 0.5 and 2; got 9.``). ``session_request`` turns what they
read into a ``RenderRequest``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kindvoice.cli.app import F, length_ms_from, parse_vars, plain_text
from kindvoice.errors import UsageError
from kindvoice.fields import FIELDS, Field, Said
from kindvoice.speech.registry import engines_help

if TYPE_CHECKING:
    from kindvoice.settings import RenderRequest

Callback = Callable[[click.Context, click.Parameter, Any], Any]

#: what ``--help`` shows for a value, by kind (and for a few fields by name)
METAVARS = {"length": "MINUTES", "number": "NUMBER", "count": "INTEGER", "text": "TEXT"}
NAMED_METAVARS = {"length": "MM:SS", "fill_with": "ENGINE[:VOICE]"}


def _reader(spec: Field) -> Callback:
    """The click callback that reads option ``spec.option`` through the table."""
    said = Said(str(spec.option))

    def read(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if spec.kind == "pairs":
            found = parse_vars(value)
            for name, text in found.items():
                spec.read(text, Said(f"--var {name}"))
            return found
        if spec.kind in ("flag", "path") or value is None:
            return value
        plain_text(ctx, param, str(value))
        return spec.read(value, said)

    return read


def field_option(name: str, *, required: bool = False, help: str | None = None) -> Callable[[F], F]:
    """The click option of session field ``name`` (its help text unless ``help`` says
    more for one command)."""
    spec = FIELDS[name]
    if spec.option is None:
        raise ValueError(f"the field {name!r} has no command-line option")
    words = (help or spec.help).replace("{engines}", engines_help())
    kwargs: dict[str, Any] = {"help": words, "callback": _reader(spec)}
    if spec.kind == "flag":
        kwargs.update(is_flag=True, default=bool(spec.default))
    elif spec.kind == "pairs":
        kwargs.update(multiple=True, metavar="NAME=VALUE")
    elif spec.kind == "path":
        kwargs.update(type=click.Path(dir_okay=False, path_type=Path))
    elif spec.choices:
        kwargs.update(metavar=f"[{'|'.join(spec.choices)}]")
    else:
        kwargs.update(metavar=NAMED_METAVARS.get(name, METAVARS[spec.kind]))
    if spec.default is not None and spec.kind != "flag":
        kwargs.update(default=spec.default, show_default=True)
    return click.option(spec.option, name, required=required, **kwargs)


def session_options(
    *names: str, required: tuple[str, ...] = (), helps: Mapping[str, str] | None = None
) -> Callable[[F], F]:
    """The options of the session fields ``names``, in that order in ``--help``;
    ``required`` ones must be given; ``helps`` words a field for this command."""
    helps = helps or {}

    def decorate(func: F) -> F:
        for name in reversed(names):
            option = field_option(name, required=name in required, help=helps.get(name))
            func = option(func)
        return func

    return decorate


def session_request(
    ctx: click.Context, practice: str, output: Path, fields: Mapping[str, Any], **extra: Any
) -> RenderRequest:
    """The render the session options ask for; ``extra`` sets the request's other parts
    (``mix``, ``export``, ``force`` ...)."""
    from kindvoice.settings import RenderRequest, VoiceSettings

    language = fields.get("language")
    if language is not None and Path(practice).expanduser().is_file():
        raise UsageError(
            f"--language {language} chooses a practice's translation; the template file "
            f"'{practice}' speaks the language its front matter names (language:), so "
            "leave --language out."
        )
    voice = VoiceSettings(
        engine=fields.get("engine"),
        voice=fields.get("voice"),
        rate=fields.get("rate"),
        fill_with=fields.get("fill_with"),
    )
    return RenderRequest(
        practice=practice,
        output=output,
        length_ms=length_ms_from(fields.get("minutes"), fields.get("length")),
        variables=dict(fields.get("variables") or {}),
        voice=voice,
        templates_dir=ctx.obj["templates_dir"],
        language=language,
        **extra,
    )
