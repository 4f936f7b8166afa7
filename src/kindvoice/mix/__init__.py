"""Mixing: the timeline, the block-by-block pydub mixer, and mastering (loudness, limiter)."""
