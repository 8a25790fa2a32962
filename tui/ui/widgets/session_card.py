"""One session's pane: role, phase, counts, exit status, newest messages.

Also what tau keeps beside the session's messages: "retired → s43" (its
successor), the messages queued for its next turn ("✉ 2 queued · oldest 14m"),
and the LLM calls its stream showed that tau never stores, so that its cost
leaves them out ("+1 unpriced").
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from .. import format as fmt
from ...model.snapshots import Message, SessionPane
from ...notify.marks import StalledPane
from ...model.text import one_line


def unpriced_words(unpriced: tuple[int, int]) -> str:
    """"1 compaction, 2 loop reviews": LLM calls seen whose cost tau never stores."""
    compactions, reviews = unpriced
    bits = []
    if compactions:
        bits.append(f"{compactions} compaction{'s' if compactions > 1 else ''}")
    if reviews:
        bits.append(f"{reviews} loop review{'s' if reviews > 1 else ''}")
    return ", ".join(bits)


def queued_words(count: int, since_ms: int | None, now: float) -> str:
    """"✉ 2 queued · oldest 14m": waiting for the next turn, not delivered yet."""
    what = f"✉ {count} queued"
    if since_ms is not None:
        what += f" · oldest {fmt.age(since_ms / 1000, now)}"
    return what


def message_line(msg: Message, width: int) -> tuple[str, str, str]:
    """(marker, text, tone) of one message in a one-line summary."""
    if msg.role == "user":
        return "›", one_line(msg.text, width), "user"
    if msg.role == "assistant":
        if msg.tool_calls:
            call = msg.tool_calls[-1]
            return "⚒", one_line(f"{call.name} {call.arguments}", width), "tool"
        if msg.text:
            return "‹", one_line(msg.text, width), "assistant"
        if msg.thinking:
            return "✻", one_line(msg.thinking, width), "dim"
        return "‹", one_line(msg.error or f"({msg.stop_reason or 'empty'})", width), "assistant"
    if msg.role == "tool_result":
        # tau's summaries name their tool already ("read: src/lib.rs (42 lines)")
        head = msg.summary if msg.summary.startswith(f"{msg.tool_name}:") else \
            f"{msg.tool_name}: {msg.summary or msg.text}"
        return ("✗" if msg.is_error else "✓"), one_line(head, width), ("bad" if msg.is_error else "dim")
    if msg.role == "compaction_summary":
        return "⇊", one_line(f"compacted {msg.summary}", width), "dim"
    if msg.role == "info":
        return "ⓘ", one_line(msg.text, width), "dim"
    return "?", one_line(msg.error or msg.text, width), "bad"


def _clock_shown(pane: SessionPane, now: float) -> object:
    """What of the clock the pane's text shows: a live, queued or stalled one
    moves every second (its spinner and times); an idle one only when its
    age's words do ("active 3m ago"). The task screen ticks every pane every
    second: with ~50 panes, rebuilding each took ~20 ms of the app's loop."""
    info = pane.info
    if info.is_live or info.queued or isinstance(pane, StalledPane):
        return int(now)
    if info.gone:
        return fmt.age(info.created_at / 1000, now)
    return fmt.age(info.last_activity, now)


