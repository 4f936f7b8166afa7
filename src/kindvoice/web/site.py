"""``kindvoice site OUT/``: a static copy of the listener's side of the web page, for a
teacher to upload to any static https host, where phones install it and keep sessions
offline (a service worker needs a secure address; ``kindvoice serve`` on the Wi-Fi is
plain http).

The copy is the web app's own pages: ``create_app(..., static_copy=...)`` answers as a
listener without a token, and ``build_site`` asks it (Flask's test client) for the start
page (the library's sessions, or one course), then for every page and file those pages
link with ``url_for`` on the listener's side (``_exported``: players, transcripts, audio
and its sidecars, covers, courses, the practice history), and so on. While the pages render,
``url_for`` gives relative links to where each thing lies in the copy (``_Copy``): a page
such as ``/sessions/<stem>`` becomes the folder ``sessions/<stem>/`` with its
``index.html`` (what every static host serves without a redirect), a file keeps its
path, the start page is the copy's ``index.html``; so the copy works in any folder of
any host. Beside them: ``static/`` (style, scripts, icons), ``sw.js`` (with a ``PAGES``
line naming the copy's start page and history), ``manifest.webmanifest`` (relative
addresses) and, with ``base_url``, the podcast feed (a feed needs absolute addresses).
The pages are in one of the page's languages (``language``, asked of the app as a
browser would, with Accept-Language; English by default): a class gets its own.

Nothing else goes in: no teacher page, no form, no token, no database. The copy is built
in a temporary folder beside ``OUT`` and then moved in, so a failed build leaves the
previous copy whole; a folder that is not a kindvoice copy is never replaced (hidden
files, such as the .git of a GitHub Pages repository, are neither counted nor touched).
"""

from __future__ import annotations

import contextlib
import json
import logging
import posixpath
import re
import shutil
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, request

from kindvoice.errors import UsageError
from kindvoice.web.state import StaticCopy

log = logging.getLogger(__name__)

#: what the copy holds: the library area's pages and files (``routes.sessions``: players,
#: transcripts, audio and sidecars, courses and their files), a course's days
#: (``routes.courses``: each day's player and transcript), the history and the style; a
#: page the guard refuses a listener stops the build. Every other link leads home.
EXPORTED_AREAS = ("sessions.", "courses.")
EXPORTED = frozenset({"pwa.history_page", "static"})
#: what the copy leaves out of the library area: data for scripts, the server's own feed
#: (the copy writes its own), previews (rendered on request), and the lists the copy
#: shows no menu entry for (the teacher's templates, every course)
NOT_EXPORTED = frozenset(
    {
        "sessions.sessions_api",
        "sessions.feed",
        "sessions.feed_file",
        "sessions.preview_file",
        "sessions.templates_page",
        "sessions.courses_page",
        "courses.feed_file",
    }
)
#: what the copy writes itself (linked where the app has them, never fetched)
WRITTEN = frozenset({"pwa.service_worker", "pwa.manifest_file"})
#: the file that marks a folder as a kindvoice copy (one ``build_site`` may replace)
MARK = ".kindvoice-site"
FEED_FOLDER = "files/"
#: sw.js's line naming the pages its shell keeps; the copy's own replaces it
_PAGES_LINE = re.compile(r"^const PAGES = \{.*\};$", re.MULTILINE)
_LINKED = re.compile(rb'(?:url|href)="([^"]+)"|<url>([^<]+)</url>')


@dataclass(frozen=True)
class Built:
    """A static copy: its folder, how many files and bytes, and its feed's address."""

    folder: Path
    files: int
    size_bytes: int
    feed_url: str


class _Copy:
    """Where the app's addresses lie in the copy, and which ones it still has to fetch."""

    def __init__(self, app: Flask, home: str) -> None:
        self.app_url_for = app.url_for  # the app's own (absolute) addresses
        self.home = home  # the start page's path in the app: the copy's index.html
        self.wanted: dict[str, None] = {home: None}  # app paths to fetch, in order found

    def target(self, path: str) -> str:
        """The copy's path for app path ``path``: "" for the start page, ``a/b/`` for a
        page (its ``index.html``), the path itself for a file (its name has a dot)."""
        if path == self.home:
            return ""
        name = path.strip("/")
        return name if "." in name.rsplit("/", 1)[-1] else f"{name}/"

    @staticmethod
    def relative(target: str, page: str) -> str:
        """``target`` as a link from the page whose copy path is ``page``."""
        link = posixpath.relpath(target.rstrip("/") or ".", page.rstrip("/") or ".")
        return f"{link}/" if not target or target.endswith("/") else link

    def url_for(self, endpoint: str, **values: Any) -> str:
        """``url_for`` for the templates and the routes: a relative link into the copy (a
        listener's page or file, kept to fetch), or to the start page for anything else."""
        anchor = values.pop("_anchor", None)
        path = self.app_url_for(endpoint, **values).split("?", 1)[0]
        if _exported(endpoint):
            self.wanted.setdefault(path, None)
        elif endpoint not in WRITTEN:
            path = self.home
        link = self.relative(self.target(path), self.target(request.path))
        return f"{link}#{anchor}" if anchor else link


