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

The XML itself is ``publish.rss``'s (``feed_xml``, ``Episode``): the web page builds its
library's feed there from episodes it describes itself.
"""

from __future__ import annotations

import email.utils
import logging
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kindvoice.errors import AudioIOError, UsageError
from kindvoice.publish.rss import CHANNEL_COVER, check_text, clean
from kindvoice.publish.rss import FEED_NAME as FEED_NAME  # the feed's API, from rss
from kindvoice.publish.rss import MIME_TYPES as MIME_TYPES
from kindvoice.publish.rss import Episode as Episode
from kindvoice.publish.rss import check_base_url as check_base_url
from kindvoice.publish.rss import feed_xml as feed_xml

log = logging.getLogger(__name__)


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
        title=clean(title) or clean(path.stem),
        summary=clean(summary),
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
