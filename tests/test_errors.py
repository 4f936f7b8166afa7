"""The error tree's shared parts: the exit statuses match what errors.py and the README
document, and every "Did you mean" hint comes from one helper."""

from __future__ import annotations

import re
from pathlib import Path

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
