"""The turn streaming now, at the end of a transcript: what tau's server sends
and has not stored yet, marked as such.

It is one widget after the stored messages: new stored messages mount before
it and it drops what they now hold, so a streamed answer is replaced in place
by the stored one, and the rows above it never move (a reader scrolled back
keeps their place). While streaming, only the tail of a long text is drawn:
each repaint costs what the screen shows, not what the answer holds.

A message tau fed into the running turn (its queue drained mid-turn) shows
where it landed, marked as steering. After the turn, the messages still
queued for the session (`QueuedView`): marked "queued, not delivered yet".
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from ...model.snapshots import LiveAnswer, LiveSteer, LiveTool, LiveTurn, Message, QueuedMessage
from ...model.text import literal, one_line
from .message_view import MessageView

#: Characters of a streaming text drawn (its tail): a screen of a 100-column
#: transcript (wrapping it is most of a repaint's cost; all of it shows once stored).
TEXT_TAIL = 2_500
#: Lines of a running tool's output drawn (its tail).
OUTPUT_LINES = 12
#: The words that mark a message fed into a running turn.
STEERING = "↪ steering: fed into the running turn"
#: Characters of a queued message drawn.
QUEUED_CHARS = 600


def tail(text: str, limit: int) -> tuple[str, int]:
    """The last ``limit`` characters of ``text`` (from a line start when one is
    near), and how many came before."""
    if len(text) <= limit:
        return text, 0
    start = len(text) - limit
    newline = text.find("\n", start, start + 200)
    if newline >= 0:
        start = newline + 1
    return text[start:], start


def tail_lines(text: str, n: int) -> tuple[list[str], int]:
    lines = text.rstrip("\n").split("\n") if text else []
    return lines[-n:], max(0, len(lines) - n)


class LiveTurnView(Static):
    """The streaming parts of the open session's turn."""

    def __init__(self, turn: LiveTurn, *, show_thinking: bool = False,
                 styles: dict[str, str] | None = None) -> None:
        super().__init__(classes="msg -live")
        self.turn = turn
        self.show_thinking = show_thinking
        self.styles_of_parts = styles or {}
        self.update(self.render_turn())

    def show(self, turn: LiveTurn) -> None:
        if turn != self.turn:
            self.turn = turn
            self.update(self.render_turn())

    def set_thinking(self, show: bool) -> None:
        if show != self.show_thinking:
            self.show_thinking = show
            self.update(self.render_turn())

    def restyle(self, styles: dict[str, str]) -> None:
        if styles != self.styles_of_parts:
            self.styles_of_parts = styles
            self.update(self.render_turn())

    def _s(self, name: str) -> str:
        return self.styles_of_parts.get(name, "")

    def render_turn(self) -> Text:
        turn = self.turn
        t = Text()
        mark = "◌ streaming from tau's server, not stored yet" if turn.running else \
            "◌ turn ended: being stored"
        t.append(mark, style=self._s("dim"))
        for part in turn.parts:
            if isinstance(part, LiveAnswer):
                self._answer(t, part)
            elif isinstance(part, LiveSteer):
                t.append(f"\n{STEERING}", style=self._s("user"))
                t.append("\n" + literal(part.text[:QUEUED_CHARS], multiline=True))
            else:
                self._tool(t, part)
        for notice in turn.notices:
            t.append("\nℹ " + one_line(notice, 200), style=self._s("dim"))
        return t

    def _answer(self, t: Text, a: LiveAnswer) -> None:
        t.append("\nassistant", style=self._s("assistant"))
        t.append("  stored next" if a.done else "  writing…", style=self._s("dim"))
        if a.thinking:
            if self.show_thinking:
                shown, cut = tail(a.thinking, TEXT_TAIL)
                t.append("\n✻ " + (f"… {cut:,} characters before\n" if cut else ""), style=self._s("thinking"))
                t.append(literal(shown, multiline=True), style=self._s("thinking"))
            else:
                t.append(f"\n✻ thinking ({len(a.thinking):,} chars, t unfolds)", style=self._s("thinking"))
        if a.text:
            shown, cut = tail(a.text, TEXT_TAIL)
            if cut:
                t.append(f"\n… {cut:,} characters before (all of it once stored)", style=self._s("dim"))
            t.append("\n" + literal(shown, multiline=True))
        for call in a.tool_calls:
            t.append("\n⚒ ", style=self._s("tool"))
            t.append(one_line(call.name, 40), style=self._s("tool"))
            if call.arguments and call.arguments != "{}":
                t.append(" " + one_line(call.arguments, 160), style=self._s("dim"))
            elif a.forming:
                t.append(" " + one_line(a.forming[-160:], 160) + " ▍", style=self._s("dim"))

    def _tool(self, t: Text, tool: LiveTool) -> None:
        t.append("\n⚒ ", style=self._s("tool"))
        t.append(one_line(tool.name, 40), style=self._s("tool"))
        if tool.result is None:
            t.append("  running…", style=self._s("dim"))
        else:
            t.append("  ERROR" if tool.is_error else "  ok", style=self._s("error" if tool.is_error else "good"))
            if tool.summary:
                t.append("  " + one_line(tool.summary, 120), style=self._s("dim"))
        text = tool.output if tool.result is None or not tool.result else tool.result
        lines, before = tail_lines(text, OUTPUT_LINES)
        if before or tool.cut:
            t.append(f"\n  … {before:,} earlier lines" if before else "\n  … earlier output",
                     style=self._s("dim"))
        for line in lines:
            t.append("\n  " + literal(line[:400]))


