"""A podcast feed (RSS 2.0 with the Apple ``itunes`` and Podcasting 2.0 ``podcast``
namespaces) for a folder of rendered sessions, so a phone can subscribe to it.

Each audio file is read back with mutagen (title, summary, length, practice id, track
number): the feed describes what is on disk, whoever rendered it. Sidecars beside a file
(``NAME.chapters.json``, ``NAME.vtt``, ``NAME.srt``, ``NAME.jpg``) become
``podcast:chapters``, ``podcast:transcript`` and ``itunes:image``.

Episode ``guid``s are a hash of the file name and the practice id, so they never change
while the file keeps its name; ``pubDate``s are read back from the previous ``feed.xml``
in the folder, so re-running after adding a session leaves the old episodes as they were
and podcast apps do not show them as new. The XML is built with ElementTree, which
escapes every value. ``write_feed`` replaces a ``feed.xml`` or ``cover.jpg`` only if
kindvoice wrote it (``export.outputs``), never the user's own.

``feed_xml`` builds the XML in memory from episodes described by their caller (the web
page describes its library's sessions: their names, render times and languages), and
writes nothing.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import re
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kindvoice import __version__
from kindvoice.audio import s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import AudioIOError, UsageError
from kindvoice.export import formats

log = logging.getLogger(__name__)

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Podcasting 2.0: podcast:guid is a UUIDv5 of the feed URL (no scheme) in this namespace
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
FEED_NAME = "feed.xml"
CHANNEL_COVER = "cover.jpg"
#: Apple Podcasts category and subcategory (from Apple's list)
CATEGORY = ("Health & Fitness", "Mental Health")
#: extension -> mime type of the formats a feed lists (the course's, from ``formats``)
MIME_TYPES = {f.extension: f.mime for f in formats.FORMATS if f.course}

for _prefix, _uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class Episode:
    """One audio file as the feed describes it."""

    path: Path
    title: str
    summary: str
    seconds: float
    practice_id: str
    track: int | None
    size_bytes: int
    #: when it was made (default: when a feed first listed it); its language (the feed's)
    published: datetime | None = None
    language: str | None = None
    #: the folder of its files under the feed's address ("courses/x/"; "": beside the feed)
    folder: str = ""

    @property
    def guid(self) -> str:
        key = f"{self.folder}{self.path.name}\n{self.practice_id}".encode()
        return "kindvoice-" + hashlib.sha256(key).hexdigest()[:32]

    @property
    def mime(self) -> str:
        return MIME_TYPES[self.path.suffix.lower()]


def _first(tags: Any, *keys: str) -> str:
    """The first non-empty text among ``keys`` in a mutagen tag mapping."""
    if tags is None:
        return ""
    for key in keys:
        try:
            value = tags[key]
        except (KeyError, ValueError):
            continue
        if hasattr(value, "text"):  # an ID3 frame
            value = value.text
        if isinstance(value, list):
            value = value[0] if value else ""
        if isinstance(value, tuple):  # MP4 trkn: (n, N)
            value = value[0]
        if isinstance(value, bytes):  # MP4 freeform
            value = value.decode("utf-8", "replace")
        text = str(value).strip()
        if text:
            return text
    return ""


def read_episode(path: Path) -> Episode:
    """The facts a feed needs from one audio file, read from its own tags."""
    import mutagen

    try:
        audio = mutagen.File(path)
    except mutagen.MutagenError as exc:
        raise AudioIOError(f"Cannot read '{path}': {exc}.") from None
    if audio is None:
        raise AudioIOError(f"'{path}' is not an audio file mutagen can read.")
    tags = audio.tags
    if hasattr(tags, "getall"):  # ID3: COMM and TXXX have descriptions in their keys
        comments = [str(c) for c in tags.getall("COMM") if str(c).strip()]
        practice = [str(t) for t in tags.getall("TXXX") if t.desc == "kindvoice practice"]
        title = _first(tags, "TIT2")
        summary = comments[0] if comments else ""
        practice_id = practice[0] if practice else ""
        track_text = _first(tags, "TRCK")
    else:
        title = _first(tags, "\xa9nam", "title")
        summary = _first(tags, "\xa9cmt", "description", "comment")
        practice_id = _first(tags, "----:org.kindvoice:practice", "kindvoice_practice")
        track_text = _first(tags, "trkn", "tracknumber")
    number = track_text.split("/")[0].strip()
    return Episode(
        path=path,
        title=_clean(title) or _clean(path.stem),
        summary=_clean(summary),
        seconds=float(audio.info.length),
        practice_id=practice_id,
        track=int(number) if number.isdigit() else None,
        size_bytes=path.stat().st_size,
    )


def find_episodes(folder: Path) -> list[Episode]:
    """Every audio file in ``folder`` (not hidden, not in subfolders), in track order."""
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in MIME_TYPES and not p.name.startswith(".")
    ]
    episodes = [read_episode(p) for p in files]
    return sorted(episodes, key=lambda e: (e.track is None, e.track or 0, e.path.name))


def _previous_dates(feed: Path) -> dict[str, str]:
    """guid -> pubDate from an earlier feed.xml (an unreadable one is ignored)."""
    if not feed.is_file():
        return {}
    try:
        root = ET.parse(feed).getroot()
    except (ET.ParseError, OSError) as exc:
        log.warning("ignoring the old %s (%s); every episode gets a new date", feed, exc)
        return {}
    dates: dict[str, str] = {}
    for item in root.iter("item"):
        guid, date = item.findtext("guid"), item.findtext("pubDate")
        if guid and date:
            dates[guid.strip()] = date.strip()
    return dates


def _url(base_url: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/{urllib.parse.quote(name)}"


def _duration(seconds: float) -> str:
    """itunes:duration as H:MM:SS (Apple also accepts seconds; this reads better)."""
    return clock(s_to_samples(seconds), hours="always")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def channel_cover(title: str, count: int) -> bytes:
    """The generated cover of a feed of ``count`` sessions (a JPEG)."""
    from kindvoice.export.cover import generate_cover

    label = f"{count} session" if count == 1 else f"{count} sessions"
    return generate_cover(title, label, title)


def _channel_cover(folder: Path, title: str, count: int, image: Path | None, force: bool) -> Path:
    """``cover.jpg`` in the folder: the user's image, else a kept or generated one. The
    user's own ``cover.jpg`` is kept as it is; with ``image`` it is refused (UsageError)
    unless ``force``."""
    from kindvoice.export.cover import load_cover
    from kindvoice.export.outputs import write_own

    target = folder / CHANNEL_COVER
    if image is not None:
        write_own(target, load_cover(image), force=force)
    elif not target.is_file():
        write_own(target, channel_cover(title, count), force=force)
    return target


# characters XML 1.0 cannot hold (C0 controls but tab and line breaks, lone surrogates,
# U+FFFE/U+FFFF): a feed with one is not well-formed and no app (nor the next run) reads it
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_base_url(base_url: str, name: str = "--base-url") -> str:
    """``base_url`` as the feed links it (unsafe characters quoted); raises UsageError
    naming ``name`` unless it is an http(s) address. Cheap: a course checks it before any
    session renders."""
    parsed = urllib.parse.urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or _NOT_XML.search(base_url):
        raise UsageError(
            f"{name} must be an http(s) address like https://example.org/course; got '{base_url}'."
        )
    # a space or other unsafe character in the address is quoted, as in the file names
    return parsed._replace(path=urllib.parse.quote(parsed.path, safe="/%:@~")).geturl()


def check_text(value: str | None, name: str) -> None:
    """Refuse a title, author or description holding a character XML cannot carry."""
    found = _NOT_XML.search(value or "")
    if found:
        raise UsageError(
            f"{name} holds a control character (U+{ord(found.group()):04X}) that a feed "
            "cannot carry: remove it."
        )


def _clean(text: str) -> str:
    """Text read from a file's tags, without the characters XML cannot hold."""
    return _NOT_XML.sub("", text)


