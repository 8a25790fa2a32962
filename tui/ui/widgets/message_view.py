"""One transcript message, rendered as literal text (never markup)."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from .. import format as fmt
from ...model.snapshots import Message
from ...model.text import literal, one_line

ROLE_CLASS = {"user": "-user", "assistant": "-assistant", "tool_result": "-tool-result",
              "compaction_summary": "-compaction", "info": "-info"}
#: Characters of one message shown in the transcript; the rest is announced.
SHOWN_CHARS = 20_000


def clock_time(ms: int, now_s: float | None = None) -> str:
    """'14:03:07', with the date in front when it is not today's
    ('2026-11-27 14:03:07'): a transcript can span days."""
    try:
        when = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone()
        today = datetime.fromtimestamp(now_s, tz=timezone.utc).astimezone().date() if now_s else None
    except (OverflowError, OSError, ValueError):
        return "--:--:--"
    if today is not None and when.date() != today:
        return when.strftime("%Y-%m-%d %H:%M:%S")
    return when.strftime("%H:%M:%S")


def searchable(msg: Message) -> str:
    """The text a transcript search looks through, lower-cased."""
    parts = [msg.role, msg.text, msg.thinking, msg.tool_name, msg.summary, msg.error]
    parts.extend(f"{c.name} {c.arguments}" for c in msg.tool_calls)
    return "\n".join(parts).lower()


#: The styles of a message's parts. Declared once on the scroller that holds the
#: messages, not on each message: every component class costs a styled node per
#: widget, and a transcript mounts messages by the dozen.
COMPONENT_CLASSES = {
    "msg--user", "msg--assistant", "msg--tool", "msg--error", "msg--dim",
    "msg--thinking", "msg--good", "msg--match",
}


def part_styles(owner: Widget) -> dict[str, str]:
    """The message parts' styles, as declared on ``owner`` (the scroller)."""
    styles: dict[str, str] = {}
    for cls in COMPONENT_CLASSES:
        try:
            styles[cls.removeprefix("msg--")] = str(owner.get_component_rich_style(cls, partial=True))
        except KeyError:  # an owner that does not declare them: plain text
            pass
    return styles


class MessageView(Static):
    """One message. Rendered when made, with the part styles its screen hands
    it, so mounting a page of them lays out once."""

    def __init__(self, msg: Message, *, show_thinking: bool = False,
                 styles: dict[str, str] | None = None) -> None:
        super().__init__(classes="msg " + ROLE_CLASS.get(msg.role, "-other"))
        self.msg = msg
        self.show_thinking = show_thinking
        self.styles_of_parts = styles or {}
        self.set_class(msg.is_error or msg.role == "invalid" or bool(msg.error), "-error")
        self._haystack: str | None = None
        #: The search's words, marked where they are in the text (the current match).
        self.needle = ""
        self.update(self.render_message())

    @property
    def haystack(self) -> str:
        if self._haystack is None:
            self._haystack = searchable(self.msg)
        return self._haystack

    def restyle(self, styles: dict[str, str]) -> None:
        """New part styles (the theme changed)."""
        if styles != self.styles_of_parts:
            self.styles_of_parts = styles
            self.update(self.render_message())

    def set_needle(self, needle: str) -> None:
        """Mark ``needle`` where it shows in this message ("" unmarks)."""
        if needle != self.needle:
            self.needle = needle
            self.update(self.render_message())

    def set_thinking(self, show: bool) -> None:
        if show != self.show_thinking:
            self.show_thinking = show
            if self.msg.thinking:
                self.update(self.render_message())

    def _s(self, name: str) -> str:
        return self.styles_of_parts.get(name, "")

    def _now(self) -> float | None:
        """The app's clock (tests pin it), for "is this today"."""
        try:
            clock = getattr(self.app, "clock", None)
        except Exception:  # noqa: BLE001 - made outside a running app
            return None
        return clock() if callable(clock) else None

    def render_message(self) -> Text:
        m = self.msg
        t = Text()
        head = {"user": "user", "assistant": "assistant", "tool_result": "tool result",
                "compaction_summary": "compaction", "info": "info"}.get(m.role, one_line(m.role, 30))
        tone = {"user": "user", "assistant": "assistant", "tool_result": "tool"}.get(m.role, "dim")
        t.append(f"{head}", style=self._s(tone))
        t.append(f"  {clock_time(m.created_at, self._now())}  #{m.id}", style=self._s("dim"))
        if m.role == "assistant":
            if m.tokens or m.cost:
                t.append(f"  {fmt.tokens(m.tokens)} tok {fmt.cost(m.cost)}", style=self._s("dim"))
            if m.stop_reason and m.stop_reason not in ("stop", "tool_use"):
                t.append(f"  stop: {one_line(m.stop_reason, 20)}", style=self._s("error"))
        if m.role == "tool_result":
            t.append(f"  {one_line(m.tool_name, 40)}", style=self._s("tool"))
            if m.duration_ms is not None:
                t.append(f"  {fmt.duration(m.duration_ms / 1000) if m.duration_ms >= 1000 else str(m.duration_ms) + 'ms'}",
                         style=self._s("dim"))
            t.append("  ERROR" if m.is_error else "  ok", style=self._s("error" if m.is_error else "good"))
        if m.thinking:
            if self.show_thinking:
                t.append("\n✻ ", style=self._s("thinking"))
                t.append(literal(m.thinking, multiline=True, limit=SHOWN_CHARS), style=self._s("thinking"))
            else:
                t.append(f"\n✻ thinking ({len(m.thinking):,} chars, t unfolds)", style=self._s("thinking"))
        if m.role == "tool_result" and m.summary:
            t.append("\n" + one_line(m.summary, 200), style=self._s("dim"))
        if m.text:
            t.append("\n" + literal(m.text, multiline=True, limit=SHOWN_CHARS))
        for call in m.tool_calls:
            t.append("\n⚒ ", style=self._s("tool"))
            t.append(one_line(call.name, 40), style=self._s("tool"))
            t.append(" " + one_line(call.arguments, 160), style=self._s("dim"))
        if m.summary and m.role == "compaction_summary":
            t.append("\n" + one_line(m.summary, 80), style=self._s("dim"))
        if m.error:
            t.append("\n⚠ " + one_line(m.error, 300), style=self._s("error"))
        if self.needle:
            mark_all(t, self.needle, self._s("match"))
        return t


def mark_all(text: Text, needle: str, style: str) -> int:
    """Style each case-insensitive occurrence of ``needle`` in ``text``; how many."""
    hay, n, count, at = text.plain.lower(), needle.lower(), 0, 0
    while n and (at := hay.find(n, at)) >= 0:
        text.stylize(style or "reverse", at, at + len(n))
        at += len(n)
        count += 1
    return count
