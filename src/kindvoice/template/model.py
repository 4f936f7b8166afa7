"""The parsed intermediate representation (IR) of a practice template.

The parser turns template text into a ``Script``; nothing here touches audio. Every node
carries the ``Pos`` (file, line, column) it came from and a ``uid`` unique within its
script, which the length solver's ``Plan`` uses to name the pauses and repeats it sizes.
Durations are integer milliseconds (``*_ms``); ``None`` as a maximum means unbounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pos:
    """Where something stands in a template file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Speech:
    """Text spoken as one utterance (a paragraph, or the part of one between markers)."""

    uid: int
    pos: Pos
    text: str


@dataclass(frozen=True)
class Pause:
    """Silence. Fixed when ``min_ms == max_ms``; elastic otherwise (``max_ms=None``: unbounded).

    ``weight`` is how fast the solver grows it relative to weight-1 pauses; ``fade_background``
    marks ``[silence ...]``, which also lowers the background (open, unguided sitting);
    ``paragraph`` marks the short natural gap between paragraphs.
    """

    uid: int
    pos: Pos
    min_ms: int
    max_ms: int | None
    weight: float = 1.0
    fade_background: bool = False
    paragraph: bool = False

    @property
    def elastic(self) -> bool:
        return self.max_ms is None or self.max_ms > self.min_ms


@dataclass(frozen=True)
class Bell:
    """A bell or bowl strike (``strikes`` times); ``kind`` None means the soundscape's bell."""

    uid: int
    pos: Pos
    kind: str | None = None
    strikes: int = 1


@dataclass(frozen=True)
class Breathe:
    """A paced breathing passage: ``count`` breaths of in/hold/out seconds, with cue tones."""

    uid: int
    pos: Pos
    count: int
    in_ms: int = 4000
    hold_ms: int = 0
    out_ms: int = 6000

    @property
    def duration_ms(self) -> int:
        return self.count * (self.in_ms + self.hold_ms + self.out_ms)


@dataclass(frozen=True)
class Repeat:
    """A block spoken ``min_count`` to ``max_count`` times (equal: a fixed repeat)."""

    uid: int
    pos: Pos
    min_count: int
    max_count: int
    body: tuple[Node, ...]

    @property
    def elastic(self) -> bool:
        return self.max_count > self.min_count


Node = Speech | Pause | Bell | Breathe | Repeat


@dataclass(frozen=True)
class Section:
    """A ``## Heading`` and what follows it: one chapter in the exported file."""

    title: str
    pos: Pos
    body: tuple[Node, ...]


@dataclass(frozen=True)
class Minutes:
    """The lengths (minutes) a script is written for."""

    min: float
    default: float
    max: float


@dataclass(frozen=True)
class Variable:
    """A template variable a teacher may fill (``--var name=value``)."""

    name: str
    default: str = ""
    describe: str = ""


@dataclass(frozen=True)
class Meta:
    """The validated front matter."""

    id: str
    title: str
    summary: str = ""
    minutes: Minutes = Minutes(1.0, 10.0, 60.0)
    background: str | None = None
    voice_rate: float | None = None
    variables: tuple[Variable, ...] = ()
    tags: tuple[str, ...] = ()
    language: str = "en"


@dataclass(frozen=True)
class Script:
    """A parsed practice: front matter plus sections, variables already substituted."""

    meta: Meta
    sections: tuple[Section, ...]
    source: str
    values: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def speech_texts(self) -> list[str]:
        """Every distinct text the script may speak, in first-use order."""
        seen: dict[str, None] = {}

        def walk(nodes: tuple[Node, ...]) -> None:
            for node in nodes:
                if isinstance(node, Speech):
                    seen.setdefault(node.text, None)
                elif isinstance(node, Repeat):
                    walk(node.body)

        for section in self.sections:
            walk(section.body)
        return list(seen)
