"""The error tree's shared parts: the exit statuses match what errors.py and the README
document, and every "Did you mean" hint comes from one helper."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import pytest

from kindvoice import errors
from kindvoice.errors import ExitStatus, did_you_mean

README = Path(__file__).resolve().parents[1] / "README.md"


def test_exit_statuses_are_the_documented_ones() -> None:
    documented = {int(code) for code in re.findall(r"^\s*(\d+)\s{3}\S", errors.__doc__ or "", re.M)}
    assert documented == {s.value for s in ExitStatus} - {0}
    in_readme = {int(c) for c in re.findall(r"^\| (\d+) \|", README.read_text(), re.M)}
    assert in_readme <= {s.value for s in ExitStatus} and {0, 1, 2, 8, 130} <= in_readme


def test_each_error_class_exits_with_its_status() -> None:
    assert errors.UsageError("x").exit_code == ExitStatus.USAGE == 2
    assert errors.TemplateError("t.md", 1, 1, "x").exit_code == ExitStatus.TEMPLATE
    assert errors.UnknownNameError("voice", "x", ["a"]).exit_code == ExitStatus.UNKNOWN_NAME
    assert errors.LengthError("x").exit_code == ExitStatus.LENGTH
    assert errors.EngineError("x").exit_code == ExitStatus.ENGINE
    assert errors.AudioIOError("x").exit_code == ExitStatus.AUDIO_IO


def test_did_you_mean_shapes_the_suggestion() -> None:
    assert did_you_mean("pasue", ["pause", "bell"]) == " Did you mean 'pause'?"
    assert did_you_mean("pasue", ["pause", "bell"], shape="[{}]") == " Did you mean [pause]?"
    assert did_you_mean("inn", ["in", "out"], shape="'{}='") == " Did you mean 'in='?"
    assert did_you_mean("xyzzy", ["pause", "bell"]) == ""
    found = did_you_mean("rian", ["rain", "rainy", "brain", "drone"], shape="{}", n=3)
    assert found.startswith(" Did you mean rain") and found.count(",") == 2


def test_unknown_names_list_up_to_three_suggestions() -> None:
    message = errors.UnknownNameError("background", "rian", ["rain", "drone", "brain"]).message
    assert message.startswith("Unknown background 'rian'. Did you mean rain, brain?")
    assert message.endswith("Choose one of: brain, drone, rain")


def _every_error_class() -> list[type[errors.KindvoiceError]]:
    found: list[type[errors.KindvoiceError]] = []
    todo = [errors.KindvoiceError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _example(cls: type[errors.KindvoiceError]) -> errors.KindvoiceError:
    """One instance of ``cls``, made with the arguments its own __init__ takes."""
    if issubclass(cls, errors.TemplateError):
        return cls("t.md", 3, 7, "Unknown marker [bel]")
    if issubclass(cls, errors.UnknownNameError):
        return cls("voice", "hart", ["heart", "michael"])
    if issubclass(cls, errors.FieldError):
        return cls("rate", "The speaking pace must be a number from 0.5 to 2; got 9.")
    return cls(f"a {cls.__name__} happened")


def test_every_error_survives_a_pickle_round_trip() -> None:
    """Errors cross processes (speech workers, a batch's pool, Dask): each class comes back
    as the same class with the same message, exit status, HTTP status and attributes."""
    import pickle

    classes = _every_error_class()
    names = {cls.__name__ for cls in classes}
    assert {"TemplateError", "UnknownNameError", "FieldError", "BatchFailed"} <= names
    for cls in classes:
        error = _example(cls)
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is cls
        assert back.message == error.message == str(error) == str(back)
        assert (back.exit_code, back.http_status) == (error.exit_code, error.http_status)
        assert vars(back) == vars(error)
    template = pickle.loads(pickle.dumps(errors.TemplateError("t.md", 3, 7, "bad")))
    assert (template.file, template.line, template.col, template.reason) == ("t.md", 3, 7, "bad")


def test_errors_are_plain_exceptions_with_web_statuses() -> None:
    """Below the CLI nothing is a click exception; the web's status comes from the class."""
    import click

    for cls in _every_error_class():
        assert not issubclass(cls, click.ClickException), cls
    assert errors.NotFound("x").http_status == 404
    assert errors.QueueFull("x").http_status == 429
    assert errors.UsageError("x").http_status == 400


def test_a_placed_error_keeps_its_class_and_status() -> None:
    error = errors.UnknownNameError("background", "rian", ["rain"])
    placed = error.placed(f"plan.yaml: 'background': {error.message}")
    assert type(placed) is errors.UnknownNameError and placed.exit_code == 4
    assert placed.message.startswith("plan.yaml: 'background': Unknown background 'rian'.")
    assert placed.name == "rian" and placed.kind == "background"


def test_the_cli_converts_an_error_at_its_edge() -> None:
    """A KindvoiceError raised in a command is one ``Error:`` line and its exit status
    (in process, through click's runner)."""
    from click.testing import CliRunner

    from kindvoice.cli import cli

    run = CliRunner().invoke(cli, ["build", "no-such-practice-xyz", "-o", "/nonexistent/o.mp3"])
    assert run.exit_code == ExitStatus.UNKNOWN_NAME, run.output
    assert "Error: Unknown practice 'no-such-practice-xyz'" in run.output
    assert "Traceback" not in run.output


def test_one_function_words_an_internal_error() -> None:
    """The words "Internal error" are written by ``errors.internal_error`` alone."""
    source = Path(errors.__file__).parent
    writers = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if re.search(r"""["']Internal error:""", path.read_text(encoding="utf-8"))
    ]
    assert writers == ["errors.py"]
    assert errors.internal_error(KeyError("k"), " (hint)") == "Internal error: KeyError: 'k' (hint)"


def test_a_full_disk_is_one_plain_line_not_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ENOSPC met anywhere (a phrase cache write, a take, an output) says what to do, on
    the command line (exit 7) and wherever a job words what stopped it."""
    from click.testing import CliRunner

    import kindvoice.pipeline
    from kindvoice.cli import cli

    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/cache/speech/ab.kvp")
    assert errors.internal_error(full) == (
        "The disk is full writing '/cache/speech/ab.kvp': free some space and try again."
    )
    assert errors.disk_full(OSError(errno.EACCES, "Permission denied")) is None

    def fails(*_: object, **__: object) -> None:
        raise full

    monkeypatch.setattr(kindvoice.pipeline, "prepare", fails)
    run = CliRunner().invoke(cli, ["plan", "one-minute-break"])
    assert run.exit_code == ExitStatus.AUDIO_IO, run.output
    assert run.output.strip().splitlines() == [
        "Error: The disk is full writing '/cache/speech/ab.kvp': free some space and try again."
    ]