def _exported(endpoint: str) -> bool:
    area = endpoint.startswith(EXPORTED_AREAS) and endpoint not in NOT_EXPORTED
    return area or endpoint in EXPORTED


def build_site(
    library: Path,
    out: Path,
    *,
    course: str | None = None,
    base_url: str | None = None,
    templates_dir: Path | None = None,
    language: str | None = None,
) -> Built:
    """Write the static copy of ``library``'s sessions (or of its course ``course``) to
    ``out``. ``base_url``: the address the copy will be served at (https://...), for its
    podcast feed; without it the copy has no feed. ``language``: the pages' language,
    one of ``web.i18n.PAGE_LANGUAGES`` (default English)."""
    from kindvoice.web.app import create_app
    from kindvoice.web.sessions import NotInLibrary

    page_language = _page_language(language)
    if not library.is_dir():
        raise UsageError(f"No library at '{library}': give the folder `kindvoice serve` uses.")
    out = out.resolve()  # "." or "public/": a folder with a name, to put the copy in
    _check_replaceable(out)
    feed_base = _feed_base(base_url, course)
    nav = frozenset({"history"}) if course else frozenset({"sessions", "history"})
    feed_url = f"{feed_base}feed.xml" if feed_base else ""
    app = create_app(
        library,
        templates_dir=templates_dir,
        static_copy=StaticCopy(feed=feed_url, nav=nav),
    )
    state = app.extensions["kindvoice"]
    if course:
        try:
            state.library.course_files(course)
        except NotInLibrary:
            raise UsageError(_no_course(library / "courses", course)) from None
    with app.test_request_context():
        home = app.url_for("sessions.course_result", slug=course) if course else "/sessions"
        history = app.url_for("pwa.history_page")
    copy = _Copy(app, home)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = page_language  # as a browser asks
        with _relative_links(app, copy):
            _fetch_all(client, copy, work)
        _write_shell(app, copy, work, history)
        if feed_base:
            _write_feed(app, client, work, feed_base, course)
        (work / MARK).write_text("A static copy written by `kindvoice site`.\n", "utf-8")
        _replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        state.jobs.shutdown()
    files = [p for p in out.rglob("*") if p.is_file()]
    return Built(out, len(files), sum(p.stat().st_size for p in files), feed_url)


def _page_language(language: str | None) -> str:
    """The page language a copy is written in: ``language`` matched to the page's own
    (es-MX gets es), English when none is asked; a language the page lacks is refused."""
    from kindvoice.web.i18n import DEFAULT, PAGE_LANGUAGES, match

    page_language = match(language) if language else DEFAULT
    if page_language is None:
        raise UsageError(
            f"The page does not speak '{language}'. Choose one of: {', '.join(PAGE_LANGUAGES)}."
        )
    return page_language


def _feed_base(base_url: str | None, course: str | None) -> str:
    """Where the copy's feed and its files will be served ("" without ``base_url``: no
    feed)."""
    if not base_url:
        return ""
    from kindvoice.publish.feed import check_base_url

    base = check_base_url(base_url).rstrip("/") + "/"
    return base + (f"courses/{course}/" if course else FEED_FOLDER)


def _no_course(folder: Path, course: str) -> str:
    names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    choose = f"Choose one of: {', '.join(names)}." if names else "It has no course yet."
    return f"No course '{course}' in '{folder}'. {choose}"


def _shown(folder: Path) -> list[Path]:
    """A folder's entries but the hidden ones (a host repository's .git, the mark)."""
    return [p for p in folder.iterdir() if not p.name.startswith(".")]


def _check_replaceable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"'{out}' is a file: give a folder for the copy.")
    if out.is_dir() and _shown(out) and not (out / MARK).is_file():
        raise UsageError(
            f"'{out}' holds files kindvoice did not write: give an empty or new folder "
            "(a copy made before by `kindvoice site` is replaced; hidden files such as "
            ".git stay)."
        )


