"""Commands about sound: ``sounds`` (list the bells and backgrounds; ``sounds preview``
renders one) and ``timer`` (an unguided sitting with bells exactly on time).

``render_preview`` is the small core behind ``sounds preview``: a bell's strikes or a
stretch of background, faded in and out, through the true-peak limiter and the Writer.
"""

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

# Backgrounds preview at EBU R128 programme level: clearly audible alone, never loud. (In
# a session they sit 20 LU under the voice, rising up to 6 LU in long silences.)
PREVIEW_BED_LUFS = -23.0
PREVIEW_LEAD_IN_S = 1.0  # before a bell's first strike


def render_preview(
    name: str, output: Path, seconds: float = 30.0, strikes: int = 3, seed: int = 0
) -> tuple[Path, int, bool]:
    """Render ``seconds`` of background ``name`` (any ``--background`` spec), or the
    strikes of bell ``name``, to ``output``; returns (path, samples, needs headphones).

    A bell is placed after a second of silence and the file lasts until it has rung out,
    at least ``seconds``. Raises ``UnknownNameError`` listing bells and backgrounds."""
    import numpy as np

    from kindvoice.audio import SAMPLE_RATE, db_to_gain, ms_to_samples, s_to_samples
    from kindvoice.errors import UnknownNameError
    from kindvoice.export.encode import Writer, format_for
    from kindvoice.mix.master import TruePeakLimiter
    from kindvoice.mix.mixer import BLOCK_SAMPLES
    from kindvoice.settings import ExportSettings, MixSettings
    from kindvoice.sound.beds import BED_REFERENCE_LUFS, background_names, make_bed
    from kindvoice.sound.bells import bell_names, render_bell

    format_for(output)  # an unknown extension fails before any work
    export, mix = ExportSettings(), MixSettings()
    key = name.strip().lower()
    simple = all(c not in name for c in "+@:/.")  # a path is a music file
    if simple and key not in bell_names() and key not in background_names():
        raise UnknownNameError("sound", name, [*bell_names(), *background_names()])

    if key in bell_names():
        peak = db_to_gain(export.target_lufs + mix.bell_level_lu)  # as in a session
        bell = render_bell(key, strikes, peak, seed)
        lead = s_to_samples(PREVIEW_LEAD_IN_S)
        total = max(s_to_samples(seconds), lead + len(bell) + SAMPLE_RATE)
        bell_track = np.zeros(total, dtype=np.float32)
        bell_track[lead : lead + len(bell)] = bell
        bed = None
        stereo = False
    else:
        bed = make_bed(name, seed)
        total = s_to_samples(seconds)
        gain = db_to_gain(PREVIEW_BED_LUFS - BED_REFERENCE_LUFS)
        fade_in, fade_out = ms_to_samples(mix.fade_in_ms), ms_to_samples(mix.fade_out_ms)
        stereo = bed.needs_stereo

    writer = Writer(output, 2, export.bitrate, export.lame_quality)
    limiter = TruePeakLimiter(export.true_peak_ceiling_db)
    try:
        for start in range(0, total, BLOCK_SAMPLES):
            n = min(BLOCK_SAMPLES, total - start)
            if bed is None:
                block = np.repeat(bell_track[start : start + n, None], 2, axis=1)
            else:
                t = np.arange(start, start + n, dtype=np.float64)
                ramp = np.clip(np.minimum(t / fade_in, (total - 1 - t) / fade_out), 0.0, 1.0)
                shape = gain * (0.5 - 0.5 * np.cos(np.pi * ramp))  # raised-cosine fades
                block = bed.render(n) * shape[:, None].astype(np.float32)
            writer.write(limiter.process(block))
        writer.write(limiter.flush())
        writer.finish()
        path = writer.commit()
    except BaseException:
        writer.abort()
        raise
    log.info("preview limiter took off at most %.1f dB", limiter.max_reduction_db)
    return path, writer.samples, stereo


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

    path, samples, headphones = render_preview(name, output, seconds, strikes, seed)
    click.echo(f"{clock(samples)} of {name} -> {path}")
    if headphones:
        click.echo("Binaural beats: use headphones.")


#: the timer's words for the session fields it shares with the render commands
TIMER_HELP = {
    "minutes": "Sitting time in minutes, from the opening bell to the closing bell.",
    "engine": "Speech engine for the welcome (default: kokoro).",
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
        minutes=fields["minutes"],
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
