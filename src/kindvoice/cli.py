"""The command line: parse options, call one core function, echo the result.

Heavy modules are imported inside the commands so ``kindvoice --help`` stays instant.
Errors below this layer are ``KindvoiceError``s, printed as one line (a traceback only
with ``--debug``); anything else is a bug, reported as one line and exit code 1.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from kindvoice import __version__
from kindvoice.errors import KindvoiceError, UsageError, ValidationFailed

log = logging.getLogger("kindvoice")


# --------------------------------------------------------------------------- helpers


def parse_length(text: str) -> float:
    """``12:30`` or ``1:02:03`` or ``750s`` or ``12.5`` (minutes) to minutes."""
    text = text.strip()
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}(\.\d+)?", text):
        parts = [float(p) for p in text.split(":")]
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60 + p
        return seconds / 60.0
    if m := re.fullmatch(r"(\d+(?:\.\d+)?)s", text):
        return float(m.group(1)) / 60.0
    raise UsageError(f"Cannot read the length '{text}'. Write MM:SS (12:30) or H:MM:SS.")


def parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var needs name=value; got '{pair}'.")
        values[name.strip()] = value
    return values


class Bar:
    """A one-line progress bar on stderr (silent when stderr is not a terminal or -q)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        label = {"speech": "Speaking", "mix": "Mixing  "}.get(stage, stage)
        click.echo(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}%",
            err=True,
            nl=False,
        )
        if done >= total:
            click.echo("", err=True)

    def close(self) -> None:
        pass


