"""What one line of a ``subscribe`` stream means for a session's live state.

Pure functions: a line and the state before it in, the state after it out,
so the rules of TAU.md §7.4 can be tested without a socket. Phases come from
explicit ``phase`` events (the first answer to a subscribe is one) and are
derived from stream events the way tau's server and terminal client derive
them. Deltas carry the whole partial message, so their bytes grow
quadratically with an answer's length: they are classified by the head of
the line (`Line.stream_type`) and never decoded here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .client import Line, Skipped
from .limits import parse_usage

#: tau's wire phase → its label less the trailing "..." (TAU.md §5.2).
WIRE_LABELS = {
    "Idle": "idle", "Waiting": "waiting", "Preparing": "preparing", "Connecting": "sending request",
    "Thinking": "thinking", "Responding": "working", "ToolExec": "running tools",
    "Compacting": "compacting", "RateLimited": "rate limited",
}
#: Phases derived from stream events (TAU.md §7.4, toolcall_end included).
DERIVED = {
    "thinking_start": "thinking", "thinking_delta": "thinking",
    "text_start": "working", "text_delta": "working", "toolcall_start": "working",
    "toolcall_end": "running tools", "tool_result": "running tools",
}
#: Stream events worth decoding whole: small, or once per tool call.
DECODED = frozenset({"phase", "toolcall_end", "tool_result", "tool_output_delta", "status", "error"})

#: What a line means for its subscription: go on; the session is idle (the
#: turn ended, or there was none); the server is leaving.
GO_ON, IDLE, END = "go on", "idle", "end"
#: tau's answer to a chat it refuses while it shuts down (protocol.rs:590).
SHUTTING_DOWN = "__tau_server_shutting_down__"
#: The notices that say an LLM call tau never stores began (its cost is in no
#: message): a compaction's summary (agent_runner.rs ``run_compaction`` :1385)
#: and the engine's loop review (agent.rs :526-:538, its stream discarded).
UNPRICED = (("compacting session (", "compaction"), ("Loop review at turn ", "loop review"))
#: Pushes that are not about the phase (TAU.md §7.4): what `Step.push` names.
USAGE, SUCCEEDED, USER = "usage", "succeeded", "user"


@dataclass(frozen=True, slots=True)
class LivePhase:
    """One session as tau's server holds it. Times in ms (tau's units)."""

    label: str
    live: bool
    turn_started_ms: int | None = None
    phase_started_ms: int | None = None
    last_event_ms: int = 0
    activity: str = ""  # the newest streamed line: a tool running, its output, a notice


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one line."""

    outcome: str = GO_ON
    phase: LivePhase | None = None  # the new state; None: unchanged
    visible: bool = False  # the change shows on screen (not only the time of the last event)
    answered: bool = False  # the server gave its word on the phase
    problem: str | None = None
    #: A push that is not about the phase: (USAGE, RateLimits), (SUCCEEDED,
    #: successor id) or (USER, text: a chat's prompt, or a queued message fed
    #: into the turn).
    push: tuple[str, object] | None = None
    unpriced: str | None = None  # an unstored LLM call began ("compaction", "loop review")


