"""Making store text safe to show: data, never markup or terminal control.

Everything from the store (titles, messages, tool output) passes through
`literal` before it reaches a widget. Control characters, escape sequences,
bidi overrides and zero-width characters are replaced by a visible escape
(`\\x1b`, `\\u202e`, ...) so that the operator sees what is there and the
terminal never acts on it. Markup is handled by the widgets, which build
`rich.text.Text` objects and never parse strings as markup.
"""

from __future__ import annotations

import re

# C0 controls but tab/newline, DEL, C1 controls; bidi embeddings/overrides/isolates;
# zero-width and invisible formatting characters; line/paragraph separators; BOM.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def literal(text: object, *, multiline: bool = False, limit: int | None = None) -> str:
    """``text`` made harmless to display; one line unless ``multiline``.

    ``limit`` cuts very long text (10 MB messages, 100k-character titles) and
    says how much was left out, so a screen never lays out megabytes.
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    cut = 0
    if limit is not None and len(s) > limit:
        cut = len(s) - limit
        s = s[:limit]
    s = _SURROGATE.sub("\ufffd", s)
    s = s.replace("\r\n", "\n")
    if multiline:
        s = s.replace("\t", "    ")
    else:
        s = s.replace("\t", " ").replace("\n", " \u21b5 ")
    s = _UNSAFE.sub(_escape, s)
    if cut:
        s += f" … ({cut:,} more characters)"
    return s


def one_line(text: object, width: int = 120) -> str:
    """The first ``width`` characters of ``text`` as a single safe line."""
    s = literal(text, limit=width * 4)
    s = " ".join(s.split())
    if len(s) > width:
        s = s[: max(0, width - 1)] + "…"
    return s
