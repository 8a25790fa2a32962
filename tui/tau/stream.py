"""The turn streaming now in the open transcript's session, from its subscription.

tau stores a message only when it is whole (TAU.md §3); what is being written
is visible only on the ``subscribe`` stream (§7.4). One `TurnStream` gathers
it for the one session whose transcript is open:

- every ``*_start`` / ``*_delta`` / ``*_end`` / ``done`` / ``error`` event
  carries the *whole* assistant message so far, so only the newest line is
  kept, as raw bytes, and decoded once per read of the screen (never per
  event: a 4,000-token answer would otherwise decode quadratically many bytes);
- a tool call's arguments arrive only as ``toolcall_delta`` pieces (the
  partial's arguments stay ``{}`` until ``toolcall_end``): the piece is read
  from the head of the line, without decoding the partial after it;
- streamed tool output is appended per call (a bounded tail), then the result;
- status notices (retries, compaction, the tool-use limit) are kept, a few,
  and a failed answer's ``error_message`` with them;
- a message tau feeds into the running turn (its queue drained between two
  LLM calls, agent.rs ``drain_queued``: the engine's ``SteerMessage``, which
  the server forwards as ``user_message``, agent_runner.rs :626) is kept
  where it landed, as steering; tau stored it just before it said so, and its
  stored copy is then marked as steering in its place (`steered`).

What tau has stored is dropped (`cover`): an answer by its timestamp (the
stored message has the partial's), a tool by its call id, a steering message
by its text (the newest stored user message with that text, read within a
minute of it: tau stores it a moment before it says so; the times are this
process's, tau's clock is not trusted). So the screen shows each thing once,
streamed until it is stored, stored after.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field

from ..model.snapshots import LiveAnswer, LiveSteer, LiveTool, LiveTurn, ToolCall
from .client import Line
from .events import error_text

#: Events that carry the whole partial assistant message.
PARTIAL = frozenset({"start", "text_start", "text_delta", "text_end", "thinking_start", "thinking_delta",
                     "thinking_end", "toolcall_start", "toolcall_delta", "toolcall_end", "done", "error"})
#: Streamed output kept per tool call (characters): the tail a screen shows.
OUTPUT_TAIL = 32_000
#: Tool calls and notices kept for one turn.
MAX_TOOLS = 64
MAX_NOTICES = 6
#: An answer finished (or a turn ended) this long ago (ms) and not seen stored
#: is let go: tau stores it at once, so it is there under another look.
LINGER_MS = 10_000
#: A steering message's stored copy is read within this of its arrival (ms):
#: tau stores the drained message, then says so (db.rs ``drain_queued_messages``).
STEER_MATCH_MS = 60_000
_DECODER = json.JSONDecoder()


@dataclass(slots=True)
class _Answer:
    stamp: int
    raw: bytes = b""  # the newest line carrying this answer's partial
    kind: str = "start"
    forming: list[str] = field(default_factory=list)  # the tool call's argument pieces
    done_ms: int | None = None
    view: LiveAnswer | None = None  # the decoded raw, until the next line


@dataclass(slots=True)
class _Tool:
    call_id: str
    name: str
    output: deque[str] = field(default_factory=deque)
    size: int = 0
    cut: int = 0
    result: str | None = None
    is_error: bool = False
    summary: str = ""
    done_ms: int | None = None


@dataclass(slots=True)
class _Steer:
    text: str
    done_ms: int  # when it arrived: it is whole


class TurnStream:
    """What one session streams and tau has not stored yet."""

    def __init__(self) -> None:
        self._parts: list[_Answer | _Tool | _Steer] = []
        self._tools: dict[str, _Tool] = {}
        self._notices: deque[str] = deque(maxlen=MAX_NOTICES)
        self._covered_stamps: deque[int] = deque(maxlen=256)
        self._covered_calls: deque[str] = deque(maxlen=256)
        self._stored_users: deque[tuple[int, str, int]] = deque(maxlen=64)  # (id, text, read at ms)
        self.steered: deque[int] = deque(maxlen=256)  # stored user messages that came as steering
        self.ended_ms: int | None = None
        self.seq = 0

    # --- lines in ---------------------------------------------------------------------

    def take(self, line: Line, now_ms: int) -> bool:
        """Apply one line of the subscription; True if what is shown changed."""
        kind = line.stream_type
        if kind in PARTIAL:
            return self._partial(kind, line, now_ms)
        if kind in ("tool_output_delta", "tool_result", "status"):
            obj = line.decode()
            event = obj.get("event") if isinstance(obj, dict) else None
            if not isinstance(event, dict):
                return False
            if kind == "status":
                text = event.get("message")
                if not isinstance(text, str) or not text:
                    return False
                self._notices.append(text[:300])
            else:
                self._tool_event(kind, event, now_ms)
            return self._moved()
        return False

    def _partial(self, kind: str, line: Line, now_ms: int) -> bool:
        if kind == "start":
            obj = line.decode()  # small: the message has no content yet
            event = obj.get("event") if isinstance(obj, dict) else None
            partial = event.get("partial") if isinstance(event, dict) else None
            stamp = partial.get("timestamp") if isinstance(partial, dict) else None
            if not isinstance(stamp, int) or isinstance(stamp, bool):
                return False
            for part in self._parts:  # an answer that never said done: it is over
                if isinstance(part, _Answer) and part.done_ms is None:
                    part.done_ms = now_ms
            if stamp in self._covered_stamps:
                return False
            self._parts.append(_Answer(stamp, line.raw, kind))
            self.ended_ms = None
            return self._moved()
        if kind == "error":
            # Why the answer failed is in the failed message's error_message,
            # not in the event's reason ("error"): said as a notice of the turn.
            obj = line.decode()  # once per failed answer
            event = obj.get("event") if isinstance(obj, dict) else None
            if isinstance(event, dict):
                self._notices.append(error_text(event)[:300])
        answer = self._current()
        if answer is None:
            return kind == "error" and self._moved()  # subscribed mid-answer: the next start begins the picture
        answer.raw, answer.kind, answer.view = line.raw, kind, None
        if kind == "toolcall_delta":
            answer.forming.append(_delta_of(line.raw))
        elif kind in ("toolcall_start", "toolcall_end"):
            answer.forming.clear()
        if kind in ("done", "error"):
            answer.done_ms = now_ms
        return self._moved()

    def steer(self, text: str, now_ms: int) -> bool:
        """tau fed ``text`` into the running turn; True if what is shown changed."""
        stored = self._stored_copy(text, now_ms)
        if stored is not None:
            if stored not in self.steered:
                self.steered.append(stored)
            return self._moved()
        self._parts.append(_Steer(text[:4000], now_ms))
        return self._moved()

    def _stored_copy(self, text: str, at_ms: int) -> int | None:
        """The id of the stored user message that is this steering message: the
        newest with its text read around its arrival, not already taken."""
        best: int | None = None
        for mid, stored, seen in self._stored_users:
            if (stored == text[:4000] and seen >= at_ms - STEER_MATCH_MS and mid not in self.steered
                    and (best is None or mid > best)):
                best = mid
        return best

    def _tool_event(self, kind: str, event: dict[str, object], now_ms: int) -> None:
        call_id = str(event.get("tool_call_id") or "")
        if not call_id or call_id in self._covered_calls:
            return
        tool = self._tools.get(call_id)
        if tool is None:
            tool = _Tool(call_id, str(event.get("tool_name") or self._call_name(call_id)))
            self._tools[call_id] = tool
            self._parts.append(tool)
            while len(self._tools) > MAX_TOOLS:
                self._drop_tool(next(iter(self._tools)))
        if kind == "tool_output_delta":
            text = event.get("delta")
            if isinstance(text, str):
                tool.output.append(text)
                tool.size += len(text)
                while tool.size > OUTPUT_TAIL and len(tool.output) > 1:
                    old = tool.output.popleft()
                    tool.size -= len(old)
                    tool.cut += len(old)
        else:
            content = event.get("content")
            tool.result = content[:OUTPUT_TAIL] if isinstance(content, str) else ""
            tool.is_error = bool(event.get("is_error"))
            tool.summary = str(event.get("summary") or "")
            tool.done_ms = now_ms

    def ended(self, now_ms: int) -> bool:
        """The turn is over (agent_done, cancelled, Idle): an answer that never
        finished is not stored (a cancel), the rest is stored soon."""
        self.ended_ms = now_ms
        before = len(self._parts)
        self._parts = [p for p in self._parts if not (isinstance(p, _Answer) and p.done_ms is None)]
        self._tools = {k: t for k, t in self._tools.items() if t in self._parts}
        if len(self._parts) != before:
            self._moved()
        return True

    def _moved(self) -> bool:
        self.seq += 1
        return True

    # --- the disk says what is stored -------------------------------------------------------

    def cover(self, stamps: set[int], call_ids: set[str],
              users: tuple[tuple[int, str], ...] = (), now_ms: int = 0) -> None:
        """Drop what tau has stored: answers with these timestamps, these tool
        calls, steering messages among these user messages (id, text), read now."""
        known = {mid for mid, _, _ in self._stored_users}
        for mid, text in users:
            if mid not in known:
                self._stored_users.append((mid, text[:4000], now_ms))
        for s in stamps:
            if s not in self._covered_stamps:
                self._covered_stamps.append(s)
        for c in call_ids:
            if c not in self._covered_calls:
                self._covered_calls.append(c)
        keep: list[_Answer | _Tool | _Steer] = []
        for part in self._parts:
            if isinstance(part, _Steer):
                stored = self._stored_copy(part.text, part.done_ms)
                if stored is not None:
                    if stored not in self.steered:
                        self.steered.append(stored)
                    continue
            if isinstance(part, _Answer) and part.stamp in stamps:
                continue
            if isinstance(part, _Tool) and part.call_id in call_ids:
                self._tools.pop(part.call_id, None)
                continue
            keep.append(part)
        if len(keep) != len(self._parts):
            self._parts = keep
            self._moved()

    def _drop_tool(self, call_id: str) -> None:
        tool = self._tools.pop(call_id, None)
        if tool is not None:
            self._parts.remove(tool)

    # --- what the screen shows ---------------------------------------------------------------

    def view(self, now_ms: int) -> LiveTurn | None:
        """The parts not stored yet, decoded; None when there are none."""
        self._expire(now_ms)
        if not self._parts and (not self._notices or self.ended_ms is not None):
            return None
        parts = tuple(_answer_view(p) if isinstance(p, _Answer) else
                      LiveSteer(p.text) if isinstance(p, _Steer) else _tool_view(p) for p in self._parts)
        return LiveTurn(parts=parts, notices=tuple(self._notices), running=self.ended_ms is None,
                        seq=self.seq)

    def _expire(self, now_ms: int) -> None:
        def stale(p: _Answer | _Tool | _Steer) -> bool:
            done = p.done_ms if p.done_ms is not None else self.ended_ms
            return done is not None and now_ms - done > LINGER_MS
        if any(stale(p) for p in self._parts):
            self._parts = [p for p in self._parts if not stale(p)]
            self._tools = {k: t for k, t in self._tools.items() if t in self._parts}
            self._moved()

    def _current(self) -> _Answer | None:
        for part in reversed(self._parts):
            if isinstance(part, _Answer):
                return part if part.done_ms is None else None
        return None

    def _call_name(self, call_id: str) -> str:
        for part in reversed(self._parts):
            if isinstance(part, _Answer):
                for call in _answer_view(part).tool_calls:
                    if call.id == call_id:
                        return call.name
        return "tool"


def _delta_of(raw: bytes) -> str:
    """The ``delta`` string of a toolcall_delta line, read from its head: serde
    writes content_index, delta, then the (long) partial."""
    at = raw.find(b'"delta":', 0, 200)
    if at < 0:
        return ""
    try:
        text = raw[at + 8:at + 8 + 64 * 1024].decode("utf-8", errors="ignore")
        value, _ = _DECODER.raw_decode(text)
    except ValueError:
        return ""
    return value if isinstance(value, str) else ""


def _answer_view(part: _Answer) -> LiveAnswer:
    """The answer as its newest line has it (decoded once per line)."""
    if part.view is not None:
        return part.view
    text, thinking, calls = [], [], []
    try:
        obj = json.loads(part.raw) if part.raw else {}
    except (ValueError, RecursionError):
        obj = {}  # a garbled line: the answer shows as far as the last good one went
    event = obj.get("event") if isinstance(obj, dict) else None
    message = None
    if isinstance(event, dict):
        message = event.get("partial") or event.get("message") or event.get("error")
    content = message.get("content") if isinstance(message, dict) else None
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            text.append(str(block.get("text", "")))
        elif kind == "thinking":
            thinking.append(str(block.get("thinking", "")))
        elif kind == "tool_call":
            args = block.get("arguments")
            shown = json.dumps(args, ensure_ascii=False, separators=(",", ":")) if args else ""
            calls.append(ToolCall(id=str(block.get("id", "")), name=str(block.get("name", "?")),
                                  arguments=shown[:4000]))
    forming = "".join(part.forming)[-4000:] if part.kind == "toolcall_delta" else ""
    part.view = LiveAnswer(stamp=part.stamp, text="\n".join(text), thinking="\n".join(thinking),
                           tool_calls=tuple(calls), forming=forming, done=part.done_ms is not None)
    return part.view


def _tool_view(tool: _Tool) -> LiveTool:
    return LiveTool(call_id=tool.call_id, name=tool.name, output="".join(tool.output), cut=tool.cut,
                    result=tool.result, is_error=tool.is_error, summary=tool.summary)
