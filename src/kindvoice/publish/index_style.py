"""The style of a course's index page (``index.html``, ``publish.course.index_html``).

One calm column that fits a phone (at 390 px the table becomes one card per session,
each link and player a 44 px target), the web page's colours, a dark variant. The page
carries it inline, so the folder works anywhere (a static host, a file on disk); the web
app's Content-Security-Policy allows exactly this style by its hash (``CSP_SOURCE``).
"""

from __future__ import annotations

import base64
import hashlib

INDEX_CSS = (
    "body{font:1.0625rem/1.6 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "max-width:52rem;margin:0 auto;padding:1rem;background:#f6f4ef;color:#1d2a2e;"
    "overflow-wrap:anywhere}"
    "h1{font-size:1.6rem;font-weight:600;margin:.6rem 0}a{color:#2d6a5f}"
    "table{width:100%;border-collapse:collapse}"
    "th,td{padding:.5rem .4rem;vertical-align:top;text-align:left;"
    "border-bottom:1px solid #d6d2c8}"
    "small{color:#4f5d61}audio{display:block;width:100%;min-width:12rem;margin:.2rem 0}"
    "a{display:inline-flex;align-items:center;min-height:44px}"
    "@media (max-width:40rem){table,tbody,tr,td{display:block}tr:first-child{display:none}"
    "tr{border-bottom:1px solid #d6d2c8;padding:.6rem 0}td{border:none;padding:.1rem 0}"
    "audio{min-width:0}}"
    "@media (prefers-color-scheme:dark){body{background:#161b1d;color:#e8ecea}"
    "a{color:#7cc4b4}small{color:#a9b5b2}th,td,tr{border-color:#36413f}}"
)

#: the CSP source expression that allows ``<style>{INDEX_CSS}</style>`` and nothing else
CSP_SOURCE = "'sha256-{}'".format(
    base64.b64encode(hashlib.sha256(INDEX_CSS.encode("utf-8")).digest()).decode("ascii")
)
