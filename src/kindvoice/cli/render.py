"""Commands that render: build (the whole session), plan (the timeline, no audio) and
preview (the first minute or one section, quickly)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kindvoice.cli.app import Bar, F, cli
from kindvoice.cli.options import field_option, session_options, session_request
from kindvoice.durations import clock
from kindvoice.errors import UsageError
from kindvoice.export import formats

if TYPE_CHECKING:
    from kindvoice.pipeline import RenderResult


def _summary(result: RenderResult) -> str:
    return (
        f"{clock(result.total_samples)} ({result.seconds:.3f} s), voice {result.voice_lufs:.1f}"
        f" LUFS, peak {result.peak_db:.1f} dBFS, {result.size_bytes / 1e6:.1f} MB -> {result.path}"
    )


CONFIRMED = "kindvoice.replace_confirmed"  # ctx.meta: the user said yes at the terminal


def _check_output(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """An existing output is replaced only with --force, or after asking at a terminal
    (a yes counts as --force for the sidecars beside it too)."""
    if value is not None and value.exists() and not ctx.params.get("force"):
        if not sys.stdin.isatty():
            raise UsageError(f"'{value}' already exists. Add --force to replace it.")
        click.confirm(
            f"'{value}' already exists. Replace it (and its sidecars)?", abort=True, err=True
        )
        ctx.meta[CONFIRMED] = True
    return value


def _forced(ctx: click.Context, force: bool) -> bool:
    """--force, or a yes at the terminal: files kindvoice did not write may be replaced."""
    return force or bool(ctx.meta.get(CONFIRMED))


def output_option(func: F) -> F:
    """-o/--output (the extension picks the format) with -f/--force."""
    func = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        callback=_check_output,
        help=f"Output file; the extension picks the format ({', '.join(formats.extensions())}).",
    )(func)
    return click.option(
        "-f", "--force", is_flag=True, is_eager=True, help="Replace the output if it exists."
    )(func)


background_option = field_option("background")

#: the session fields each render command takes, in the order --help lists them
SPEECH = ("minutes", "length", "engine", "voice", "rate", "language", "variables")
BUILD = (*SPEECH, "background", "mono", "quality", "cover", "artist", "fill_with", "workers")


@cli.command()
@click.argument("practice")
@output_option
@session_options(*BUILD)
@click.option(
    "--sidecars/--no-sidecars",
    default=True,
    show_default=True,
    help="Also write NAME.vtt, .srt, .lrc, .chapters.json and .jpg beside the audio.",
)
@click.option("--no-cache", is_flag=True, help="Synthesize every phrase again.")
@click.pass_context
def build(
    ctx: click.Context,
    /,
    practice: str,
    output: Path,
    force: bool,
    sidecars: bool,
    no_cache: bool,
    **fields: Any,
) -> None:
    """Render PRACTICE (a bundled id or a template path) to an audio file."""
    from kindvoice.export.quality import export_settings
    from kindvoice.pipeline import render
    from kindvoice.settings import MixSettings

    export = export_settings(fields["quality"], mono=fields["mono"], artist=fields["artist"])
    request = session_request(
        ctx,
        practice,
        output,
        fields,
        mix=MixSettings(background=fields["background"]),
        export=export,
        use_cache=not no_cache,
        workers=fields["workers"],
        force=_forced(ctx, force),
        sidecars=sidecars,
        cover=fields["cover"],
    )
    result = render(request, progress=Bar(not ctx.obj["quiet"]))
    click.echo(_summary(result))


@cli.command()
@click.argument("practice")
@session_options(*SPEECH)
@click.pass_context
def plan(ctx: click.Context, /, practice: str, **fields: Any) -> None:
    """Print the timeline a render would have, without encoding anything.

    With the Kokoro voice on a cold phrase cache nothing is spoken: the phrase lengths are
    estimated from the text (the render then fits the length exactly)."""
    from kindvoice.pipeline import prepare
    from kindvoice.report import plan_lines

    request = session_request(ctx, practice, Path("plan.mp3"), fields)
    for line in plan_lines(prepare(request, estimate=True)):
        click.echo(line)


@cli.command()
@click.argument("practice")
@output_option
@session_options(*SPEECH, "background")
@click.option("--section", help="Render this section (by its heading) instead of the first minute.")
@click.option(
    "--seconds",
    type=click.FloatRange(5, 600),
    default=60,
    show_default=True,
    help="How much to render.",
)
@click.pass_context
def preview(
    ctx: click.Context,
    /,
    practice: str,
    output: Path,
    force: bool,
    section: str | None,
    seconds: float,
    **fields: Any,
) -> None:
    """Render the first minute (or one section) of PRACTICE, to check a voice or background.

    Without a length, the session is laid out at its shortest, so a section plays with
    its pauses at their minimum. A slow voice (Kokoro) speaks only the phrases the first
    minute plays; when the estimate of the rest cannot fit the length, the whole practice
    is spoken as for a render."""
    from kindvoice.errors import LengthError
    from kindvoice.pipeline import render
    from kindvoice.settings import MixSettings
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.parse import load_template

    request = session_request(
        ctx,
        practice,
        output,
        fields,
        mix=MixSettings(background=fields["background"]),
        force=_forced(ctx, force),
        section=section,
        limit_seconds=seconds,
    )
    if request.length_ms is None:
        path = resolve_practice(practice, ctx.obj["templates_dir"], request.language)
        shortest = load_template(path, request.variables).meta.minutes.min
        request = dataclasses.replace(request, length_ms=shortest * 60_000.0)
    try:
        result = render(
            dataclasses.replace(request, opening_only=True), progress=Bar(not ctx.obj["quiet"])
        )
    except LengthError:  # the rest estimated on the safe side: speak it all
        result = render(request, progress=Bar(not ctx.obj["quiet"]))
    click.echo(_summary(result))
