"""A podcast feed's XML (RSS 2.0 with the Apple ``itunes`` and Podcasting 2.0
``podcast`` namespaces), built in memory with ElementTree (which escapes every value)
from ``Episode``s, each described by its caller: ``publish.feed`` reads them from a
folder's audio files, the web page from its library. Writes nothing.

Episode ``guid``s are a hash of the file name and the practice id, so they never change
while the file keeps its name. Sidecars beside a file (``NAME.chapters.json``,
``NAME.vtt``, ``NAME.srt``, ``NAME.jpg``) become ``podcast:chapters``,
``podcast:transcript`` and ``itunes:image``.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kindvoice import __version__
from kindvoice.audio import s_to_samples
from kindvoice.durations import clock
from kindvoice.errors import UsageError
from kindvoice.export import formats

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


def clean(text: str) -> str:
    """Text read from a file's tags, without the characters XML cannot hold."""
    return _NOT_XML.sub("", text)


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
    base_url = check_base_url(base_url)
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    dates = dict(dates or {})
    for episode in episodes:
        if episode.guid not in dates:
            when = episode.published or now
            dates[episode.guid] = email.utils.format_datetime(when.replace(microsecond=0))
    serial = bool(episodes) and all(e.track is not None for e in episodes)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _channel(rss, base_url, title, author, description, cover_name, language, now)
    _sub(channel, f"{{{ITUNES}}}type", "serial" if serial else "episodic")
    feed_url = _url(base_url, FEED_NAME)
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
        _item(channel, episode, base_url, dates[episode.guid], episode.language or language)
    ET.indent(rss)
    data: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return data


def _channel(
    rss: ET.Element,
    base_url: str,
    title: str,
    author: str,
    description: str | None,
    cover_name: str,
    language: str,
    now: datetime,
) -> ET.Element:
    """The channel: its title, link, description, language, image and Apple's tags."""
    channel = _sub(rss, "channel")
    _sub(channel, "title", clean(title))
    _sub(channel, "link", base_url)
    text = clean(description or f"{title}: guided self-compassion practices by {author}.")
    _sub(channel, "description", text)
    _sub(channel, "language", language)
    _sub(channel, "generator", f"kindvoice {__version__}")
    _sub(channel, "lastBuildDate", email.utils.format_datetime(now))
    feed_url = _url(base_url, FEED_NAME)
    _sub(channel, f"{{{ATOM}}}link", href=feed_url, rel="self", type="application/rss+xml")
    image_el = _sub(channel, "image")
    _sub(image_el, "url", _url(base_url, cover_name))
    _sub(image_el, "title", clean(title))
    _sub(image_el, "link", base_url)
    _sub(channel, f"{{{ITUNES}}}author", clean(author))
    _sub(channel, f"{{{ITUNES}}}summary", text)
    _sub(channel, f"{{{ITUNES}}}image", href=_url(base_url, cover_name))
    # Apple's category names go in a ``text`` attribute, the subcategory nested inside
    category = ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": CATEGORY[0]})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": CATEGORY[1]})
    _sub(channel, f"{{{ITUNES}}}explicit", "false")
    return channel


def _item(channel: ET.Element, episode: Episode, base_url: str, date: str, spoken: str) -> None:
    """One episode: its enclosure, and its cover, chapters and transcripts where they are."""
    from kindvoice.export.sidecars import sidecar_paths

    # the episode's language, for apps that read xml:lang (feedparser does)
    item = _sub(channel, "item", **{XML_LANG: spoken})
    _sub(item, "title", clean(episode.title))
    _sub(item, "description", clean(episode.summary or episode.title))
    _sub(item, "guid", episode.guid, isPermaLink="false")
    _sub(item, "pubDate", date)
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