def write_feed(
    folder: Path,
    base_url: str,
    title: str,
    *,
    author: str = "kindvoice",
    description: str | None = None,
    image: Path | None = None,
    private: bool = False,
    language: str = "en",
    now: datetime | None = None,
    force: bool = False,
) -> Path:
    """Write ``folder/feed.xml`` for the audio files in ``folder``; returns its path.

    ``base_url`` is where the folder will be served from (the feed links every file
    under it); ``private`` asks directories and apps not to list the feed publicly. A
    ``feed.xml`` kindvoice did not write is refused (UsageError) unless ``force``."""
    from kindvoice.export.outputs import check_own, write_own

    base_url = check_base_url(base_url)
    check_text(title, "The title")
    check_text(author, "The author")
    check_text(description, "The description")
    if not folder.is_dir():
        raise AudioIOError(f"Folder '{folder}' does not exist.")
    episodes = find_episodes(folder)
    if not episodes:
        raise UsageError(f"No audio files ({', '.join(MIME_TYPES)}) in '{folder}'.")
    feed_path = folder / FEED_NAME
    check_own([feed_path], force=force)  # before the cover: nothing written when refused
    old_dates = _previous_dates(feed_path)
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    new = [e for e in episodes if e.guid not in old_dates]
    # new episodes a minute apart in track order, so apps list them in order
    dates = dict(old_dates)
    for i, episode in enumerate(new):
        when = now - timedelta(minutes=len(new) - 1 - i)
        dates[episode.guid] = email.utils.format_datetime(when)
    cover = _channel_cover(folder, title, len(episodes), image, force)
    data = feed_xml(
        episodes,
        base_url,
        title,
        author=author,
        description=description,
        cover_name=cover.name,
        private=private,
        language=language,
        now=now,
        dates=dates,
    )
    try:  # what is written must read back: this run's feed is the next run's dates
        ET.fromstring(data)
    except ET.ParseError as exc:
        raise UsageError(f"The feed for '{folder}' would not be well-formed XML ({exc}).") from None
    write_own(feed_path, data + b"\n", force=force)
    log.info("feed: %d episodes (%d new) -> %s", len(episodes), len(new), feed_path)
    return feed_path


