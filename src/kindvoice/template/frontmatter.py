"""Front matter: the YAML between the ``---`` fences, validated into ``Meta``.

Every key's line and column are noted while composing the YAML, so each problem is a
``TemplateError`` at the key it concerns. Version 2 of the format adds ``kind``,
``pronounce`` and a validated ``language``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path
from typing import Any, NoReturn

import yaml

from kindvoice.errors import TemplateError, UsageError, did_you_mean
from kindvoice.fields import FIELDS, Said
from kindvoice.safe_yaml import (
    BadCharacter,
    describe_character,
    position,
    safe_load,
)
from kindvoice.template import variables as var
from kindvoice.template.model import KINDS, Meta, Minutes, Variable
from kindvoice.template.pronounce import WORD_RE, fold

_FENCE = re.compile(r"---[ \t]*")
_FENCE_END = re.compile(r"(?:---|\.\.\.)[ \t]*")
# BCP 47 as people write it: a language, then optional script / region / variant subtags
_LANGUAGE_RE = re.compile(
    r"[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?(?:-[A-Za-z0-9]{5,8})*"
)

_TOP_KEYS = (
    "id",
    "title",
    "summary",
    "minutes",
    "background",
    "voice",
    "variables",
    "tags",
    "language",
    "kind",
    "pronounce",
)
_MINUTES_KEYS = ("min", "default", "max")
_VOICE_KEYS = ("engine", "name", "rate")
_VARIABLE_KEYS = ("default", "describe")
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_MINUTES_EXAMPLE = "minutes: {min: 3, default: 10, max: 30}"


class _FrontMatter:
    """The YAML data plus where each key stands in the file, for error positions."""

    def __init__(self, file: str, marks: dict[tuple[str, ...], tuple[int, int]]) -> None:
        self.file = file
        self.marks = marks

    def fail(self, path: tuple[str, ...], message: str) -> NoReturn:
        """Raise at the key ``path`` (or its nearest known parent; else the first line)."""
        while path and path not in self.marks:
            path = path[:-1]
        line, col = self.marks.get(path, (1, 1))
        raise TemplateError(self.file, line, col, message)

    def mapping(
        self, value: Any, path: tuple[str, ...], allowed: tuple[str, ...]
    ) -> dict[str, Any]:
        """``value`` as a mapping whose keys are all in ``allowed``."""
        where = f" under '{'.'.join(path)}'" if path else ""
        if not isinstance(value, dict):
            self.fail(path, f"'{'.'.join(path)}' must be a mapping like key: value")
        for key in value:
            name = str(key)
            if name not in allowed:
                hint = did_you_mean(name, allowed)
                self.fail(
                    (*path, name),
                    f"Unknown key '{name}'{where} in front matter.{hint} "
                    f"Valid keys: {', '.join(allowed)}",
                )
        return {str(k): v for k, v in value.items()}

    def string(self, value: Any, path: tuple[str, ...], required: bool = False) -> str | None:
        """A string value (None when absent or empty in YAML, unless ``required``)."""
        if value is None and not required:
            return None
        if isinstance(value, str) and required and not value.strip():
            self.fail(path, f"'{'.'.join(path)}' must not be empty")
        if not isinstance(value, str):
            self.fail(
                path,
                f"'{'.'.join(path)}' must be text (put it in quotes if YAML reads it as "
                f"a number, date or yes/no); got {_yaml_type(value)}",
            )
        return value

    def field(self, name: str, value: Any, path: tuple[str, ...]) -> Any:
        """``value`` read by session field ``name`` of the field table (its bounds are
        every front end's), refused at the key ``path``."""
        try:
            return FIELDS[name].read(value, Said(f"'{'.'.join(path)}'"))
        except UsageError as exc:
            self.fail(path, exc.message.removesuffix("."))

    def number(self, value: Any, path: tuple[str, ...]) -> float:
        """A finite number greater than zero."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, f"'{'.'.join(path)}' must be a number; got {_yaml_type(value)}")
        if not math.isfinite(value) or value <= 0:
            self.fail(path, f"'{'.'.join(path)}' must be a number greater than 0; got {value}")
        return float(value)


def _yaml_type(value: Any) -> str:
    names = {bool: "yes/no", int: "a number", float: "a number", str: "text"}
    names.update({list: "a list", dict: "a mapping", type(None): "nothing"})
    return names.get(type(value), f"a {type(value).__name__}")


def split_front_matter(lines: list[str], file: str) -> tuple[str, int]:
    """The YAML text between the ``---`` fences and the index of the first body line."""
    if not lines or not _FENCE.fullmatch(lines[0]):
        raise TemplateError(
            file,
            1,
            1,
            "Missing front matter: start the file with a '---' line, then "
            "'title: Your title', then another '---' line",
        )
    for index in range(1, len(lines)):
        if _FENCE_END.fullmatch(lines[index]):
            return "\n".join(lines[1:index]), index + 1
    raise TemplateError(
        file, 1, 1, "The front matter is not closed: add a '---' line after its last key"
    )


def _compose(yaml_text: str, file: str) -> tuple[Any, dict[tuple[str, ...], tuple[int, int]]]:
    """Load the YAML safely and note each key's (line, col) in the file (YAML starts on line 2)."""
    try:
        node, data = safe_load(yaml_text)
    except BadCharacter as bad:
        raise TemplateError(
            file,
            bad.line + 2,
            bad.col + 1,
            f"This value holds {describe_character(bad.char)}: remove it",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 2, mark.column + 1) if mark else (2, 1)
        problem = exc.problem or exc.context or "syntax error"
        hint = "check the quotes, brackets, colons and indentation here"
        if "alias" in problem:
            hint = "anchors and aliases are refused before anything is expanded"
        elif "mapping values are not allowed" in problem:
            hint = "put the value in quotes when it contains ': '"
        elif isinstance(exc, yaml.constructor.ConstructorError):
            hint = "YAML tags (!!...) are not allowed; write plain text, numbers and lists"
        raise TemplateError(
            file, line, col, f"Front matter is not valid YAML: {problem}; {hint}"
        ) from None
    except yaml.reader.ReaderError as exc:
        line, col = position(yaml_text, exc.position)
        raise TemplateError(
            file,
            line + 1,
            col,
            f"Front matter contains a character YAML cannot read ({exc.reason}): remove it",
        ) from None
    except yaml.YAMLError as exc:
        raise TemplateError(file, 2, 1, f"Front matter is not valid YAML: {exc}") from None
    except RecursionError:
        raise TemplateError(file, 2, 1, "Front matter is nested too deeply") from None

    marks: dict[tuple[str, ...], tuple[int, int]] = {}

    def walk(current: Any, path: tuple[str, ...]) -> None:
        # Three levels of keys exist (variables -> name -> default); deeper is never valid.
        if not isinstance(current, yaml.MappingNode) or len(path) > 2:
            return
        for key_node, value_node in current.value:
            key = (*path, str(key_node.value))
            at = (key_node.start_mark.line + 2, key_node.start_mark.column + 1)
            if key in marks and isinstance(key_node, yaml.ScalarNode):
                raise TemplateError(
                    file, *at, f"Duplicate key '{key[-1]}' in front matter: keep only one"
                )
            marks[key] = at
            walk(value_node, key)

    walk(node, ())
    return data, marks


def parse_meta(yaml_text: str, file: str) -> Meta:
    """Validate the front matter into ``Meta``."""
    data, marks = _compose(yaml_text, file)
    fm = _FrontMatter(file, marks)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        fm.fail((), "The front matter must be 'key: value' lines, starting with 'title: ...'")
    top = fm.mapping(data, (), _TOP_KEYS)

    if top.get("title") is None:
        fm.fail((), "The front matter has no 'title': add a line like 'title: My practice'")
    title = fm.string(top["title"], ("title",), required=True)
    assert title is not None
    practice_id = fm.string(top.get("id"), ("id",)) or Path(file).stem
    if top.get("id") is not None and not _ID_RE.fullmatch(practice_id):
        fm.fail(
            ("id",),
            f"'id' must be letters, digits, '.', '_' or '-' (no spaces); got {practice_id!r}",
        )

    voice_rate, voice_engine, voice_name = None, None, None
    if top.get("voice") is not None:
        voice = fm.mapping(top["voice"], ("voice",), _VOICE_KEYS)
        if voice.get("rate") is not None:
            voice_rate = fm.field("rate", voice["rate"], ("voice", "rate"))
        voice_engine = fm.string(voice.get("engine"), ("voice", "engine"))
        voice_name = fm.string(voice.get("name"), ("voice", "name"))

    tags = top.get("tags")
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        fm.fail(("tags",), "'tags' must be a list of text, like tags: [short, sleep]")

    return Meta(
        id=practice_id,
        title=title.strip(),
        summary=(fm.string(top.get("summary"), ("summary",)) or "").strip(),
        minutes=_minutes(fm, top.get("minutes")),
        background=fm.string(top.get("background"), ("background",)),
        voice_rate=voice_rate,
        voice_engine=voice_engine,
        voice_name=voice_name,
        variables=_variables(fm, top.get("variables")),
        tags=tuple(tags),
        language=_language(fm, top.get("language")),
        kind=_kind(fm, top.get("kind")),
        pronounce=_pronounce(fm, top.get("pronounce")),
    )


def _minutes(fm: _FrontMatter, value: Any) -> Minutes:
    """``minutes``: a bare number is the default; the range widens to hold it."""
    fallback = Meta(id="", title="").minutes
    if value is None:
        return fallback
    if not isinstance(value, dict):
        bare = fm.number(value, ("minutes",))
        return _bounded(fm, Minutes(min(fallback.min, bare), bare, max(fallback.max, bare)))
    given = {
        k: fm.number(v, ("minutes", k))
        for k, v in fm.mapping(value, ("minutes",), _MINUTES_KEYS).items()
    }
    if "default" not in given:
        fm.fail(("minutes",), f"'minutes' needs a default, like {_MINUTES_EXAMPLE}")
    default = given["default"]
    low = given.get("min", min(fallback.min, default))
    high = given.get("max", max(fallback.max, default))
    if not low <= default <= high:
        fm.fail(
            ("minutes",),
            f"'minutes' must have min <= default <= max; got min {low:g}, default {default:g}, "
            f"max {high:g}",
        )
    return _bounded(fm, Minutes(low, default, high), "max" in given)


def _bounded(fm: _FrontMatter, minutes: Minutes, max_given: bool = False) -> Minutes:
    """``minutes`` within the longest session (the field table's ``minutes``; validate
    solves every whole minute)."""
    top = FIELDS["minutes"].high or 0.0
    if minutes.max > top:
        fm.fail(
            ("minutes", "max") if max_given else ("minutes",),
            f"'minutes' reaches {minutes.max:g}; a session is at most "
            f"{top:g} minutes: give a max of {top:g} or less",
        )
    return minutes


def _variables(fm: _FrontMatter, value: Any) -> tuple[Variable, ...]:
    """``variables``: name -> {default, describe}, or name -> default text."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        fm.fail(("variables",), "'variables' must be a mapping like  name: {default: friend}")
    out = []
    for key, spec in value.items():
        name = str(key)
        path = ("variables", name)
        if not var.is_valid_name(name):
            fm.fail(path, f"Variable name '{name}' must be letters, digits, '_' or '-'")
        if spec is None or isinstance(spec, str):
            out.append(Variable(name, spec or ""))
            continue
        if not isinstance(spec, dict):
            fm.fail(
                path,
                f"Variable '{name}' must be text (its default) or a mapping like "
                f"{{default: friend, describe: ...}}; got {_yaml_type(spec)}",
            )
        fields = fm.mapping(spec, path, _VARIABLE_KEYS)
        default = fm.string(fields.get("default"), (*path, "default")) or ""
        describe = fm.string(fields.get("describe"), (*path, "describe")) or ""
        out.append(Variable(name, default, describe))
    return tuple(out)


def _language(fm: _FrontMatter, value: Any) -> str:
    """``language``: a BCP 47 tag such as en, es, pt-BR or zh-Hant-TW (default en)."""
    text = fm.string(value, ("language",))
    if text is None:
        return "en"
    tag = text.strip()
    if not _LANGUAGE_RE.fullmatch(tag):
        fm.fail(
            ("language",),
            f"'language' must be a BCP 47 tag like en, es, pt-BR or fr-CA; got {text!r}",
        )
    parts = tag.split("-")
    parts[0] = parts[0].lower()
    for i, part in enumerate(parts[1:], 1):
        if len(part) == 4 and part.isalpha():
            parts[i] = part.title()  # script: Hant
        elif len(part) == 2:
            parts[i] = part.upper()  # region: BR
    return "-".join(parts)


def _kind(fm: _FrontMatter, value: Any) -> str:
    """``kind``: practice (default), talk or timer."""
    text = fm.string(value, ("kind",))
    if text is None:
        return "practice"
    if text.strip().lower() not in KINDS:
        hint = did_you_mean(text.strip().lower(), KINDS)
        fm.fail(("kind",), f"Unknown kind '{text}'.{hint} Choose one of: {', '.join(KINDS)}")
    return text.strip().lower()


def _pronounce(fm: _FrontMatter, value: Any) -> tuple[tuple[str, str], ...]:
    """``pronounce``: written word -> what the voice says (whole words, any case)."""
    if value is None:
        return ()
    example = 'pronounce: {backdraft: "back draft"}'
    if not isinstance(value, dict):
        fm.fail(
            ("pronounce",), f"'pronounce' must be a mapping of word to respelling, like {example}"
        )
    out: dict[str, tuple[str, str]] = {}
    for key, said in value.items():
        word = unicodedata.normalize("NFC", str(key).strip())
        path = ("pronounce", str(key))
        if not WORD_RE.fullmatch(word):
            fm.fail(
                path,
                f"'pronounce' keys must be single words (letters, digits, ' or -); got {word!r}",
            )
        if (
            isinstance(said, bool)
            or not isinstance(said, (str, int, float))
            or not str(said).strip()
        ):
            fm.fail(path, f"The respelling of '{word}' must be text, like {example}")
        if not any(ch.isalnum() for ch in str(said)):  # only marks, or invisible characters
            fm.fail(
                path,
                f"The respelling of '{word}' has no letters or digits to say "
                f"({str(said)!a}): write how the word sounds, like {example}",
            )
        if fold(word) in out:
            fm.fail(path, f"'{word}' is respelled twice under 'pronounce': keep one")
        out[fold(word)] = (word, var.clean_value(str(said)))
    return tuple(out.values())
