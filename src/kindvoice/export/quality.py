"""Quality presets: the few export settings a listener chooses between by name.

``standard`` is the default (stereo, 128 kbps: joint stereo for MP3), ``voice`` is mono
at 64 kbps (small files for speech; binaural backgrounds are refused by the pipeline,
since mono destroys the beat), ``music`` is stereo at 160 kbps for rich backgrounds.
Lossless formats (FLAC, WAV) ignore the bitrate.
"""

from __future__ import annotations

from kindvoice.errors import UsageError
from kindvoice.settings import MONO_BITRATE_KBPS, STEREO_BITRATE_KBPS, ExportSettings

#: preset -> (mono, bitrate in kbps)
QUALITIES: dict[str, tuple[bool, int]] = {
    "standard": (False, STEREO_BITRATE_KBPS),
    "voice": (True, MONO_BITRATE_KBPS),
    "music": (False, 160),
}


def export_settings(
    quality: str | None = None,
    *,
    mono: bool = False,
    artist: str = "kindvoice",
    album: str | None = None,
) -> ExportSettings:
    """Export settings for a preset name (None: ``standard``, or mono at 64 kbps with
    ``mono``); a preset that contradicts ``mono`` is a usage error."""
    if quality is None:
        return ExportSettings(mono=mono, artist=artist, album=album)
    preset = QUALITIES.get(quality.strip().lower())
    if preset is None:
        raise UsageError(f"Unknown quality '{quality}'. Choose one of: {', '.join(QUALITIES)}")
    preset_mono, bitrate_kbps = preset
    if mono and not preset_mono:
        raise UsageError(f"--quality {quality} is stereo; drop --mono or use --quality voice.")
    return ExportSettings(mono=preset_mono, bitrate_kbps=bitrate_kbps, artist=artist, album=album)
