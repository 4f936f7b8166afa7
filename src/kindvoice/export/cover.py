"""Cover art: a calm, generated square JPEG per practice, or the user's own image.

The generated cover is a soft two-colour gradient with concentric rings, its colours
derived from a key (the practice id) by a hash, so every practice keeps its own look
from render to render and different practices differ. The title and the length are drawn
with the scalable font that ships inside Pillow, so no font file is needed.

Podcast apps want 1400 to 3000 px squares in JPEG or PNG and small files; we write
1400 x 1400 JPEG at quality 85 (about 100 KB for the generated design).
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import logging
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from kindvoice.errors import AudioIOError, read_regular_file

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

COVER_PX = 1400
JPEG_QUALITY = 85
# a cover larger than this is refused from its header, before any pixel is decoded (a
# small PNG can declare 20000 x 20000 pixels: gigabytes once decoded)
MAX_COVER_PIXELS = 50_000_000
# a cover file larger than this is refused before it is read (a 3000 px JPEG is ~3 MB)
MAX_COVER_BYTES = 64_000_000


def _palette(key: str) -> tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]:
    """Top colour, bottom colour and ring colour for ``key``: soft, low-saturation hues."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    hue = digest[0] / 255.0
    shift = 0.08 + 0.12 * digest[1] / 255.0  # the second hue sits a little further round

    def rgb(h: float, saturation: float, value: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hsv_to_rgb(h % 1.0, saturation, value)
        return round(r * 255), round(g * 255), round(b * 255)

    return rgb(hue, 0.35, 0.82), rgb(hue + shift, 0.45, 0.42), rgb(hue + shift / 2, 0.18, 0.97)


def generate_cover(title: str, length_label: str, key: str, size_px: int = COVER_PX) -> bytes:
    """A square JPEG: gradient, rings, ``title`` and ``length_label`` (e.g. "10 minutes")."""
    from PIL import Image, ImageDraw, ImageFont

    top, bottom, ring = _palette(key)
    # the gradient: one column of blended rows, stretched across
    column = Image.linear_gradient("L").resize((1, size_px))
    base = Image.composite(
        Image.new("RGB", (1, size_px), bottom), Image.new("RGB", (1, size_px), top), column
    ).resize((size_px, size_px))
    # concentric rings, fainter outward, centred a little above the middle
    rings = Image.new("RGBA", (size_px, size_px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(rings)
    cx, cy = size_px // 2, round(size_px * 0.40)
    seed = hashlib.sha256(key.encode("utf-8")).digest()
    count = 4 + seed[2] % 3
    step = size_px * (0.07 + 0.02 * (seed[3] / 255.0))
    for i in range(count, 0, -1):
        radius = step * i
        alpha = round(90 * (1.0 - (i - 1) / count))
        draw.ellipse(
            (cx - radius, cy - radius, cx + radius, cy + radius),
            outline=(*ring, alpha),
            width=max(2, size_px // 250),
        )
    draw.ellipse(
        (cx - step * 0.6, cy - step * 0.6, cx + step * 0.6, cy + step * 0.6),
        fill=(*ring, 110),
    )
    image = Image.alpha_composite(base.convert("RGBA"), rings)

    # the words: title wrapped to two or three lines, the length below it
    text = ImageDraw.Draw(image)
    title_font = ImageFont.load_default(size=round(size_px * 0.065))
    small_font = ImageFont.load_default(size=round(size_px * 0.04))
    lines = textwrap.wrap(title, 22)[:3] or [""]
    y = size_px * 0.70
    for line in lines:
        text.text((cx, y), line, font=title_font, fill=(255, 255, 255, 240), anchor="mm")
        y += size_px * 0.08
    text.text(
        (cx, y + size_px * 0.01),
        length_label,
        font=small_font,
        fill=(255, 255, 255, 200),
        anchor="mm",
    )
    return _jpeg(image.convert("RGB"))


def load_cover(path: Path, size_px: int = COVER_PX) -> bytes:
    """The user's image at ``path`` as a ``size_px`` square JPEG (centre-cropped, resized).

    Raises AudioIOError naming the file when it cannot be read or is not an image."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        data = read_regular_file(path, "cover image", MAX_COVER_BYTES, AudioIOError)
        with Image.open(io.BytesIO(data)) as opened:  # the header: the size before the pixels
            width, height = opened.size
            if width * height > MAX_COVER_PIXELS:
                raise AudioIOError(
                    f"Cover image '{path}' is {width}x{height} pixels, too large to read "
                    f"(at most {MAX_COVER_PIXELS // 1_000_000} megapixels): use a smaller "
                    f"copy, {COVER_PX} to 3000 px square."
                )
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except FileNotFoundError:
        raise AudioIOError(f"Cover image '{path}' not found. Check the path.") from None
    except UnidentifiedImageError:
        raise AudioIOError(
            f"Cover image '{path}' is not an image Pillow can read; use a JPEG or PNG."
        ) from None
    except Image.DecompressionBombError:  # Pillow's own check, at twice its warning size
        raise AudioIOError(
            f"Cover image '{path}' is too large to read (over {MAX_COVER_PIXELS // 1_000_000} "
            f"megapixels): use a smaller copy, {COVER_PX} to 3000 px square."
        ) from None
    except (OSError, ValueError) as exc:
        raise AudioIOError(f"Cannot read cover image '{path}': {exc}.") from None
    if image.width < size_px or image.height < size_px:
        log.warning(
            "cover %s is %dx%d; it is enlarged to %d px (podcast apps want at least 1400)",
            path,
            image.width,
            image.height,
            size_px,
        )
    square = ImageOps.fit(image.convert("RGB"), (size_px, size_px), Image.Resampling.LANCZOS)
    return _jpeg(square)


def _jpeg(image: Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=False)
    return buffer.getvalue()
