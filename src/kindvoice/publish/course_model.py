"""What a course is, as data: a checked plan (``CoursePlan``) and its sessions in order
(``Session``), shared by the planner (``publish.course``) and the pages it writes
(``publish.course_pages``), and the names of the files a course folder holds besides its
audio and sidecars."""

from __future__ import annotations

from dataclasses import dataclass, field

DAYS_A_WEEK = 7
#: the course's M3U playlist, and its description for the web page (``course_pages``)
PLAYLIST = "playlist.m3u"
MANIFEST = "course.json"


@dataclass(frozen=True)
class CoursePlan:
    """A validated plan."""

    title: str
    practices: tuple[str, ...]
    count: int
    start_minutes: float
    end_minutes: float
    teacher: str = "kindvoice"
    description: str = ""
    unit: str = "Day"  # "Day" for days:, "Session" for sessions:
    background: str | None = None
    engine: str | None = None  # None: the default engine
    voice: str | None = None
    rate: float | None = None
    language: str | None = None  # the practices' translation (None: English)
    variables: dict[str, str] = field(default_factory=dict, hash=False)
    quality: str | None = None
    format: str = "mp3"
    base_url: str | None = None
    private: bool = False
    #: (practice, wanted minutes) per session, from ``weeks:``; empty: cycle ``practices``
    schedule: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Session:
    """One planned session of the course."""

    number: int
    practice: str
    minutes: int
    title: str
    summary: str
    file_name: str
    practice_id: str = ""  # the practice's id (``practice`` may be a template's path)
