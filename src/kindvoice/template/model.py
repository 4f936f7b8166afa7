"""The parsed intermediate representation (IR) of a practice template.

The parser turns template text into a ``Script``; nothing here touches audio. Every node
carries the ``Pos`` (file, line, column) it came from and a ``uid`` unique within its
script, which the length solver's ``Plan`` uses to name the pauses and repeats it sizes.
Durations are integer milliseconds (``*_ms``); ``None`` as a maximum means unbounded.

Version 2 adds ``Gate`` (``[from 15m]`` / ``[under 8m]``: content by requested length, decided
before the solver runs, see ``template.gating``) and ``Rotate`` (``[rotate] A [or] B``:
the n-th visit plays alternative n, cycling). A ``Speech`` keeps the written ``text``
(transcripts, subtitles) and the ``spoken`` text sent to the engine (``pronounce:``),
and the ``pace`` its section's ``[pace NAME]`` set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kindvoice.settings import NORMAL_PACE

#: between a phrase's text and its pace in ``Speech.key`` (no written text holds it)
PACE_SEPARATOR = "\x1f"


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
    """Text spoken as one utterance (a paragraph, or the part of one between markers).

    ``text`` is the written text (transcripts, subtitles, tags); ``spoken`` is what the
    engine is given, the same unless ``pronounce:`` respells a word (empty: same as text).
    """

    uid: int
    pos: Pos
    text: str
    spoken: str = ""
    # a blank line stands before it: a paragraph gap where it follows speech across the edge
    # of a gated or rotating block (see ``template.gating``)
    lead_gap: bool = field(default=False, compare=False)
    pace: str = NORMAL_PACE  # the section's ``[pace NAME]`` (settings.PACE_SHIFTS)

    def __post_init__(self) -> None:
        if not self.spoken:
            object.__setattr__(self, "spoken", self.text)

    @property
    def key(self) -> str:
        """What names this phrase's audio: the written text, with its pace when it is not
        the normal one (the same words at two paces are two sounds)."""
        return self.text if self.pace == NORMAL_PACE else f"{self.text}{PACE_SEPARATOR}{self.pace}"


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


@dataclass(frozen=True)
class Gate:
    """``[from 15m]`` (``op`` "from": in when the requested length >= ``threshold_ms``) or
    ``[under 8m]`` (``op`` "under": in when it is < ``threshold_ms``) and its block."""

    uid: int
    pos: Pos
    op: str
    threshold_ms: int
    body: tuple[Node, ...]

    def is_open(self, length_ms: float) -> bool:
        """Whether the block plays in a session of ``length_ms``."""
        if self.op == "from":
            return length_ms >= self.threshold_ms
        return length_ms < self.threshold_ms

    @property
    def label(self) -> str:
        """The marker as written, in canonical form: ``[from 15m]``."""
        return f"[{self.op} {format_ms(self.threshold_ms)}]"


@dataclass(frozen=True)
class Rotate:
    """``[rotate] A [or] B [/rotate]``: the n-th time it is reached, alternative n plays
    (cycling); each alternative is a block of nodes."""

    uid: int
    pos: Pos
    alternatives: tuple[tuple[Node, ...], ...]


Node = Speech | Pause | Bell | Breathe | Repeat | Gate | Rotate

KINDS = ("practice", "talk", "timer")


def format_ms(ms: int) -> str:
    """A duration in the marker grammar: 15m, 1m30s, 45s, 1.5s, 500ms."""
    if ms % 1000:
        return f"{ms}ms" if ms < 1000 else f"{ms / 1000:g}s"
    minutes, seconds = divmod(ms // 1000, 60)
    return ((f"{minutes}m" if minutes else "") + (f"{seconds}s" if seconds else "")) or "0s"


def children(node: Node) -> tuple[tuple[Node, ...], ...]:
    """The blocks nested inside a node (a repeat's or gate's body, a rotate's alternatives)."""
    if isinstance(node, (Repeat, Gate)):
        return (node.body,)
    if isinstance(node, Rotate):
        return node.alternatives
    return ()


def walk(nodes: tuple[Node, ...]) -> list[Node]:
    """Every node in ``nodes`` and below, in document order (all gates and alternatives)."""
    out: list[Node] = []
    for node in nodes:
        out.append(node)
        for block in children(node):
            out.extend(walk(block))
    return out


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
    voice_engine: str | None = None  # the engine the template asks for (front matter voice:)
    voice_name: str | None = None  # a voice of that engine
    variables: tuple[Variable, ...] = ()
    tags: tuple[str, ...] = ()
    language: str = "en"
    kind: str = "practice"
    pronounce: tuple[tuple[str, str], ...] = ()  # (written word, respelling)


@dataclass(frozen=True)
class Script:
    """A parsed practice: front matter plus sections, variables already substituted."""

    meta: Meta
    sections: tuple[Section, ...]
    source: str
    values: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def language(self) -> str:
        """The BCP 47 language tag of the script (``en`` unless the front matter says)."""
        return self.meta.language

    @property
    def kind(self) -> str:
        """practice, talk or timer."""
        return self.meta.kind

    def nodes(self) -> list[Node]:
        """Every node, in document order, including gated blocks and all alternatives."""
        return [node for section in self.sections for node in walk(section.body)]

    def speech_texts(self) -> list[str]:
        """Every distinct phrase key (``Speech.key``: the written text, with its pace when
        not the normal one) the script may speak (any length), in first-use order."""
        return list(self.spoken_texts())

    def spoken_texts(self) -> dict[str, str]:
        """Phrase key -> the text the engine speaks, for every phrase, in first-use order."""
        return {key: speech.spoken for key, speech in self.phrases().items()}

    def phrases(self) -> dict[str, Speech]:
        """Phrase key -> its first ``Speech`` node (text, spoken text, pace), in first-use
        order, gated blocks and every alternative included."""
        seen: dict[str, Speech] = {}
        for node in self.nodes():
            if isinstance(node, Speech):
                seen.setdefault(node.key, node)
        return seen
