"""Commands about speech: the voices the engines offer (and a sample of each), and the
phrase cache."""

from __future__ import annotations

from pathlib import Path

import click

from kindvoice.cli.app import Bar, cli
from kindvoice.cli.options import field_option
from kindvoice.cli.render import output_option
from kindvoice.speech.registry import engine_names


@cli.group(invoke_without_command=True)
@click.option("--engine", help=f"Only this engine's voices ({', '.join(engine_names())}).")
@click.pass_context
def voices(ctx: click.Context, engine: str | None) -> None:
    """List the voices: each engine's, with language and a short description. The voice
    marked * is the one used when none is named."""
    if ctx.invoked_subcommand is not None:
        return
    from kindvoice.settings import default_engine
    from kindvoice.speech.base import engine_class
    from kindvoice.speech.synth import list_voices

    names = [engine] if engine else sorted(engine_names(), key=lambda n: n != default_engine())
    for name in names:
        engine_class(name)  # an unknown engine: one line with the choices
        default = " (the default engine)" if name == default_engine() else ""
        click.echo(f"{name}{default}:")
        infos = list_voices(name)
        shown = infos if engine or len(infos) <= 20 else [v for v in infos if v.default]
        for v in shown:
            mark = "*" if v.default and default else " "
            click.echo(f"  {mark} {v.id:<14} {v.language:<7} {v.name}")
        if len(shown) < len(infos):
            click.echo(
                f"    ... and {len(infos) - len(shown)} more: kindvoice voices --engine {name}"
            )


@voices.command("preview")
@click.argument("voice")
@output_option
@field_option("engine", help="The engine of VOICE (default: the default engine).")
@field_option("rate", help="Speaking pace (default: the engine's).")
@click.pass_context
def voices_preview(
    ctx: click.Context,
    voice: str,
    output: Path,
    force: bool,
    engine: str | None,
    rate: float | None,
) -> None:
    """Speak the same short passage (about 20 seconds) with VOICE, to compare voices; in
    the voice's own language where kindvoice has a passage in it."""
    from kindvoice.pipeline import render
    from kindvoice.settings import RenderRequest, VoiceSettings, default_engine
    from kindvoice.speech.samples import sample_template
    from kindvoice.speech.synth import list_voices

    infos = {v.id.casefold(): v for v in list_voices(engine or default_engine())}
    language = infos[voice.casefold()].language if voice.casefold() in infos else "en"
    request = RenderRequest(
        practice=str(sample_template(language)),
        output=output,
        voice=VoiceSettings(engine=engine, voice=voice, rate=rate),
        templates_dir=ctx.obj["templates_dir"],
        title=f"Voice sample: {voice}",
    )
    result = render(request, progress=Bar(not ctx.obj["quiet"]))
    click.echo(f"{result.seconds:.1f} s sample of {voice} -> {result.path}")


@cli.group()
def cache() -> None:
    """Inspect or clear the phrase cache."""


@cache.command("info")
def cache_info() -> None:
    """Where the cache is, how many phrases it holds, how big it is."""
    from kindvoice.speech.cache import PhraseCache

    c = PhraseCache()
    entries, size = c.info()
    click.echo(f"{c.root}: {entries} phrases, {size / 1e6:.1f} MB")


@cache.command("clear")
def cache_clear() -> None:
    """Delete every cached phrase."""
    from kindvoice.speech.cache import PhraseCache

    removed = PhraseCache().clear()
    click.echo(f"Removed {removed} cached phrases.")
