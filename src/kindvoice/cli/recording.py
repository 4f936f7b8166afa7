"""Commands for a teacher's own recorded voice: ``record`` (what is still to record),
``voices export`` (the phrases as a script to read from), ``voices import`` (a folder of
takes), ``voices takes``, ``voices delete`` and ``voices zip``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kindvoice.cli.app import cli, language_option, parse_vars
from kindvoice.cli.speech import voices
from kindvoice.errors import TakeError, UnknownNameError, UsageError

if TYPE_CHECKING:
    from kindvoice.settings import RenderRequest
    from kindvoice.speech.takes import RecordedVoice
    from kindvoice.template.model import Script

var_option = click.option(
    "--var", "variables", multiple=True, metavar="NAME=VALUE", help="Fill a template variable."
)


def _voice_name(text: str) -> str:
    """``anna`` or ``recorded:anna`` -> ``anna``."""
    return text.removeprefix("recorded:")


def _load(
    ctx: click.Context,
    practice: str,
    language: str | None,
    variables: tuple[str, ...],
    voice: str | None = None,
) -> tuple[RenderRequest, Script]:
    from kindvoice.settings import RenderRequest, VoiceSettings
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.parse import load_template

    path = resolve_practice(practice, ctx.obj["templates_dir"], language)
    values = parse_vars(variables)
    request = RenderRequest(
        practice=practice,
        output=Path("record.mp3"),
        variables=values,
        voice=VoiceSettings(voice=f"recorded:{voice}" if voice else None),
        templates_dir=ctx.obj["templates_dir"],
        language=language,
    )
    return request, load_template(path, values)


def _existing(name: str) -> RecordedVoice | None:
    from kindvoice.speech.takes import RecordedVoice, check_name

    try:
        return RecordedVoice(check_name(name))
    except UnknownNameError:
        return None


@cli.command()
@click.argument("practice")
@click.option("--voice", "voice_name", required=True, help="The recorded voice: anna.")
@language_option
@var_option
@click.pass_context
def record(
    ctx: click.Context,
    practice: str,
    voice_name: str,
    language: str | None,
    variables: tuple[str, ...],
) -> None:
    """What PRACTICE still needs in your recorded voice: the phrases missing and the
    lengths already fully recorded."""
    from kindvoice.recorded import changed_phrases, coverage, describe_spans

    name = _voice_name(voice_name)
    request, script = _load(ctx, practice, language, variables, name)
    voice = _existing(name)
    found = coverage(request, script, voice)
    click.echo(f"{script.meta.id} in recorded voice {name}: {found.summary()}")
    missing = found.missing
    if not missing:
        click.echo("Every phrase is recorded.")
        return
    changed = changed_phrases(found, voice)
    click.echo(f"Still to record ({len(missing)}), as FILE NAME: TEXT:")
    section = None
    for phrase in missing:
        if phrase.section != section:
            section = phrase.section
            click.echo(f"  ## {section}")
        click.echo(f"  {phrase.stem}: {phrase.text}  [{describe_spans(phrase.spans)}]")
        if phrase.text in changed:
            click.echo(f"      (changed since recorded: the take says {changed[phrase.text]!r})")
    click.echo(
        f"Record them (kindvoice voices export {script.meta.id} writes the script), then "
        f"kindvoice voices import {name} FOLDER --practice {script.meta.id}"
    )


@voices.command("export")
@click.argument("practice")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the script to this file (default: standard output).",
)
@language_option
@var_option
@click.pass_context
def voices_export(
    ctx: click.Context,
    practice: str,
    output: Path | None,
    language: str | None,
    variables: tuple[str, ...],
) -> None:
    """Write PRACTICE's phrases as a script to record from, each under the file name its
    recording must have (for `kindvoice voices import`)."""
    from kindvoice.recorded import phrase_script

    request, script = _load(ctx, practice, language, variables)
    text = phrase_script(request, script)
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists():
        raise UsageError(f"'{output}' already exists; choose another name or remove it first.")
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}: the phrases of {script.meta.id}, one file name each.")


@voices.command("import")
@click.argument("name")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--practice",
    "practices",
    multiple=True,
    help="The practice the takes are for (repeatable; default: every practice).",
)
@language_option
@var_option
@click.option("--replace", is_flag=True, help="Replace takes already recorded.")
@click.pass_context
def voices_import(
    ctx: click.Context,
    name: str,
    folder: Path,
    practices: tuple[str, ...],
    language: str | None,
    variables: tuple[str, ...],
    replace: bool,
) -> None:
    """Clean and keep the takes in FOLDER as the recorded voice NAME: one audio file per
    phrase, named as `kindvoice voices export` shows. Takes already recorded are kept
    unless --replace."""
    from kindvoice.recorded import import_folder
    from kindvoice.speech.takes import RecordedVoice, check_name, phrase_stem
    from kindvoice.template.library import list_practices

    name = check_name(_voice_name(name))
    ids = list(practices) or [ref.id for ref in list_practices(ctx.obj["templates_dir"], language)]
    texts: dict[str, str] = {}
    for practice in ids:
        script = _load(ctx, practice, language, variables)[1]
        texts.update({phrase_stem(t): t for t in script.spoken_texts()})
    voice = RecordedVoice(name, create=True)
    report = import_folder(voice, folder, texts, replace=replace)
    for line in report.refused:
        click.echo(f"Refused {line}", err=True)
    if report.unknown:
        shown = ", ".join(report.unknown[:5]) + (" ..." if len(report.unknown) > 5 else "")
        click.echo(
            f"{len(report.unknown)} files are named like no phrase ({shown}); see kindvoice "
            "voices export for the names.",
            err=True,
        )
    if report.kept:
        click.echo(
            f"{len(report.kept)} phrases already had a take and keep it (add --replace to "
            "replace them)."
        )
    click.echo(f"Kept {len(report.added)} new takes in recorded voice {name} ({voice.folder}).")
    if report.refused and not report.added:
        raise TakeError(f"No take was kept: {len(report.refused)} files were refused.")


@voices.command("takes")
@click.argument("name")
def voices_takes(name: str) -> None:
    """List the takes of the recorded voice NAME: file name, seconds and text."""
    from kindvoice.speech.takes import RecordedVoice

    voice = RecordedVoice(_voice_name(name))
    takes = sorted(voice.takes().values(), key=lambda take: take.stem)
    click.echo(f"recorded voice {voice.name}: {len(takes)} takes in {voice.folder}")
    for take in takes:
        click.echo(f"  {take.stem:<44} {take.seconds:5.1f} s  {take.text}")


@voices.command("delete")
@click.argument("name")
@click.option("--take", "stems", multiple=True, help="Delete only this take (its file name).")
@click.option("--yes", is_flag=True, help="Do not ask.")
def voices_delete(name: str, stems: tuple[str, ...], yes: bool) -> None:
    """Delete the recorded voice NAME (every take and original), or only --take STEM."""
    from kindvoice.speech.takes import RecordedVoice

    voice = RecordedVoice(_voice_name(name))
    what = f"{len(stems)} takes of" if stems else "every take of"
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"Deleting {what} '{voice.name}' cannot be undone; add --yes.")
        click.confirm(f"Delete {what} the recorded voice '{voice.name}'?", abort=True, err=True)
    if stems:
        for stem in stems:
            gone = voice.delete(stem)
            click.echo(f"Deleted the take of {gone.text!r}.")
        return
    voice.remove()
    click.echo(f"Deleted the recorded voice {voice.name}.")


@voices.command("zip")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The zip file to write.",
)
@click.option("-f", "--force", is_flag=True, help="Replace the zip file if it exists.")
def voices_zip(name: str, output: Path, force: bool) -> None:
    """Save the recorded voice NAME (its takes, the files as given, the list) as a zip."""
    from kindvoice.speech.takes import RecordedVoice

    voice = RecordedVoice(_voice_name(name))
    if output.exists() and not force:
        raise UsageError(f"'{output}' already exists. Add --force to replace it.")
    count = voice.archive(output)
    click.echo(f"Saved {count} takes of recorded voice {voice.name} -> {output}")