def read_line(line: Line, old: LivePhase | None, now_ms: int) -> Step:
    """Apply one line of a subscription to the session's state ``old``."""
    kind = line.stream_type
    if kind is not None and kind not in DECODED:
        if old is None:
            return Step()  # before the first phase answer: nothing to hang it on
        label = DERIVED.get(kind, old.label)
        if label != old.label:
            return Step(phase=LivePhase(label, True, old.turn_started_ms, now_ms, now_ms, old.activity),
                        visible=True)
        return Step(phase=LivePhase(old.label, old.live, old.turn_started_ms, old.phase_started_ms,
                                    now_ms, old.activity))
    obj = line.decode()
    if isinstance(obj, Skipped):
        return Step(problem=obj.reason)
    mtype = obj.get("type")
    if mtype == "stream":
        event = obj.get("event")
        return _event(event if isinstance(event, dict) else {}, old, now_ms)
    if mtype == "cancelled":
        # Only ever sent as a run ends (or for a cancel of an idle session),
        # each time followed by Phase Idle (agent_runner.rs:910, dispatch.rs:885).
        return Step(IDLE, LivePhase("idle", False, None, now_ms, now_ms), visible=True)
    if mtype == "agent_done":
        # Not an end by itself: tau also sends it after refusing a chat during
        # shutdown (after an ``error`` with the sentinel) and after a chat to a
        # task's log session (after a ``status`` note), with no run ending and
        # no Idle (dispatch.rs:1036-1070). Every real end is followed by Phase
        # Idle (dispatch.rs:1462, agent_runner.rs:1007, :1301): that ends it.
        return Step()
    if mtype == "server_shutdown":
        return Step(END)
    if mtype == "error" and old is not None:
        message = str(obj.get("message", ""))
        note = "a chat was refused: tau server shutting down" if message == SHUTTING_DOWN else message[:300]
        return Step(phase=LivePhase(old.label, old.live, old.turn_started_ms, old.phase_started_ms,
                                    now_ms, note), visible=True)
    if mtype == "subscription_usage":
        limits = parse_usage(obj, now_ms / 1000)
        return Step(push=(USAGE, limits)) if limits is not None else Step()
    if mtype == "session_succeeded":
        successor = obj.get("successor_id")
        return Step(push=(SUCCEEDED, successor)) if isinstance(successor, str) and successor else Step()
    if mtype == "user_message":
        text = obj.get("text")
        return Step(push=(USER, text)) if isinstance(text, str) else Step()
    return Step()


def _event(event: dict[str, object], old: LivePhase | None, now_ms: int) -> Step:
    etype = event.get("type")
    if etype == "phase":
        wire = event.get("phase")
        label = WIRE_LABELS.get(wire, wire.lower()) if isinstance(wire, str) else "idle"
        if label == "idle":
            return Step(IDLE, LivePhase("idle", False, None, now_ms, now_ms), visible=True, answered=True)
        since = _ms(event.get("phase_started_at_ms")) or now_ms
        turn = _ms(event.get("turn_started_at_ms")) or (old.turn_started_ms if old else None) or since
        # The phase's own start is its sign of life, not the moment we heard of it:
        # the answer to a subscribe reports a phase, it is not an event.
        return Step(phase=LivePhase(label, True, turn, since, since, old.activity if old else ""),
                    visible=True, answered=True)
    if old is None:
        return Step()
    label = DERIVED.get(str(etype), old.label)
    activity = _activity(etype, event) or old.activity
    since = now_ms if label != old.label else old.phase_started_ms
    new = LivePhase(label, True, old.turn_started_ms, since, now_ms, activity[:300])
    unpriced = None
    if etype == "status":
        message = str(event.get("message") or "")
        unpriced = next((kind for head, kind in UNPRICED if message.startswith(head)), None)
    return Step(phase=new, visible=(new.label, new.activity) != (old.label, old.activity),
                unpriced=unpriced)


def _activity(etype: object, event: dict[str, object]) -> str:
    """The newest streamed line an event gives, if any."""
    if etype == "toolcall_end":
        call = event.get("tool_call")
        if isinstance(call, dict):
            return f"{call.get('name', '?')} {_short(call.get('arguments'))}".strip()
    elif etype == "tool_output_delta":
        text = event.get("delta")
        if isinstance(text, str):
            return next((ln for ln in reversed(text.splitlines()) if ln.strip()), "")
    elif etype == "tool_result":
        summary = event.get("summary")
        if summary:  # tau's summaries name their tool ("read: src/lib.rs (42 lines)")
            return str(summary)
    elif etype == "status":
        return str(event.get("message") or "")
    elif etype == "error":
        return error_text(event)
    return ""


def error_text(event: dict[str, object]) -> str:
    """A streamed ``error`` event in words: the failed message's
    ``error_message`` (types.rs ``StreamEvent::Error {reason, error}``; the
    ``reason`` alone is just "error" or "aborted")."""
    failed = event.get("error")
    text = failed.get("error_message") if isinstance(failed, dict) else None
    reason = event.get("reason")
    if isinstance(text, str) and text.strip():
        return f"error: {text}"
    return f"error ({reason})" if isinstance(reason, str) and reason else "error"


def _ms(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _short(args: object) -> str:
    if isinstance(args, dict):
        for key in ("command", "path", "pattern", "file_path", "query"):
            if isinstance(args.get(key), str):
                return str(args[key])[:200]
    return ""
