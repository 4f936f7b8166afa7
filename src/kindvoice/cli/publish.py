"""Commands that publish: batch (many sessions from a manifest), course (a graded series
from a plan), feed (a podcast feed for a folder of sessions) and site (a static copy of
the web page's listener side, for an https host)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from kindvoice.cli.app import Bar, cli, language_option

workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Sessions rendered at once (default: one per core).",
)
force_option = click.option("--force", is_flag=True, help="Render again even when up to date.")
executor_option = click.option(
    "--executor",
    default="local",
    show_default=True,
    metavar="local|dask://HOST:PORT",
    help="Where the sessions render: this machine, or the Dask cluster whose scheduler "
    "listens at HOST:PORT (needs kindvoice[cluster]; outputs go to storage the workers "
    "share).",
)


def _absolute(path: Path | None) -> Path | None:
    """Paths travel to other processes (and machines): never relative to this one's cwd."""
    return path.absolute() if path is not None else None


def _echo_table(outcomes: list[object]) -> None:
    from kindvoice.publish.batch import check_outcomes, summary_lines
    from kindvoice.publish.jobs import Outcome

    rows = [o for o in outcomes if isinstance(o, Outcome)]
    for line in summary_lines(rows):
        click.echo(line)
    check_outcomes(rows)


@cli.command()
@click.argument("manifest", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the sessions go (default: the manifest's folder).",
)
@workers_option
@executor_option
@force_option
@click.option("--no-sidecars", is_flag=True, help="Skip the .vtt/.srt/.lrc/.chapters.json/.jpg.")
@language_option
@click.pass_context
def batch(
    ctx: click.Context,
    manifest: Path,
    output_dir: Path | None,
    workers: int | None,
    executor: str,
    force: bool,
    no_sidecars: bool,
    language: str | None,
) -> None:
    """Render every session listed in MANIFEST (CSV or YAML), in parallel.

    Columns: practice (or path), minutes (or length), engine, voice, rate, language,
    background, variables, quality, title, artist, album, cover, output (--language: the
    language of rows that name none). Sessions already rendered
    from the same inputs are skipped; a failed row does not stop the others."""
    from kindvoice.publish import batch as b
    from kindvoice.publish.executors import backend_for
    from kindvoice.publish.manifest import manifest_items

    with backend_for(executor, workers) as backend:
        manifest = manifest.absolute()
        folder = (output_dir or manifest.parent).absolute()
        folder.mkdir(parents=True, exist_ok=True)
        templates_dir = _absolute(ctx.obj["templates_dir"])
        total, items = manifest_items(
            manifest, folder, templates_dir, sidecars=not no_sidecars, language=language
        )
        bar = Bar(not ctx.obj["quiet"])
        click.echo(b.summary_header())  # then each row as it ends, in the order they end
        outcomes = b.run_batch(
            items,
            backend=backend,
            force=force,
            progress=lambda d, t: bar("Sessions", d, t),
            report=lambda outcome: click.echo(b.summary_row(outcome)),
            total=total,
        )
    click.echo(b.summary_counts(outcomes))
    b.check_outcomes(outcomes)


@cli.command()
@click.argument(
    "plan", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--plan",
    "plan_name",
    metavar="NAME",
    help="A shipped plan by name instead of a PLAN file: starter (Starting Small, four "
    "weeks that begin with a short talk and grow from a few minutes a day).",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the course goes (default: a folder named after the plan, beside it; "
    "for --plan, in the current folder).",
)
@click.option("--base-url", help="Also write feed.xml, for the folder served at this address.")
@click.option("--private", is_flag=True, help="Ask podcast directories not to list the feed.")
@language_option
@workers_option
@executor_option
@force_option
@click.pass_context
def course(
    ctx: click.Context,
    plan: Path | None,
    plan_name: str | None,
    output_dir: Path | None,
    base_url: str | None,
    private: bool,
    language: str | None,
    workers: int | None,
    executor: str,
    force: bool,
) -> None:
    """Render the course in PLAN (YAML), or the shipped plan --plan NAME, as a numbered,
    tagged series with a playlist, an index page and (with --base-url or base_url: in the
    plan) a podcast feed."""
    from kindvoice.errors import UsageError
    from kindvoice.languages import find_language
    from kindvoice.publish.course import Session, build_course, load_plan, resolve_plan
    from kindvoice.publish.executors import backend_for

    if (plan is None) == (plan_name is None):
        raise UsageError("Give a PLAN file or --plan NAME (for example: --plan starter).")
    if plan is None:
        path = resolve_plan(str(plan_name))
        default_folder = Path.cwd() / path.stem
    else:
        path = plan
        default_folder = plan.with_suffix("")
    course_plan = load_plan(path.absolute())
    if language is not None:  # the same plan in another language: one option
        course_plan = dataclasses.replace(course_plan, language=find_language(language).code)
    folder = output_dir or default_folder
    quiet = ctx.obj["quiet"]

    def planned(sessions: list[Session]) -> None:
        if quiet:
            return
        lengths = ", ".join(str(s.minutes) for s in sessions)
        click.echo(f"{len(sessions)} sessions, minutes: {lengths}", err=True)

    bar = Bar(not quiet)
    with backend_for(executor, workers) as backend:
        result = build_course(
            course_plan,
            folder.absolute(),
            templates_dir=_absolute(ctx.obj["templates_dir"]),
            backend=backend,
            force=force,
            base_url=base_url,
            private=private,
            progress=lambda d, t: bar("Sessions", d, t),
            planned=planned,
        )
    click.echo(f"Course '{course_plan.title}' in {folder}")
    if result.feed is not None:
        click.echo(f"Feed: {result.feed}")
    _echo_table(list(result.outcomes))


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--base-url", required=True, help="The address FOLDER is served from (https://...).")
@click.option("--title", help="The podcast's title (default: the folder's name).")
@click.option("--author", default="kindvoice", show_default=True, help="The podcast's author.")
@click.option("--description", help="A sentence or two about the podcast.")
@click.option(
    "--image",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The podcast's cover (default: a generated cover.jpg).",
)
@click.option("--private", is_flag=True, help="Ask podcast directories not to list the feed.")
@click.option("--language", default="en", show_default=True, help="The sessions' language.")
@click.option(
    "--force", is_flag=True, help="Replace a feed.xml or cover.jpg that kindvoice did not write."
)
def feed(
    folder: Path,
    base_url: str,
    title: str | None,
    author: str,
    description: str | None,
    image: Path | None,
    private: bool,
    language: str,
    force: bool,
) -> None:
    """Write FOLDER/feed.xml, a podcast feed of the sessions in FOLDER.

    Copy the folder to a web server at --base-url and subscribe to BASE-URL/feed.xml.
    Running it again after adding sessions keeps the earlier episodes as they were."""
    from kindvoice.languages import find_language
    from kindvoice.publish.feed import write_feed

    name = title or folder.resolve().name.replace("-", " ").replace("_", " ").title()
    path = write_feed(
        folder,
        base_url,
        name,
        author=author,
        description=description,
        image=image,
        private=private,
        language=find_language(language).code,
        force=force,
    )
    click.echo(f"Feed: {path} (subscribe to {base_url.rstrip('/')}/{path.name})")


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--library",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The library to copy (default: the one `kindvoice serve` uses).",
)
@click.option(
    "--course",
    metavar="NAME",
    help="Copy this course of the library instead of its sessions (its folder name in "
    "courses/, as the Courses page links it).",
)
@click.option(
    "--base-url",
    help="The https address OUT will be served at; also writes the podcast feed.",
)
@click.option(
    "--language",
    metavar="LANG",
    help="The pages' language: en (the default), es, pt-BR, fr or it.",
)
@click.pass_context
def site(
    ctx: click.Context,
    out: Path,
    library: Path | None,
    course: str | None,
    base_url: str | None,
    language: str | None,
) -> None:
    """Write a static copy of the listener's side to OUT: the sessions (or one course)
    with their players, transcripts, chapters and covers, the practice history, the
    offline app (service worker and manifest) and, with --base-url, the podcast feed.

    Upload OUT to any static https host (GitHub Pages, Netlify, your school's server):
    phones open it, install it and keep sessions offline there. It holds no link token
    and no teacher page; run it again after new renders."""
    from kindvoice.web.sessions import default_library
    from kindvoice.web.site import build_site

    built = build_site(
        (library or default_library()).expanduser(),
        out,
        course=course,
        base_url=base_url,
        templates_dir=ctx.obj["templates_dir"],
        language=language,
    )
    size = built.size_bytes / 1e6
    click.echo(f"Static copy in {built.folder}: {built.files} files, {size:.1f} MB.")
    if built.feed_url:
        click.echo(f"Podcast feed, once uploaded: {built.feed_url}")
    else:
        click.echo("No podcast feed: give --base-url (the address it will be served at).")
    click.echo("Upload the folder to an https host; over plain http phones cannot keep it offline.")
