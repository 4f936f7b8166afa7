"""Every bundled practice, in every language, can be rendered at every whole minute of its
``minutes`` range with the default voice (Kokoro), as ``validate`` checks it on a cold
phrase cache: the phrase lengths are estimated from the text, nothing is spoken."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kindvoice.languages import LANGUAGES
from kindvoice.template.library import list_practices

from kv_testing import kindvoice, spoken_phrases


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_bundled_practice_fits_its_range_with_the_default_voice(
    language: str, own_cache: Path, tmp_path: Path
) -> None:
    # an empty user folder, so only the bundled library is listed
    practices = list_practices(tmp_path / "no-user-practices", language)
    assert len(practices) >= 15, [ref.id for ref in practices]
    env = dict(os.environ)
    env.pop("KINDVOICE_ENGINE", None)  # the tests default to espeak; this is Kokoro's check
    paths = [str(ref.path) for ref in practices]
    run = kindvoice("validate", *paths, env=env, timeout=120)
    assert run.code == 0, run.stderr
    for path in paths:
        assert f"{path}: ok" in run.stdout
    assert spoken_phrases(own_cache) == []  # the estimate alone: no phrase was spoken
