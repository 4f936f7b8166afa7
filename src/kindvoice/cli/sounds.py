"""Commands about sound: ``sounds`` (list the bells and backgrounds; ``sounds preview``
renders one, ``export.sound_preview``) and ``timer`` (an unguided sitting with bells
exactly on time)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from kindvoice.cli.app import Bar, cli
from kindvoice.cli.options import session_options
from kindvoice.cli.render import output_option
from kindvoice.durations import clock, parse_ms

log = logging.getLogger(__name__)


@cli.group(invoke_without_command=True)
@click.pass_context
def sounds(ctx: click.Context) -> None:
    """List the bells and backgrounds (or: sounds preview NAME -o FILE)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(sounds_list)


@sounds.command("list")
def sounds_list() -> None:
    """List the bells and backgrounds, one line each."""
    from kindvoice.sound.beds import background_descriptions
    from kindvoice.sound.beds.music import DESCRIPTION as MUSIC
    from kindvoice.sound.bells import DEFAULT_BELL, bell_descriptions

    click.echo("Bells ([bell NAME] in a template, --bell NAME for the timer):")
    for name, text in bell_descriptions().items():
        default = " (default)" if name == DEFAULT_BELL else ""
        click.echo(f"  {name:<16} {text}{default}")
    click.echo("Backgrounds (--background NAME; layer with +, set a level with @dB):")
    for name, text in {**background_descriptions(), "music:PATH": MUSIC}.items():
        click.echo(f"  {name:<16} {text}")
    click.echo("Hear one: kindvoice sounds preview NAME -o preview.mp3")


@sounds.command("preview")
@click.argument("name")
@output_option
@click.option(
    "--seconds",
    type=click.FloatRange(5, 600),
    default=30,
    show_default=True,
    help="How much background to render (a bell plays until it has rung out).",
)
@click.option(
    "--strikes", type=click.IntRange(1, 9), default=3, show_default=True, help="Bell strikes."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Noise and start choices.")
def sounds_preview(
    name: str, output: Path, force: bool, seconds: float, strikes: int, seed: int
) -> None:
    """Render NAME (a bell, or any --background spec such as rain+drone@-6 or
    music:PATH) to a short file, faded in and out."""

    from kindvoice.export.sound_preview import render_sound_preview

    path, samples, headphones = render_sound_preview(name, output, seconds, strikes, seed)
    click.echo(f"{clock(samples)} of {name} -> {path}")
    if headphones:
        click.echo("Binaural beats: use headphones.")


#: the timer's words for the session fields it shares with the render commands
TIMER_HELP = {
    "minutes": "Sitting time in minutes, from the opening bell to the closing bell.",
    "engine": "Speech engine for the welcome: {engines}.",
    "voice": "Voice for the welcome.",
    "rate": "Speaking pace for the welcome.",
}


@cli.command()
@session_options("minutes", required=("minutes",), helps=TIMER_HELP)
@click.option("--warmup", default="0s", show_default=True, help="Quiet before the opening bell.")
@click.option("--interval", help="An interval bell every so often (5m, 7m30s).")
@click.option("--at", "at_text", help="Interval bells after the opening bell: 5m,10m,17m.")
@click.option("--bell", default="bowl", show_default=True, help="bowl, soft, bright or chime.")
@click.option("--welcome", help="One line spoken during the warm-up.")
@session_options("background", "engine", "voice", "rate", "mono", helps=TIMER_HELP)
@output_option
@click.pass_context
def timer(
    ctx: click.Context,
    /,
    warmup: str,
    interval: str | None,
    at_text: str | None,
    bell: str,
    welcome: str | None,
    output: Path,
    force: bool,
    **fields: Any,
) -> None:
    """A meditation timer: warm-up, opening bell, optional interval bells, closing bell,
    as one file that keeps playing when the phone's screen locks."""
    from kindvoice.settings import ExportSettings, MixSettings, RenderRequest, VoiceSettings
    from kindvoice.timer import TimerSpec, render_timer

    at = tuple(parse_ms(t, "--at time") for t in (at_text or "").split(",") if t.strip())
    if at_text is not None and not at:
        raise click.BadParameter("give times such as 5m,10m,17m", param_hint="--at")
    spec = TimerSpec(
        minutes=fields["minutes"] / 60_000.0,  # the field reads a length in ms
        warmup_ms=parse_ms(warmup, "--warmup"),
        interval_ms=None if interval is None else parse_ms(interval, "--interval"),
        at_ms=at,
        bell=bell.strip().lower(),
        welcome=welcome or "",
    )
    request = RenderRequest(
        practice="timer",
        output=output,
        voice=VoiceSettings(engine=fields["engine"], voice=fields["voice"], rate=fields["rate"]),
        mix=MixSettings(background=fields["background"]),
        export=ExportSettings(mono=fields["mono"]),
        templates_dir=ctx.obj["templates_dir"],
    )
    result, schedule = render_timer(spec, request, progress=Bar(not ctx.obj["quiet"]))
    times = [clock(b) for b in schedule.bells]
    # a long sitting with short intervals has hundreds: the first few, the last, the count
    bells = (
        ", ".join(times)
        if len(times) <= 12
        else (f"{', '.join(times[:5])} ... {times[-1]} ({len(times)} bells)")
    )
    click.echo(
        f"{clock(result.total_samples)} ({result.seconds:.3f} s), bells at {bells}, "
        f"peak {result.peak_db:.1f} dBFS, {result.size_bytes / 1e6:.1f} MB -> {result.path}"
    )
    if "binaural" in result.prepared.background:
        click.echo("Binaural beats: use headphones.")