class QueuedView(Static):
    """The messages queued for the session's next turn, after everything else:
    tau has not delivered them (they are not messages yet)."""

    def __init__(self, queued: tuple[QueuedMessage, ...], total: int, *,
                 styles: dict[str, str] | None = None) -> None:
        super().__init__(classes="msg -queued")
        self.queued, self.total = queued, total
        self.styles_of_parts = styles or {}
        self.update(self.render_queued())

    def show(self, queued: tuple[QueuedMessage, ...], total: int) -> None:
        if (queued, total) != (self.queued, self.total):
            self.queued, self.total = queued, total
            self.update(self.render_queued())

    def restyle(self, styles: dict[str, str]) -> None:
        if styles != self.styles_of_parts:
            self.styles_of_parts = styles
            self.update(self.render_queued())

    def render_queued(self) -> Text:
        dim = self.styles_of_parts.get("dim", "")
        t = Text()
        n = self.total
        t.append(f"✉ queued, not delivered yet: {n} message{'s' if n != 1 else ''} for the next turn",
                 style=self.styles_of_parts.get("user", ""))
        for q in self.queued:
            when = time.strftime("%H:%M:%S", time.localtime(q.created_at / 1000))
            sender = f" from {one_line(q.sender, 40)}" if q.sender else ""
            t.append(f"\nqueued{sender}  {when}", style=dim)
            t.append("\n" + literal(q.text[:QUEUED_CHARS], multiline=True))
            if q.size > QUEUED_CHARS:
                t.append(f" … ({q.size - QUEUED_CHARS:,} more characters)", style=dim)
        if n > len(self.queued):
            t.append(f"\n… {n - len(self.queued)} more queued", style=dim)
        return t


class SteerView(MessageView):
    """A stored user message that reached its turn as steering (tau drained
    the session's queue between two LLM calls): marked so, in its place."""

    def __init__(self, msg: Message, **kwargs: object) -> None:
        super().__init__(msg, **kwargs)  # type: ignore[arg-type]
        self.add_class("-steer")

    def render_message(self) -> Text:
        t = Text(STEERING + "\n", style=self.styles_of_parts.get("user", ""))
        t.append_text(super().render_message())
        return t