def feed_xml(
    episodes: list[Episode],
    base_url: str,
    title: str,
    *,
    author: str = "kindvoice",
    description: str | None = None,
    cover_name: str = CHANNEL_COVER,
    private: bool = False,
    language: str = "en",
    now: datetime | None = None,
    dates: dict[str, str] | None = None,
) -> bytes:
    """The feed of ``episodes`` (none: a valid empty feed) as UTF-8 XML, built in memory.

    Each episode's date is ``dates[guid]``, else its own ``published``, else ``now``; its
    transcripts' language is its own ``language``, else the feed's ``language``."""
    from kindvoice.export.sidecars import sidecar_paths

    base_url = check_base_url(base_url)
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    dates = dict(dates or {})
    for episode in episodes:
        if episode.guid not in dates:
            when = episode.published or now
            dates[episode.guid] = email.utils.format_datetime(when.replace(microsecond=0))
    serial = bool(episodes) and all(e.track is not None for e in episodes)

    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, "title", _clean(title))
    _sub(channel, "link", base_url)
    text = _clean(description or f"{title}: guided self-compassion practices by {author}.")
    _sub(channel, "description", text)
    _sub(channel, "language", language)
    _sub(channel, "generator", f"kindvoice {__version__}")
    _sub(channel, "lastBuildDate", email.utils.format_datetime(now))
    feed_url = _url(base_url, FEED_NAME)
    _sub(channel, f"{{{ATOM}}}link", href=feed_url, rel="self", type="application/rss+xml")
    image_el = _sub(channel, "image")
    _sub(image_el, "url", _url(base_url, cover_name))
    _sub(image_el, "title", _clean(title))
    _sub(image_el, "link", base_url)
    _sub(channel, f"{{{ITUNES}}}author", _clean(author))
    _sub(channel, f"{{{ITUNES}}}summary", text)
    _sub(channel, f"{{{ITUNES}}}image", href=_url(base_url, cover_name))
    # Apple's category names go in a ``text`` attribute, the subcategory nested inside
    category = ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": CATEGORY[0]})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": CATEGORY[1]})
    _sub(channel, f"{{{ITUNES}}}explicit", "false")
    _sub(channel, f"{{{ITUNES}}}type", "serial" if serial else "episodic")
    bare = feed_url.split("://", 1)[1].rstrip("/")
    _sub(channel, f"{{{PODCAST}}}guid", str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare)))
    if private:
        _sub(channel, f"{{{ITUNES}}}block", "Yes")
        _sub(channel, f"{{{PODCAST}}}block", "yes")
        _sub(channel, f"{{{PODCAST}}}locked", "yes")

    newest_first = sorted(
        episodes,
        key=lambda e: (email.utils.parsedate_to_datetime(dates[e.guid]), e.track or 0),
        reverse=True,
    )
    for episode in newest_first:
        spoken = episode.language or language
        # the episode's language, for apps that read xml:lang (feedparser does)
        item = _sub(channel, "item", **{XML_LANG: spoken})
        _sub(item, "title", _clean(episode.title))
        _sub(item, "description", _clean(episode.summary or episode.title))
        _sub(item, "guid", episode.guid, isPermaLink="false")
        _sub(item, "pubDate", dates[episode.guid])
        _sub(
            item,
            "enclosure",
            url=_url(base_url, episode.folder + episode.path.name),
            length=str(episode.size_bytes),
            type=episode.mime,
        )
        _sub(item, f"{{{ITUNES}}}duration", _duration(episode.seconds))
        _sub(item, f"{{{ITUNES}}}explicit", "false")
        _sub(item, f"{{{ITUNES}}}episodeType", "full")
        if episode.track is not None:
            _sub(item, f"{{{ITUNES}}}episode", str(episode.track))
        sidecars = sidecar_paths(episode.path)
        if sidecars["cover"].is_file():
            cover_url = _url(base_url, episode.folder + sidecars["cover"].name)
            _sub(item, f"{{{ITUNES}}}image", href=cover_url)
        if sidecars["chapters"].is_file():
            chapters_url = _url(base_url, episode.folder + sidecars["chapters"].name)
            _sub(item, f"{{{PODCAST}}}chapters", url=chapters_url, type="application/json+chapters")
        for kind, mime in (("vtt", "text/vtt"), ("srt", "application/x-subrip")):
            if sidecars[kind].is_file():
                link = _url(base_url, episode.folder + sidecars[kind].name)
                _sub(item, f"{{{PODCAST}}}transcript", url=link, type=mime, language=spoken)

    ET.indent(rss)
    data: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return data
