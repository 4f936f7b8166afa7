"""Commands for the practice library and for teachers writing their own: list, show,
validate, new."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kindvoice.cli.app import cli, language_option
from kindvoice.errors import (
    AudioIOError,
    KindvoiceError,
    UsageError,
    ValidationFailed,
    internal_error,
)
from kindvoice.settings import VoiceSettings
from kindvoice.template.model import KINDS, Script

if TYPE_CHECKING:
    from kindvoice.lengths.ranges import Problem

log = logging.getLogger(__name__)


@cli.command("list")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="Only practices of this kind (practice, talk or timer).",
)
@language_option
@click.pass_context
def list_cmd(ctx: click.Context, kind: str | None, language: str | None) -> None:
    """List the practices by kind, with their lengths and where each comes from
    (--language: the translations in that language)."""
    from kindvoice.languages import find_language
    from kindvoice.template.library import list_practices
    from kindvoice.template.parse import load_template

    groups: dict[str, list[str]] = {name: [] for name in (*KINDS, "broken")}
    refs = list_practices(ctx.obj["templates_dir"], language)
    if language is not None and not refs:
        click.echo(f"No practices in {find_language(language).name} yet.")
    width = max((len(ref.id) + 1 for ref in refs), default=0)
    width = max(width, 26)
    for ref in refs:
        try:
            meta = load_template(ref.path).meta
        except KindvoiceError as exc:
            groups["broken"].append(f"{ref.id:<{width}} (broken: {exc.format_message()})")
            continue
        except Exception as exc:  # a bug on one file must not hide the others
            log.warning("listing %s", ref.path, exc_info=True)
            reason = internal_error(exc, " (please report it)")
            groups["broken"].append(f"{ref.id:<{width}} (broken: {reason})")
            continue
        m = meta.minutes
        where = "" if ref.origin == "bundled" else f"  [{ref.origin}: {ref.path}]"
        span = f"{m.min:g}-{m.max:g} min (default {m.default:g})"
        groups[meta.kind].append(f"{ref.id:<{width}} {span}  {meta.title}{where}")
    headings = {"practice": "Practices", "talk": "Talks", "timer": "Timers", "broken": "Broken"}
    shown = [name for name in groups if groups[name] and kind in (None, name)]
    for i, name in enumerate(shown):
        if i:
            click.echo("")
        click.echo(f"{headings[name]}:")
        for line in groups[name]:
            click.echo(f"  {line}")


@cli.command()
@click.argument("practice")
@language_option
@click.pass_context
def show(ctx: click.Context, practice: str, language: str | None) -> None:
    """Show a practice: its summary, lengths, variables and sections."""
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.parse import load_template

    path = resolve_practice(practice, ctx.obj["templates_dir"], language)
    script = load_template(path)
    meta = script.meta
    click.echo(f"{meta.title}  ({meta.id})")
    if meta.summary:
        click.echo(meta.summary)
    m = meta.minutes
    click.echo(f"Length: {m.min:g} to {m.max:g} minutes, default {m.default:g}")
    click.echo(f"Kind: {meta.kind}   Language: {meta.language}")
    click.echo(f"Background: {meta.background or 'drone'}   File: {path}")
    for var in meta.variables:
        hint = f" - {var.describe}" if var.describe else ""
        click.echo(f"Variable {var.name} (default {var.default!r}){hint}")
    click.echo("Sections: " + "; ".join(s.title for s in script.sections))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--no-length-check",
    is_flag=True,
    help="Only check the format; skip speaking the script to test its minutes range.",
)
@click.option("--engine", help="Speech engine for the length check (default: the render default).")
@click.option("--voice", help="Voice for the length check (default: the engine's).")
@click.option("--rate", type=float, help="Speaking pace for the length check (1.0 = normal).")
def validate(
    paths: tuple[Path, ...],
    no_length_check: bool,
    engine: str | None,
    voice: str | None,
    rate: float | None,
) -> None:
    """Check template files; every problem is reported as file:line:col.

    Besides the format, every whole minute of the script's ``minutes`` range (and both
    ends) is tried with the default voice: the speech, gated blocks included, is
    synthesized once, then each length is solved on durations. A length that only a
    [from]/[under] block makes impossible is reported at that block's line."""
    from kindvoice.template.parse import load_template

    defaults = VoiceSettings()
    voice_settings = dataclasses.replace(
        defaults, engine=engine or defaults.engine, voice=voice, rate=rate
    )
    failed = 0
    for path in paths:
        try:
            script = load_template(path)
            problems = [] if no_length_check else _length_problems(path, script, voice_settings)
        except KindvoiceError as exc:
            failed += 1
            click.echo(exc.format_message(), err=True)
            continue
        for problem in problems:
            click.echo(str(problem), err=True)
        if problems:
            failed += 1
            continue
        click.echo(f"{path}: ok ({script.meta.id}, {len(script.sections)} sections)")
    if failed:
        raise ValidationFailed(f"{failed} of {len(paths)} templates have errors.")


def _length_problems(path: Path, script: Script, voice: VoiceSettings) -> list[Problem]:
    """The lengths of the script's ``minutes`` range (every whole minute and both ends) it
    cannot fill with ``voice``."""
    from kindvoice.lengths import Voicing
    from kindvoice.lengths.ranges import range_problems

    return range_problems(path, script, Voicing(voice))


@cli.command()
@click.argument("name")
@click.option("--title", help="The practice's title (default: from NAME).")
def new(name: str, title: str | None) -> None:
    """Write a starter template NAME.md that shows every marker, ready to edit."""
    from importlib.resources import files

    from kindvoice.template.parse import load_template

    path = Path(name if name.endswith(".md") else f"{name}.md")
    if path.is_symlink() and not path.exists():  # written through, it would land elsewhere
        raise UsageError(
            f"'{path}' is a link to '{os.readlink(path)}', which does not exist; choose "
            "another name or remove the link first."
        )
    if path.exists():
        raise UsageError(f"'{path}' already exists; choose another name or remove it first.")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(
            f"The folder '{folder}' does not exist; create it first (mkdir -p '{folder}') or "
            "choose another place."
        )
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "my-practice"
    heading = title or path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
    text = files("kindvoice.template").joinpath("starter.md").read_text(encoding="utf-8")
    # JSON strings are valid YAML scalars: a title with a colon or quote stays valid
    text = text.replace("title: My Practice", f"title: {json.dumps(heading)}", 1)
    text = text.replace("---\n# Your practice.", f"---\nid: {slug}\n# Your practice.", 1)
    _write_new(path, text)
    load_template(path)  # the starter must always validate
    click.echo(f"Wrote {path}. Edit it, then: kindvoice validate {path}")


def _write_new(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, a file that must not exist yet (never through a link
    that appeared since the check); a failed write (a full disk, no permission) leaves
    nothing behind and is one line (exit 7)."""
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o666)  # the umask decides, as for any new file
    except FileExistsError:
        raise UsageError(
            f"'{path}' already exists; choose another name or remove it first."
        ) from None
    except OSError as exc:
        raise AudioIOError(f"Cannot write '{path}': {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise AudioIOError(f"Cannot write '{path}': {exc.strerror or exc}.") from None
