"""Commands that render: build (the whole session), plan (the timeline, no audio) and
preview (the first minute or one section, quickly)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kindvoice.cli.app import (
    Bar,
    F,
    check_rate,
    cli,
    length_ms_from,
    length_options,
    parse_vars,
    plain_text,
    voice_options,
)
from kindvoice.durations import clock
from kindvoice.errors import UsageError
from kindvoice.export import formats
from kindvoice.settings import RenderRequest

if TYPE_CHECKING:
    from kindvoice.pipeline import RenderResult


def _request(
    ctx: click.Context,
    practice: str,
    output: Path,
    length_ms: float | None,
    engine: str | None,
    voice: str | None,
    rate: float | None,
    language: str | None,
    variables: tuple[str, ...],
    fill_with: str | None = None,
    **extra: object,
) -> RenderRequest:
    from kindvoice.settings import VoiceSettings

    check_rate(rate)
    if language is not None and Path(practice).expanduser().is_file():
        raise UsageError(
            f"--language {language} chooses a practice's translation; the template file "
            f"'{practice}' speaks the language its front matter names (language:), so "
            "leave --language out."
        )
    return RenderRequest(
        practice=practice,
        output=output,
        length_ms=length_ms,
        variables=parse_vars(variables),
        voice=VoiceSettings(engine=engine, voice=voice, rate=rate, fill_with=fill_with),
        templates_dir=ctx.obj["templates_dir"],
        language=language,
        **extra,  # type: ignore[arg-type]
    )


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


background_option = click.option(
    "--background", help="Background: drone, brown, pink, rain, ocean, none; layer with '+'."
)


@cli.command()
@click.argument("practice")
@output_option
@length_options
@voice_options
@background_option
@click.option("--mono", is_flag=True, help="Mono output (64 kbps MP3, -19 LUFS).")
@click.option(
    "--quality",
    type=click.Choice(["standard", "voice", "music"], case_sensitive=False),
    help="standard: stereo 128 kbps (default); voice: mono 64 kbps; music: stereo 160 kbps.",
)
@click.option(
    "--sidecars/--no-sidecars",
    default=True,
    show_default=True,
    help="Also write NAME.vtt, .srt, .lrc, .chapters.json and .jpg beside the audio.",
)
@click.option(
    "--cover",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your own cover image (cropped to a 1400 px square); default: a generated one.",
)
@click.option(
    "--artist", default="kindvoice", show_default=True, callback=plain_text, help="Artist tag."
)
@click.option(
    "--fill-with",
    metavar="ENGINE[:VOICE]",
    help="With --voice recorded:NAME, speak the phrases not recorded yet with this"
    " synthetic voice (kokoro:heart, pyttsx3); the tags and transcript say so.",
)
@click.option("--no-cache", is_flag=True, help="Synthesize every phrase again.")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Speech worker processes (default: cores)."
)
@click.pass_context
def build(
    ctx: click.Context,
    practice: str,
    output: Path,
    force: bool,
    minutes_ms: int | None,
    length_text: str | None,
    engine: str | None,
    voice: str | None,
    rate: float | None,
    language: str | None,
    variables: tuple[str, ...],
    background: str | None,
    mono: bool,
    quality: str | None,
    sidecars: bool,
    cover: Path | None,
    artist: str,
    fill_with: str | None,
    no_cache: bool,
    workers: int | None,
) -> None:
    """Render PRACTICE (a bundled id or a template path) to an audio file."""
    from kindvoice.export.quality import export_settings
    from kindvoice.pipeline import render
    from kindvoice.settings import MixSettings

    request = _request(
        ctx,
        practice,
        output,
        length_ms_from(minutes_ms, length_text),
        engine,
        voice,
        rate,
        language,
        variables,
        fill_with,
        mix=MixSettings(background=background),
        export=export_settings(quality, mono=mono, artist=artist),
        use_cache=not no_cache,
        workers=workers,
        force=_forced(ctx, force),
        sidecars=sidecars,
        cover=cover,
    )
    result = render(request, progress=Bar(not ctx.obj["quiet"]))
    click.echo(_summary(result))


@cli.command()
@click.argument("practice")
@length_options
@voice_options
@click.pass_context
def plan(
    ctx: click.Context,
    practice: str,
    minutes_ms: int | None,
    length_text: str | None,
    engine: str | None,
    voice: str | None,
    rate: float | None,
    language: str | None,
    variables: tuple[str, ...],
) -> None:
    """Print the timeline a render would have, without encoding anything.

    With the Kokoro voice on a cold phrase cache nothing is spoken: the phrase lengths are
    estimated from the text (the render then fits the length exactly)."""
    from kindvoice.pipeline import prepare
    from kindvoice.report import plan_lines

    request = _request(
        ctx,
        practice,
        Path("plan.mp3"),
        length_ms_from(minutes_ms, length_text),
        engine,
        voice,
        rate,
        language,
        variables,
    )
    for line in plan_lines(prepare(request, estimate=True)):
        click.echo(line)


@cli.command()
@click.argument("practice")
@output_option
@length_options
@voice_options
@background_option
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
    practice: str,
    output: Path,
    force: bool,
    minutes_ms: int | None,
    length_text: str | None,
    engine: str | None,
    voice: str | None,
    rate: float | None,
    language: str | None,
    variables: tuple[str, ...],
    background: str | None,
    section: str | None,
    seconds: float,
) -> None:
    """Render the first minute (or one section) of PRACTICE, to check a voice or background.

    Without a length, the session is laid out at its shortest, so a section plays with
    its pauses at their minimum."""
    from kindvoice.pipeline import render
    from kindvoice.settings import MixSettings
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.parse import load_template

    length_ms: float | None = length_ms_from(minutes_ms, length_text)
    if length_ms is None:
        path = resolve_practice(practice, ctx.obj["templates_dir"], language)
        length_ms = load_template(path, parse_vars(variables)).meta.minutes.min * 60_000.0
    request = _request(
        ctx,
        practice,
        output,
        length_ms,
        engine,
        voice,
        rate,
        language,
        variables,
        mix=MixSettings(background=background),
        force=_forced(ctx, force),
        section=section,
        limit_seconds=seconds,
    )
    result = render(request, progress=Bar(not ctx.obj["quiet"]))
    click.echo(_summary(result))
