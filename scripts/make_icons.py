"""Draw the web app's icons (``src/kindvoice/web/static/icons/``) with Pillow.

A calm, simple mark: a cream circle (a face turned inward, a breath) on the page's sage
green, with two soft arcs of voice. ``icon-192.png`` and ``icon-512.png`` are "any"
icons (rounded square); ``maskable-512.png`` fills the square and keeps the mark inside
the central safe zone (80 %), as launchers crop it to a circle or a squircle.

Run ``.venv/bin/python scripts/make_icons.py`` after changing the design; the PNGs are
committed, so the package never needs Pillow at run time.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "src" / "kindvoice" / "web" / "static" / "icons"
SAGE = (45, 106, 95, 255)
CREAM = (246, 244, 239, 255)
SOFT = (184, 214, 204, 255)
SCALE = 4  # drawn large, then reduced: smooth edges


def mark(size: int, *, full_bleed: bool) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if full_bleed:
        draw.rectangle((0, 0, big, big), fill=SAGE)
        inner = 0.8  # the safe zone of a maskable icon
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=SAGE)
        inner = 1.0
    c = big / 2
    unit = big * inner
    r = unit * 0.17
    cx = c - unit * 0.1
    draw.ellipse((cx - r, c - r, cx + r, c + r), fill=CREAM)
    width = max(SCALE, round(unit * 0.045))
    for k, colour in ((1, CREAM), (2, SOFT)):
        radius = r + unit * 0.1 * k
        box = (cx - radius, c - radius, cx + radius, c + radius)
        draw.arc(box, start=-40, end=40, fill=colour, width=width)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    mark(192, full_bleed=False).save(OUT / "icon-192.png", optimize=True)
    mark(512, full_bleed=False).save(OUT / "icon-512.png", optimize=True)
    mark(512, full_bleed=True).save(OUT / "maskable-512.png", optimize=True)
    mark(180, full_bleed=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