class SessionCard(Static):
    """Renders a `SessionPane`; re-renders only when the pane or the clock moved."""

    COMPONENT_CLASSES = {
        "card--role", "card--id", "card--live", "card--phase", "card--good", "card--bad",
        "card--warn", "card--dim", "card--user", "card--assistant", "card--tool", "card--unknown",
        "card--none",
    }

    def __init__(self, pane: SessionPane, now: float) -> None:
        super().__init__()
        self.pane = pane
        self._now = now
        self._rendered_key: tuple[object, ...] | None = None
        self._shown: Text | None = None
        #: The most lines this card has shown for its session (see `_show`).
        self._tallest = 0

    def on_mount(self) -> None:
        self._rerender()

    def _s(self, name: str) -> str:
        return str(self.get_component_rich_style(f"card--{name}", partial=True))

    def set_pane(self, pane: SessionPane, now: float) -> None:
        if pane.info.session_id != self.pane.info.session_id:
            self._tallest = 0  # another session's pane: its own height
        self.pane = pane
        self._now = now
        self._rerender()

    def tick(self, now: float) -> None:
        self._now = now
        self._rerender()

    def _rerender(self) -> None:
        if not self.is_mounted:
            return
        pane, now = self.pane, self._now
        info = pane.info
        key = (pane, _clock_shown(pane, now), self.size.width)
        if key == self._rendered_key:
            return
        self._rendered_key = key
        self.set_class(info.is_live, "-live")
        self.set_class(bool(info.archived), "-archived")
        self.set_class(info.gone, "-gone")
        width = max(20, self.size.width)
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f" {one_line(info.role, 14)} ", style=self._s("role"))
        t.append(f" {one_line(info.session_id, 24)}", style=self._s("id"))
        if info.gone:
            t.append("\nsession gone", style=self._s("warn"))
            t.append(" (not in tau.db any more)", style=self._s("dim"))
            t.append(f"\nadded {fmt.age(info.created_at / 1000, now)} ago", style=self._s("dim"))
            self._show(t)
            return
        if not info.tau_loads:
            # tau's get_session fails on its model_json: task_get leaves the row out.
            t.append("  ⚠ tau cannot load it", style=self._s("warn"))
        t.append("\n")
        if info.is_live:
            t.append(f"{fmt.spinner(now)} {one_line(info.last_phase, 20)}", style=self._s("live"))
            t.append(f" {fmt.live_times(pane.phase_since, pane.turn_since, now)}", style=self._s("dim"))
        else:
            phase = fmt.phase_word(info.last_phase, pane.phase_source)
            t.append(f"{fmt.PHASE_GLYPH.get(info.last_phase or '', '·')} {one_line(phase, 40)}",
                     style=self._s("dim"))
        if info.archived:
            t.append("  archived", style=self._s("dim"))
        if info.successor_id:  # tau forwards its messages there (notifications.rs)
            t.append(f"  retired → {one_line(info.successor_id, 24)}", style=self._s("warn"))
        if info.queued:
            t.append("\n" + queued_words(info.queued, info.queued_since, now),
                     style=self._s("dim" if info.is_live else "warn"))
        if isinstance(pane, StalledPane):
            # Quiet past its threshold: a flag for the operator, nothing is done to it.
            t.append(f"\n⚠ stalled: quiet {fmt.age(pane.stalled_since, now)}", style=self._s("warn"))
            t.append(f" (limit {fmt.age(now - pane.stall_after_s, now)})", style=self._s("dim"))
        if info.last_exit_status:
            # The previous turn's outcome (tau does not clear it when a turn
            # starts, and only socket chats have one): a line of its own.
            t.append("\nlast turn ", style=self._s("dim"))
            t.append(one_line(info.last_exit_status, 24), style=self._s(fmt.exit_tone(info.last_exit_status)))
        if info.is_live and pane.activity:
            t.append("\n» ", style=self._s("live"))
            t.append(one_line(pane.activity, width - 2))
        if pane.tagline:
            t.append("\n" + one_line(pane.tagline, width))
        t.append("\n")
        more = "" if pane.usage_complete else "+"  # still being summed
        if pane.unreadable:
            # tau reads the whole history as empty: its record says 0.
            t.append(f"{info.message_count} msgs", style=self._s("warn"))
            t.append(f" ({pane.unreadable} of {pane.rows} rows unreadable)", style=self._s("dim"))
            t.append("\n")
        else:
            t.append(f"{info.message_count} msgs · ", style=self._s("dim"))
        t.append(f"{fmt.tokens(pane.tokens)}{more} tok · {fmt.cost(pane.cost)}{more}", style=self._s("dim"))
        if any(pane.unpriced):  # seen on its stream; their cost is in no message
            t.append(f" +{sum(pane.unpriced)} unpriced", style=self._s("warn"))
        if pane.context_pct is not None:
            t.append(" · ctx ", style=self._s("dim"))
            t.append(f"{pane.context_pct:.0f}%", style=self._s(fmt.context_tone(pane.context_pct)))
        if pane.use is not None and pane.tokens and width >= 46:
            t.append(f"\n{fmt.token_parts(pane.use)}", style=self._s("dim"))
        t.append(f"\nactive {fmt.age(info.last_activity, now)} ago", style=self._s("dim"))
        if pane.model:
            t.append(f" · {one_line(pane.model, max(8, width - 20))}", style=self._s("dim"))
        for msg in pane.recent:
            marker, text, mtone = message_line(msg, width - 2)
            t.append(f"\n{marker} ", style=self._s(mtone))
            t.append(text, style=self._s(mtone) if mtone in ("dim", "bad") else "")
        self._show(t)

    def _show(self, t: Text) -> None:
        """Update only if the text changed (the clock ticks every second).

        Lines never wrap (``text-wrap: nowrap`` in the stylesheet), so the
        card's height is its number of lines: the grid is laid out again only
        when that changes, and an age that ticks costs a repaint of one card.
        A card does not shrink while it shows the same session: a turn's end
        drops its activity and newest messages, the next turn brings them
        back, and each change of height lays the whole grid out again (the
        panes below it jump, and on a screen of ~50 panes the layout and the
        full repaint it sets off took most of a turn start's time to screen).
        """
        lines = t.plain.count("\n") + 1
        if lines < self._tallest:
            t.append("\n" * (self._tallest - lines))
        self._tallest = max(self._tallest, lines)
        if t == self._shown:
            return
        same_height = self._shown is not None and self._shown.plain.count("\n") == t.plain.count("\n")
        self._shown = t
        self.update(t, layout=not same_height)

    def on_resize(self) -> None:
        self._rerender()
