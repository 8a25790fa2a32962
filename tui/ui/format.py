"""Short human forms of times, counts and states, shared by every screen.

Pure functions of their arguments (the clock is passed in), so the screens can
re-render ages every second without touching the store, and tests can pin the
clock.
"""

from __future__ import annotations

from ..model.snapshots import EXIT_BAD, EXIT_OK, EXIT_WARN, TERMINAL_STATES, TokenUse

#: A glyph per task state; unknown states get a question mark and their name.
STATE_GLYPH: dict[str, str] = {
    "interactive": "◇", "planning": "◔", "refining": "◑", "ready": "○", "active": "▶",
    "review": "◎", "approved": "✔", "merging": "⇄", "merged": "●", "done": "✓",
    "closed": "⊘", "failed": "✗",
}

#: The style class (colour meaning) of each state, used by the stylesheet names.
STATE_TONE: dict[str, str] = {
    "active": "busy", "review": "busy", "merging": "busy", "refining": "busy",
    "approved": "good", "planning": "queued", "ready": "queued", "interactive": "queued",
    "merged": "good", "done": "good", "closed": "muted", "failed": "bad",
}

PHASE_GLYPH: dict[str, str] = {
    "idle": "·", "waiting": "…", "preparing": "◌", "sending request": "↗", "thinking": "✻",
    "working": "⚙", "running tools": "⚒", "compacting": "⇊", "rate limited": "⧗",
}

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def age(then_s: float | None, now_s: float) -> str:
    """'3s', '4m', '2h', '5d': how long ago, in the largest whole unit."""
    if then_s is None:
        return "—"
    delta = now_s - then_s
    if delta < 0:
        return "future" if delta < -60 else "0s"
    if delta < 60:
        return f"{int(delta)}s"
    if delta < 3600:
        return f"{int(delta // 60)}m"
    if delta < 86400:
        return f"{int(delta // 3600)}h"
    if delta < 86400 * 365 * 100:
        return f"{int(delta // 86400)}d"
    return "long ago"


def duration(seconds: float | None) -> str:
    """'42s', '3m05s', '1h02m': an elapsed time, precise enough to see it tick."""
    if seconds is None or seconds < 0:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def tokens(n: int) -> str:
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000_000:
        return f"{n / 1_000_000:.2f}M"
    return f"{n:.2g}"  # no real session; a damaged row must not fill the line


def cost(value: float) -> str:
    if value >= 1e9:
        return f"${value:.2g}"
    return f"${value:.2f}" if value < 100 else f"${value:,.0f}"


def token_parts(use: TokenUse) -> str:
    """'in 5.1k · out 9.8k · cache 812.0k/45.0k': tau's total counts the cache
    reads and writes too, so the parts say what the total is made of."""
    return (f"in {tokens(use.input)} · out {tokens(use.output)} · "
            f"cache {tokens(use.cache_read)}/{tokens(use.cache_write)}")


def context_tone(pct: float | None) -> str:
    """How near the window a session's context is: tau compacts chat sessions
    when it would not fit (TAU.md §2.3)."""
    if pct is None:
        return "none"
    return "bad" if pct >= 90 else "warn" if pct >= 70 else "good"


def exit_tone(status: str | None) -> str:
    """'good' | 'bad' | 'warn' | 'none' | 'unknown': the colour of a turn's end."""
    if not status:
        return "none"
    if status in EXIT_OK:
        return "good"
    if status in EXIT_BAD:
        return "bad"
    if status in EXIT_WARN:
        return "warn"
    return "unknown"


def state_glyph(state: str) -> str:
    return STATE_GLYPH.get(state, "?")


def state_tone(state: str) -> str:
    return STATE_TONE.get(state, "unknown")


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES


def spinner(now_s: float) -> str:
    """A spinner frame that advances with the clock (ticks are one second apart)."""
    return SPINNER[int(now_s) % len(SPINNER)]


def live_times(phase_since: float | None, turn_since: float | None, now_s: float) -> str:
    """'12s · turn 3m05s': time in the phase, and in the turn when it differs."""
    phase = duration(now_s - phase_since) if phase_since else ""
    if turn_since and (not phase_since or phase_since - turn_since >= 1):
        return f"{phase} · turn {duration(now_s - turn_since)}".strip(" ·")
    return phase


def phase_word(phase: str | None, source: str) -> str:
    """The phase of a session that is not live, saying where it comes from."""
    if source == "server":
        return phase or "idle"
    if phase is None:
        return "never ran"
    if phase == "idle":
        return phase
    if source == "pending":
        return f"{phase} (asking tau…)"
    return f"{phase} (persisted)"