class KindvoiceGroup(click.Group):
    """Turns unexpected exceptions into one line (a traceback with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # `kindvoice list | head`: the reader left, not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("Interrupted; no output was written.", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug: keep the message, hide the traceback
            if ctx.find_root().params.get("debug"):
                raise
            raise KindvoiceError(
                f"Internal error: {type(exc).__name__}: {exc} (run with --debug for details)"
            ) from exc


# --------------------------------------------------------------------------- commands


@click.group(cls=KindvoiceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kindvoice")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress bar.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("--templates-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="KINDVOICE_TEMPLATES_DIR",
              help="Your own practices; they override bundled ones with the same id.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, debug: bool,
        templates_dir: Path | None) -> None:
    """Voice-guided self-compassion meditations, rendered offline to phone-ready audio."""
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[
        min(verbose + (2 if debug else 0), 2)
    ]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = {"quiet": quiet, "debug": debug, "templates_dir": templates_dir}


@cli.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """List the practices with their lengths and where each comes from."""
    from kindvoice.template.library import list_practices
    from kindvoice.template.parse import load_template

    for ref in list_practices(ctx.obj["templates_dir"]):
        try:
            meta = load_template(ref.path).meta
        except KindvoiceError as exc:
            click.echo(f"{ref.id:<26} (broken: {exc.format_message()})")
            continue
        m = meta.minutes
        where = "" if ref.origin == "bundled" else f"  [{ref.origin}: {ref.path}]"
        click.echo(
            f"{ref.id:<26} {m.min:g}-{m.max:g} min (default {m.default:g})  {meta.title}{where}"
        )


@cli.command()
@click.argument("practice")
@click.pass_context
def show(ctx: click.Context, practice: str) -> None:
    """Show a practice: its summary, lengths, variables and sections."""
    from kindvoice.template.library import resolve_practice
    from kindvoice.template.parse import load_template

    path = resolve_practice(practice, ctx.obj["templates_dir"])
    script = load_template(path)
    meta = script.meta
    click.echo(f"{meta.title}  ({meta.id})")
    if meta.summary:
        click.echo(meta.summary)
    m = meta.minutes
    click.echo(f"Length: {m.min:g} to {m.max:g} minutes, default {m.default:g}")
    click.echo(f"Background: {meta.background or 'drone'}   File: {path}")
    for var in meta.variables:
        hint = f" - {var.describe}" if var.describe else ""
        click.echo(f"Variable {var.name} (default {var.default!r}){hint}")
    click.echo("Sections: " + "; ".join(s.title for s in script.sections))


@cli.command()
@click.argument("practice")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file; the extension picks the format (.mp3, .wav, .flac).")
@click.option("--minutes", type=float, help="Total length in minutes (default: the practice's).")
@click.option("--length", "length_text", help="Total length as MM:SS or H:MM:SS.")
@click.option("--engine", default="pyttsx3", show_default=True, help="Speech engine: pyttsx3 or piper.")
@click.option("--voice", help="Voice id (pyttsx3), or 'joe' / a .onnx path (piper).")
@click.option("--rate", type=float, help="Speaking pace; 1.0 is the engine's normal pace.")
@click.option("--background", help="Background: drone, brown, pink, rain, ocean, none ...")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Fill a template variable.")
@click.option("--mono", is_flag=True, help="Mono output (64 kbps MP3, -19 LUFS).")
@click.option("--artist", default="kindvoice", show_default=True, help="Artist tag.")
@click.option("--no-cache", is_flag=True, help="Synthesize every phrase again.")
@click.option("--workers", type=click.IntRange(1, 64), help="Speech worker processes (default: cores).")
@click.pass_context
def build(ctx: click.Context, practice: str, output: Path, minutes: float | None,
          length_text: str | None, engine: str, voice: str | None, rate: float | None,
          background: str | None, variables: tuple[str, ...], mono: bool, artist: str,
          no_cache: bool, workers: int | None) -> None:
    """Render PRACTICE (a bundled id or a template path) to an audio file."""
    from kindvoice.pipeline import clock, render
    from kindvoice.settings import ExportSettings, MixSettings, RenderRequest, VoiceSettings

    if minutes is not None and length_text is not None:
        raise UsageError("Give --minutes or --length, not both.")
    if length_text is not None:
        minutes = parse_length(length_text)
    if rate is not None and not 0.3 <= rate <= 3.0:
        raise UsageError(f"--rate must be between 0.3 and 3.0; got {rate:g}.")
    request = RenderRequest(
        practice=practice,
        output=output,
        minutes=minutes,
        variables=parse_vars(variables),
        voice=VoiceSettings(engine=engine, voice=voice, rate=rate),
        mix=MixSettings(background=background),
        export=ExportSettings(mono=mono, artist=artist),
        use_cache=not no_cache,
        workers=workers,
        templates_dir=ctx.obj["templates_dir"],
    )
    bar = Bar(not ctx.obj["quiet"])
    result = render(request, progress=bar)
    size_mb = result.size_bytes / 1e6
    click.echo(
        f"{clock(result.total_samples)} ({result.seconds:.3f} s), voice {result.voice_lufs:.1f} LUFS, "
        f"peak {result.peak_db:.1f} dBFS, {size_mb:.1f} MB -> {result.path}"
    )


@cli.command()
@click.argument("practice")
@click.option("--minutes", type=float, help="Total length in minutes (default: the practice's).")
@click.option("--length", "length_text", help="Total length as MM:SS or H:MM:SS.")
@click.option("--engine", default="pyttsx3", show_default=True, help="Speech engine.")
@click.option("--voice", help="Voice id, or a Piper .onnx path.")
@click.option("--rate", type=float, help="Speaking pace; 1.0 is the engine's normal pace.")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Fill a variable.")
@click.pass_context
def plan(ctx: click.Context, practice: str, minutes: float | None, length_text: str | None, engine: str,
         voice: str | None, rate: float | None, variables: tuple[str, ...]) -> None:
    """Print the timeline a render would have, without encoding anything."""
    from kindvoice.pipeline import prepare
    from kindvoice.report import plan_lines
    from kindvoice.settings import RenderRequest, VoiceSettings

    if minutes is not None and length_text is not None:
        raise UsageError("Give --minutes or --length, not both.")
    if length_text is not None:
        minutes = parse_length(length_text)
    request = RenderRequest(
        practice=practice,
        output=Path("plan.mp3"),
        minutes=minutes,
        variables=parse_vars(variables),
        voice=VoiceSettings(engine=engine, voice=voice, rate=rate),
        templates_dir=ctx.obj["templates_dir"],
    )
    for line in plan_lines(prepare(request)):
        click.echo(line)


@cli.command()
@click.option("--engine", default="pyttsx3", show_default=True, help="Speech engine.")
def voices(engine: str) -> None:
    """List the voices an engine offers."""
    from kindvoice.speech.synth import list_voices

    for v in list_voices(engine):
        mark = "*" if v.default else " "
        click.echo(f"{mark} {v.id:<28} {v.name}  {v.language}")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check template files; every problem is reported as file:line:col."""
    from kindvoice.template.parse import load_template

    failed = 0
    for path in paths:
        try:
            script = load_template(path)
        except KindvoiceError as exc:
            failed += 1
            click.echo(exc.format_message(), err=True)
            continue
        click.echo(f"{path}: ok ({script.meta.id}, {len(script.sections)} sections)")
    if failed:
        raise ValidationFailed(f"{failed} of {len(paths)} templates have errors.")


@cli.command()
@click.argument("name")
@click.option("--title", help="The practice's title (default: from NAME).")
def new(name: str, title: str | None) -> None:
    """Write a starter template NAME.md that shows every marker, ready to edit."""
    from importlib.resources import files

    from kindvoice.template.parse import load_template

    path = Path(name if name.endswith(".md") else f"{name}.md")
    if path.exists():
        raise UsageError(f"'{path}' already exists; choose another name or remove it first.")
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "my-practice"
    heading = title or path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
    text = files("kindvoice.template").joinpath("starter.md").read_text(encoding="utf-8")
    # JSON strings are valid YAML scalars: a title with a colon or quote stays valid
    text = text.replace("title: My Practice", f"title: {json.dumps(heading)}", 1)
    text = text.replace("---\n# Your practice.", f"---\nid: {slug}\n# Your practice.", 1)
    path.write_text(text, encoding="utf-8")
    load_template(path)  # the starter must always validate
    click.echo(f"Wrote {path}. Edit it, then: kindvoice validate {path}")


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


def main() -> NoReturn:
    cli.main(prog_name="kindvoice")
    raise SystemExit(0)  # pragma: no cover - click exits itself
