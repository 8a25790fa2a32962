"""The terminal's own notification: OSC 9, OSC 777 and the bell, as text to write.

These reach the operator's terminal over ssh; inside tmux each sequence is
wrapped in tmux's passthrough (``ESC P tmux; … ESC \\``, every ESC inside
doubled), which tmux forwards when ``allow-passthrough`` is on. The text is
stripped of control characters first: a title from the store is data, never
an escape sequence.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .settings import NotifySettings

ESC, BEL = "\x1b", "\x07"


def clean(text: str, limit: int = 200) -> str:
    """Printable text only (no ESC, BEL, ST or newlines), and ``;`` kept out of OSC 777 fields."""
    out = "".join(ch if ch.isprintable() else " " for ch in text)
    return out[:limit]


def in_tmux(env: Mapping[str, str] = os.environ) -> bool:
    return bool(env.get("TMUX"))


def wrap_tmux(seq: str) -> str:
    return f"{ESC}Ptmux;{seq.replace(ESC, ESC + ESC)}{ESC}\\"


def sequences(title: str, body: str, settings: NotifySettings, *, tmux: bool = False) -> str:
    """What to write to the terminal for one notification ('' for nothing)."""
    title, body = clean(title), clean(body)
    parts: list[str] = []
    if settings.osc9:
        parts.append(f"{ESC}]9;{title}: {body}{BEL}")
    if settings.osc777:
        parts.append(f"{ESC}]777;notify;{title.replace(';', ',')};{body.replace(';', ',')}{BEL}")
    if tmux:
        parts = [wrap_tmux(p) for p in parts]
    if settings.bell:
        parts.append(BEL)  # tmux passes a bell on by itself
    return "".join(parts)