def _replace(work: Path, out: Path) -> None:
    """Put the finished copy ``work`` in ``out``: the previous copy's files go, hidden
    ones (.git of the host's repository) stay, and so does the folder itself (a shell or
    a web server in it keeps it)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in _shown(out):
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()
    for new in work.iterdir():
        new.replace(out / new.name)
    work.rmdir()


@contextlib.contextmanager
def _relative_links(app: Flask, copy: _Copy) -> Iterator[None]:
    """While the pages render, ``url_for`` gives the copy's relative links, in the
    templates and in the routes alike (a player's ``file_url``, a course's files to keep)."""
    app.jinja_env.globals["url_for"] = copy.url_for
    app.url_for = copy.url_for  # type: ignore[method-assign]  # flask.url_for asks the app
    try:
        yield
    finally:
        del app.url_for  # the class's own again
        app.jinja_env.globals["url_for"] = app.url_for


def _fetch_all(client: Any, copy: _Copy, work: Path) -> None:
    """Every page and file the copy links, starting from its start page."""
    done: set[str] = set()
    while pending := [p for p in copy.wanted if p not in done]:
        for path in pending:
            done.add(path)
            target = copy.target(path)
            name = urllib.parse.unquote(target)
            destination = work / (f"{name}index.html" if not name or name.endswith("/") else name)
            _save(client, path, destination)


def _save(client: Any, path: str, destination: Path) -> None:
    response = client.get(path, buffered=False)
    try:
        if response.status_code != 200:
            raise UsageError(f"The copy cannot hold {path}: the page answered {response.status}.")
        destination.parent.mkdir(parents=True, exist_ok=True)
        with destination.open("wb") as file:
            for chunk in response.iter_encoded():
                file.write(chunk)
    finally:
        response.close()


def _write_shell(app: Flask, copy: _Copy, work: Path, history: str) -> None:
    """The style, scripts and icons, the service worker, and the manifest."""
    from kindvoice.web import pwa

    static = Path(app.static_folder or "")
    shutil.copytree(static, work / "static", dirs_exist_ok=True)
    (work / "static" / pwa.SW_FILE).unlink(missing_ok=True)  # it lives at the top
    worker = (static / pwa.SW_FILE).read_text(encoding="utf-8")
    pages = {"sessions": "", "history": copy.target(history)}
    worker, found = _PAGES_LINE.subn(f"const PAGES = {json.dumps(pages)};", worker)
    if found != 1:  # sw.js changed its PAGES line: the copy's shell would be wrong
        raise RuntimeError(f"{pwa.SW_FILE}: expected one `const PAGES = {{...}};` line")
    (work / pwa.SW_FILE).write_text(worker, encoding="utf-8")

    with app.test_request_context(copy.home):
        manifest: dict[str, Any] = pwa.manifest()

    def here(path: str) -> str:  # relative to the manifest, at the copy's top
        return copy.target(path) or "./"

    manifest |= {"id": "./", "scope": "./", "start_url": "./"}
    manifest["icons"] = [{**i, "src": here(i["src"])} for i in manifest["icons"]]
    shortcuts = [
        {**s, "url": here(s["url"] if s["url"] != "/sessions" else copy.home)}
        for s in manifest.get("shortcuts", [])
    ]
    manifest["shortcuts"] = shortcuts
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    (work / "manifest.webmanifest").write_text(text + "\n", encoding="utf-8")


def _write_feed(app: Flask, client: Any, work: Path, base: str, course: str | None) -> None:
    """The podcast feed in the copy's folder ``folder`` (``files/``, or the course's),
    served at ``base``, and every file it links that the pages did not."""
    from kindvoice.publish.feed import channel_cover, feed_xml, find_episodes
    from kindvoice.publish.rss import CHANNEL_COVER
    from kindvoice.web.courses import course_title
    from kindvoice.web.routes.sessions import library_feed

    state = app.extensions["kindvoice"]
    if course:
        course_dir = state.library.course_folder(course)
        title = course_title(state.library, course) or course
        episodes = find_episodes(course_dir)
        data = feed_xml(episodes, base, title, private=True)
        fetch, local = f"/courses/{course}/", work / "courses" / course
    else:
        data = library_feed(state.library, base)
        # the feed's own files route: the library's files, and the channel's cover
        fetch, local = "/feed/-/", work / FEED_FOLDER
    local.mkdir(parents=True, exist_ok=True)
    (local / "feed.xml").write_bytes(data + b"\n")
    for match in _LINKED.finditer(data):
        url = (match.group(1) or match.group(2)).decode("utf-8")
        if not url.startswith(base) or url == base + "feed.xml":
            continue
        name = urllib.parse.unquote(url[len(base) :])
        if (local / name).is_file():
            continue
        if course and name == CHANNEL_COVER and not (course_dir / name).is_file():
            (local / name).write_bytes(channel_cover(title, len(episodes)))
            continue
        _save(client, fetch + urllib.parse.quote(name), local / name)
    log.info("feed: %s", base + "feed.xml")
