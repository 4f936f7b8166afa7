"""A phrase's pitch level from the script's structure: high at a section's start, a step
lower each sentence down to the floor, lifted after a long pause."""

from __future__ import annotations

from kindvoice.settings import INTONATION
from kindvoice.template.intonation import levels, sentence_count
from kindvoice.template.library import bundled_dir
from kindvoice.template.parse import load_template, parse_template

FRONT = "---\ntitle: Intonation test\nminutes: {min: 1, default: 2, max: 4}\n---\n"
BODY = """## Arriving

[pause 4s]

Rest here. Let the breath be easy.

Feel the ground beneath you.

[pause 1s]

Notice the sounds around you.

[pause 3s~20s]

Stay with one breath.

Once more. And again. And again. And again.

Then rest.

## Closing

Stay with one breath.

Come back slowly.
"""


def test_sentences_are_counted_at_their_ends_only() -> None:
    assert sentence_count("Rest here. Let the breath be easy.") == 2
    assert sentence_count("Rest here, and let the breath be easy") == 1
    assert sentence_count("Is it hard? Yes… it is. “Kind,” she said.") == 4


def test_levels_fall_by_sentence_lift_after_a_long_pause_and_reset_at_a_section() -> None:
    top, step, floor, lift = (
        INTONATION.top_st,
        INTONATION.step_st,
        INTONATION.floor_st,
        INTONATION.lift_st,
    )
    got = levels(parse_template(FRONT + BODY, "t.md"))
    assert got["Rest here. Let the breath be easy."] == top  # a pause before it lifts nothing
    assert got["Feel the ground beneath you."] == round(top - 2 * step, 2)
    assert got["Notice the sounds around you."] == round(top - 3 * step, 2)  # 1 s: no lift
    lifted = min(top, max(top - 4 * step, floor) + lift)  # a pause of 3 s or more lifts
    assert got["Stay with one breath."] == round(lifted, 2)
    assert got["Then rest."] == floor  # four sentences earlier: down to the floor, no lower
    # a phrase said again in the next section keeps its first place's level (one sound)
    assert got["Come back slowly."] == round(top - step, 2)


def test_every_bundled_phrase_gets_a_level_within_the_contour() -> None:
    for path in sorted(bundled_dir().glob("*.md")):
        if path.name == "TEMPLATE_FORMAT.md":
            continue
        script = load_template(path)
        got = levels(script)
        assert set(got) == set(script.phrases()), path.name
        if not got:  # a timer with nothing to say
            continue
        assert all(INTONATION.floor_st <= v <= INTONATION.top_st for v in got.values())
        # a section's first phrase starts at the top
        assert max(got.values()) == INTONATION.top_st, path.name
