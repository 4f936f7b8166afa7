"""Bounds on what one template may ask for, checked on the parsed script before any
length is solved or any word is spoken, so no small file costs unbounded time or memory.

* ``MAX_BLOCK_DEPTH``: blocks (``[repeat]``, ``[from]``, ``[under]``, ``[rotate]``) nested
  inside one another (checked by ``blocks.close_block`` as each block closes);
* ``MAX_EXPANDED_EVENTS``: the phrases, pauses, bells and breathing passages a script plays
  with every ``[repeat]`` at its largest count (nested repeats multiply);
* ``MAX_PHRASE_WORDS``: the words of one phrase (a paragraph, or the text between two
  markers); synthesis splits a long phrase at its sentences (``speech.synth``);
* ``MAX_PHRASE_CHARS`` and ``MAX_SPOKEN_CHARS``: the characters of one phrase and of the
  whole script, counted as the voice is given them (variable values and ``pronounce``
  respellings substituted), checked from sums before anything is expanded;
* ``MAX_TOKEN_CHARS``: the letters of one word (text between spaces); the engines'
  text front-ends slow down faster than the length of an unknown word grows;
* ``MAX_SECTIONS``: ``## `` sections, each a chapter: an ID3 table of contents holds 255.

Every problem is a ``TemplateError`` at the line it concerns.
"""

from __future__ import annotations

import re

from kindvoice.errors import TemplateError
from kindvoice.settings import MAX_SESSION_MINUTES
from kindvoice.template.model import Gate, Node, Pos, Repeat, Rotate, Script, Speech

MAX_BLOCK_DEPTH = 10
MAX_EXPANDED_EVENTS = 50_000
MAX_PHRASE_WORDS = 1_000
MAX_SECTIONS = 255
#: a thousand words of twenty letters
MAX_PHRASE_CHARS = 20_000
#: more than the longest session could say: 30 characters a second (twice a quick
#: reader's pace) for ``MAX_SESSION_MINUTES``
MAX_SPOKEN_CHARS = round(MAX_SESSION_MINUTES * 60 * 30)
#: longer than any word of the languages kindvoice speaks; a pasted link or hash is not
#: speech (Kokoro's English front-end took 25 s for one unknown 400-letter word)
MAX_TOKEN_CHARS = 100

_TOKEN = re.compile(rf"\S{{{MAX_TOKEN_CHARS + 1},}}")


def expanded_events(node: Node) -> int:
    """How many events ``node`` plays with every repeat at its largest count (a rotate
    counts its longest alternative). Depth is bounded by ``MAX_BLOCK_DEPTH``."""
    if isinstance(node, Repeat):
        return node.max_count * sum(expanded_events(child) for child in node.body)
    if isinstance(node, Gate):
        return sum(expanded_events(child) for child in node.body)
    if isinstance(node, Rotate):
        return max(sum(expanded_events(child) for child in block) for block in node.alternatives)
    return 1


def check_script(script: Script) -> None:
    """Raise ``TemplateError`` when ``script`` is past any of the bounds above."""
    if len(script.sections) > MAX_SECTIONS:
        pos = script.sections[MAX_SECTIONS].pos
        raise TemplateError(
            pos.file,
            pos.line,
            pos.col,
            f"Too many sections: {len(script.sections)} '## ' headings; at most "
            f"{MAX_SECTIONS} (each is a chapter, and an MP3's chapter list holds "
            f"{MAX_SECTIONS}): merge some sections",
        )
    total = 0
    for section in script.sections:
        for node in section.body:
            total += expanded_events(node)
            if total > MAX_EXPANDED_EVENTS:
                what = "this [repeat] block" if isinstance(node, Repeat) else "the script"
                raise TemplateError(
                    node.pos.file,
                    node.pos.line,
                    node.pos.col,
                    f"Too much to play: {what} reaches more than {MAX_EXPANDED_EVENTS:,} "
                    "phrases and pauses with every [repeat] at its largest count (nested "
                    "repeats multiply): lower the counts",
                )
    for node in script.nodes():
        if isinstance(node, Speech):
            words = len(node.spoken.split())
            if words > MAX_PHRASE_WORDS:
                raise TemplateError(
                    node.pos.file,
                    node.pos.line,
                    node.pos.col,
                    f"This phrase is {words:,} words long (with its variable values); one "
                    f"phrase holds at most {MAX_PHRASE_WORDS:,}: break it into paragraphs "
                    "with blank lines, or shorten the value given",
                )


def check_phrase_chars(pos: Pos, chars: int, what: str = "This phrase") -> None:
    """Raise when one phrase would be given to the voice as more than ``MAX_PHRASE_CHARS``
    characters (``chars``: its size with values and respellings, summed, not built)."""
    if chars > MAX_PHRASE_CHARS:
        raise TemplateError(
            pos.file,
            pos.line,
            pos.col,
            f"{what} is {chars:,} characters long as spoken (with its variable values and "
            f"'pronounce' respellings); one phrase holds at most {MAX_PHRASE_CHARS:,}: "
            "shorten the value or respelling, or break the text into paragraphs",
        )


def check_spoken_chars(pos: Pos, chars: int) -> None:
    """Raise when the script's phrases, up to the one at ``pos``, reach ``chars`` spoken
    characters, more than ``MAX_SPOKEN_CHARS``."""
    if chars > MAX_SPOKEN_CHARS:
        raise TemplateError(
            pos.file,
            pos.line,
            pos.col,
            f"The script reaches {chars:,} characters as spoken here (with its variable "
            f"values and 'pronounce' respellings); a script holds at most "
            f"{MAX_SPOKEN_CHARS:,}, more than a {MAX_SESSION_MINUTES:g}-minute session "
            "can say: shorten the respellings or values",
        )


def long_token(text: str) -> re.Match[str] | None:
    """The first run of more than ``MAX_TOKEN_CHARS`` characters without a space."""
    return _TOKEN.search(text)


def token_problem(token: str, where: str) -> str:
    """The message for an overlong ``token`` (quoted by its first 30 characters)."""
    return (
        f"A word of {len(token):,} characters ('{token[:30]}...'){where}; a word holds at "
        f"most {MAX_TOKEN_CHARS} (a voice takes minutes over a long unknown word): "
        "put spaces in it, or leave a link or code out of the spoken text"
    )
