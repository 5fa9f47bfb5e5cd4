"""QR codes drawn on the server as inline SVG: no script, no image request."""

from __future__ import annotations

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(payload: str) -> SafeString:
    """The QR code of ``payload`` as inline SVG markup.

    Callers pass payloads of our own making (a check-in URL, a pickup code "YZR-…", an event
    code "YZE-…"): nothing a user typed reaches the markup, which is why it may be marked safe.
    """
    code = segno.make(payload, error="m", micro=False)
    return mark_safe(
        code.svg_inline(
            scale=8, border=2, dark="#1f2328", light="#fff", svgclass="qr", omitsize=True
        )
    )
