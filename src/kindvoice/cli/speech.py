"""Commands about speech: the voices an engine offers, and the phrase cache."""

from __future__ import annotations

import click

from kindvoice.cli.app import cli


@cli.command()
@click.option("--engine", default="pyttsx3", show_default=True, help="Speech engine.")
def voices(engine: str) -> None:
    """List the voices an engine offers."""
    from kindvoice.speech.synth import list_voices

    for v in list_voices(engine):
        mark = "*" if v.default else " "
        click.echo(f"{mark} {v.id:<28} {v.name}  {v.language}")


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
