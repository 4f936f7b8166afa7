"""The two links to the web page (the teacher's and the listener's) and their QR codes
(``segno``: pure Python), for ``kindvoice serve`` to print and the teacher's page to show,
so a phone opens the page by scanning."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno


@dataclass(frozen=True)
class Links:
    """The teacher's link (render, upload, delete) and the listener's (play, download)."""

    teacher: str
    listener: str


def links(base: str, teacher_token: str, listener_token: str) -> Links:
    """Both links on ``base`` (``http://host:port/``)."""
    base = base if base.endswith("/") else f"{base}/"
    return Links(f"{base}?token={teacher_token}", f"{base}?token={listener_token}")


def qr_svg(url: str, title: str) -> str:
    """The QR code of ``url`` as an inline SVG element (black on white, a quiet zone)."""
    svg: str = segno.make(url, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", title=title, border=4
    )
    return svg


def qr_text(url: str) -> str:
    """The QR code of ``url`` drawn with block characters, for a terminal."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()
