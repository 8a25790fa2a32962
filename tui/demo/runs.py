"""One agent run, as tau's server drives it, tick by tick.

Why: in tau the interesting truth (thinking, streaming text, running tools)
lives only in the server's memory and on the socket; the disk sees six phase
labels and whole messages (TAU.md §5). A ``Run`` replays that split: each tick
emits at most one stream event, and the disk is written only where tau writes
it (phase at start/end, each complete message, exit status for chats).

A run is a generator, so its whole script reads top to bottom in the order of
dispatch.rs ``Chat`` / agent_runner.rs ``run_child_chat``. Each tick yields
True when it wrote to disk, which is what ``DemoFleet.step()`` advances to.
Its content comes from its own seeded RNG, so disk results do not depend on
how ticks of different runs interleave.

Its pace is a real turn's, so that a newcomer can open a running session and
watch it: a second or so before the first token, an answer streamed at a
reader's pace, a tool running as long as its duration says (a test run: many
seconds, its output line by line), a few LLM calls a turn: tens of seconds
(`tests/test_demo_pace.py` holds it). Before each LLM call the engine drains
the session's queue (`tui.demo.queueing`): steering.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any, Protocol

from . import content as c

#: How a turn ends. The exit status a chat session gets for each (dispatch.rs):
#: a provider error stored as an assistant message still ends the turn "completed".
OUTCOMES: dict[str, str] = {"completed": "completed", "llm_error": "completed", "max_turns": "max_turns",
                            "cancelled": "cancelled", "error": "error", "panicked": "panicked",
                            "succeeded": "succeeded"}
#: Where a resumed run picks up, from its persisted phase and last message.
MODES = ("start", "prepared", "throttled", "resume", "llm", "tools", "compacting")
#: Ticks between a run going live and its prompt (or, for a resume, its
#: Connecting): tau loads the history and starts the session's plugins there
#: (agent_runner.rs run_child_chat :758-:840, resume_child_session :1064-).
LOAD_TICKS = (3, 8)
#: One stream tick at speed 1 (ms): `tui.demo.fleet.STREAM_INTERVAL_S`.
TICK_MS = 70
#: A turn's pace, in ticks: from an LLM call to its first token; between two
#: deltas (15-40 characters each: a reader's pace); a tool at least this long
#: (and as long as its duration, a test run many seconds); LLM calls a turn;
#: a compaction's summary call.
FIRST_TOKEN_TICKS = (35, 90)
DELTA_TICKS = (2, 4)
TOOL_TICKS = (25, 70)
ROUNDS = (2, 4)
SUMMARY_TICKS = (40, 110)


class Sink(Protocol):
    """Where a run's effects go: the server's memory and socket, and the disk.

    Event and message dicts share the run's growing partial message: a sink
    must serialise them before it returns (as tau sends each event at once).
    """

    def now(self) -> int: ...
    def phase(self, sid: str, wire: str, *, persist: bool, turn_ms: int | None = None) -> None: ...
    def event(self, sid: str, event: dict[str, Any]) -> None: ...
    def send(self, sid: str, msg: dict[str, Any]) -> None: ...
    def live(self, sid: str, on: bool) -> None: ...
    def write(self, sid: str, msgs: list[c.Msg]) -> None: ...
    def exit_status(self, sid: str, status: str) -> None: ...
    def chat_tagline(self, sid: str, text: str) -> None: ...
    def compact(self, sid: str, summary: str, tokens_before: int, *,
                dry_run: bool = False) -> tuple[int, int] | None: ...
    def succeed(self, sid: str) -> str: ...
    def drain(self, sid: str) -> list[str]: ...
    def queue(self, target: str, content: str, sender: str) -> str: ...


class Run:
    """One turn of one session, advanced one tick at a time."""

    def __init__(self, sink: Sink, sid: str, ctx: c.Ctx, rng: random.Random, *, chat: bool,
                 first: bool, n_msgs: int, outcome: str, mode: str = "start",
                 pending: list[dict[str, Any]] | None = None, compact: bool = False,
                 throttle: bool | None = None, rounds: int | None = None,
                 load_ticks: int | None = None) -> None:
        if outcome not in OUTCOMES or mode not in MODES:
            raise ValueError(f"bad run: {outcome}/{mode}")
        self.sink, self.sid, self.ctx, self.rng = sink, sid, ctx, rng
        self.chat, self.first, self.n_msgs = chat, first, n_msgs
        self.outcome, self.mode, self.pending = outcome, mode, list(pending or ())
        self.compact_after = mode == "compacting" or (compact and chat and outcome in ("completed", "max_turns"))
        self.queued_chats = 0  # chats waiting for this run's lock (dispatch.rs emits Waiting)
        self.done = False
        self.rounds = rounds if rounds is not None else rng.randint(*ROUNDS)
        self.throttle = throttle
        self.load_ticks = load_ticks if load_ticks is not None else rng.randint(*LOAD_TICKS)
        self._script = self._main()

    # driving

    def tick(self) -> bool:
        """Advance one tick; True if it wrote to the disk."""
        if self.done:
            return False
        try:
            return next(self._script)
        except StopIteration:
            self.done = True
            return False

    def flush(self, limit: int = 10_000) -> bool:
        """Advance to the next disk write (or the end); True if one happened."""
        for _ in range(limit):
            if self.done:
                return False
            if self.tick():
                return True
        return False

    # the script

    def _main(self) -> Iterator[bool]:
        """tau's order (TAU.md §5.2a): live first, with no phase (a subscribe
        answers Idle); history and plugins; the prompt; only then Connecting,
        which persists ``sending request``."""
        s, sid, mode = self.sink, self.sid, self.mode
        if mode == "start":
            s.live(sid, True)  # agent_runner.rs:758 (dispatch.rs Chat: before Preparing)
            if self.chat:
                s.phase(sid, "Preparing", persist=True)
                yield True
            yield from self._wait(self.load_ticks)
            mode = "prepared"
        if mode == "prepared":
            text = c.prompt(self.rng, self.ctx, self.first)
            s.write(sid, [c.user(text, s.now())])  # agent_runner.rs:840
            if self.chat:
                s.chat_tagline(sid, c.chat_tagline(text))
            s.send(sid, {"type": "user_message", "text": text})
            self.n_msgs += 1
            yield True
            if self.throttle if self.throttle is not None else self.rng.random() < 0.06:
                yield from self._throttle()
            mode = "connect"
        if mode == "throttled":  # picked up asleep in the provider throttle
            yield from self._wait(self.rng.randint(3, 8))
            mode = "connect"
        if mode == "resume":  # resume_child_session: no new user message
            s.live(sid, True)  # agent_runner.rs:1064
            yield from self._wait(self.load_ticks)
            mode = "connect"
        if mode == "connect":
            # run_agent_turn_inner :404, once per run: a resume after a crash
            # writes the same `sending request` the crash left.
            s.phase(sid, "Connecting", persist=True)
            yield True
            mode = "tools" if self.pending else "llm"
        if mode == "tools" and self.pending:
            yield from self._tools(self.pending)
            mode = "llm"
        if mode == "llm":
            for k in range(self.rounds):
                last = k == self.rounds - 1
                drained = s.drain(sid)  # agent.rs: the queue, before every LLM call
                if drained:
                    for text in drained:  # SteerMessage → user_message, after the drain's commit
                        s.send(sid, {"type": "user_message", "text": text})
                    self.n_msgs += len(drained)
                    yield True
                s.phase(sid, "Connecting", persist=False)  # the engine, before every LLM call
                yield False
                yield from self._wait(self.rng.randint(*FIRST_TOKEN_TICKS))
                if self.rng.random() < 0.05:
                    yield from self._retry()
                if last and self.outcome in ("error", "panicked"):
                    yield from self._wait(self.rng.randint(4, 10))
                    break
                ending = last and self.outcome in ("completed", "llm_error", "cancelled")
                calls = yield from self._call(ending=ending, last=last)
                if calls is None:  # cancelled mid-stream, or the provider failed
                    break
                if calls:
                    yield from self._tools(calls)
            mode = "compacting" if self.compact_after else "end"
        if mode == "compacting":
            yield from self._compaction(resumed=self.mode == "compacting")
        yield from self._end()

    def _wait(self, n: int) -> Iterator[bool]:
        for _ in range(n):
            yield False

    def _status(self, text: str) -> None:
        self.sink.event(self.sid, {"type": "status", "message": text})

    def _throttle(self) -> Iterator[bool]:
        """agent_runner.rs: the provider throttle makes the run sleep before it starts."""
        secs = self.rng.randint(5, 40)
        self._status(f"provider '{self.ctx.model['provider']}' rate limited, retrying in {secs}s...")
        self.sink.phase(self.sid, "RateLimited", persist=True)
        yield True
        yield from self._wait(self.rng.randint(6, 14))

    def _retry(self) -> Iterator[bool]:
        """The engine's retry backoff: RateLimited in memory only, with a countdown."""
        self.sink.phase(self.sid, "RateLimited", persist=False)
        err = self.rng.choice(("HTTP 429: rate_limit_error", "HTTP 529: overloaded_error"))
        for secs in range(self.rng.randint(2, 4), 0, -1):
            self._status(f"Retrying (attempt 1/5) in {secs}s... (retryable error: {err})")
            yield False
            yield from self._wait(2)
        self.sink.phase(self.sid, "Connecting", persist=False)
        yield False

    def _call(self, *, ending: bool, last: bool) -> Iterator[bool]:
        """Stream one LLM response; store it whole at the end. Returns its tool calls,
        [] when the turn is over, None when it stopped without a stored answer."""
        s, sid, rng, ctx = self.sink, self.sid, self.rng, self.ctx
        model = ctx.model
        started = s.now()
        use = c.roll_usage(rng, model, self.n_msgs)
        out_total = use["output"]
        partial = c.assistant(model, [], c.usage(model, use["input"], 0, use["cache_read"], use["cache_write"]),
                              "stop", started, response_id=c.response_id(rng, model))
        del partial["role"]
        blocks: list[tuple[str, Any]] = []
        if model["thinking"] != "none" and rng.random() < 0.6:
            blocks.append(("thinking", c.thinking_text(rng, ctx)))
        stop_cancel = ending and self.outcome == "cancelled"
        if ending and self.outcome in ("completed", "cancelled"):
            blocks.append(("text", c.final_text(ctx)))
        elif ending:  # llm_error: part of an answer, then the provider fails
            blocks.append(("text", c.lead_text(rng, ctx)))
        else:
            blocks.append(("text", c.lead_text(rng, ctx)))
            name = "session_succeed" if self.outcome == "succeeded" and last else None
            if name is None and ctx.role == "orchestrator" and rng.random() < 0.3:
                name = "task_create"
            for _ in range(1 if name else rng.choice((1, 1, 1, 2))):
                blocks.append(("tool_call", c.tool_call(rng, ctx, name)))
        s.event(sid, {"type": "start", "partial": partial})
        yield False
        cancel_at = rng.randint(2, 6) if stop_cancel else -1
        emitted = 0
        for kind, body in blocks:
            ci = len(partial["content"])
            tag = {"thinking": "thinking", "text": "text", "tool_call": "toolcall"}[kind]
            if kind == "tool_call":
                partial["content"].append({**body, "arguments": {}})
                chunks = _chunks(rng, json.dumps(body["arguments"], separators=(",", ":")), 12, 24)
            else:
                partial["content"].append({"type": kind, kind: ""})
                chunks = _chunks(rng, body, 14, 36)
            s.event(sid, {"type": f"{tag}_start", "content_index": ci, "partial": partial})
            yield False
            for chunk in chunks:
                if kind != "tool_call":
                    partial["content"][ci][kind] += chunk
                partial["usage"] = c.usage(model, use["input"], min(out_total, partial["usage"]["output"]
                                                                    + max(1, len(chunk) // 4)),
                                           use["cache_read"], use["cache_write"])
                s.event(sid, {"type": f"{tag}_delta", "content_index": ci, "delta": chunk,
                              "partial": partial})
                yield False
                yield from self._wait(self.rng.randint(*DELTA_TICKS) - 1)
                emitted += 1
                if emitted == cancel_at:
                    yield from self._cancelled()
                    return None
            if kind == "thinking":
                if model["provider"] == "anthropic":
                    partial["content"][ci]["thinking_signature"] = c.signature(rng)
                s.event(sid, {"type": "thinking_end", "content_index": ci, "content": body,
                              "partial": partial})
            elif kind == "text":
                s.event(sid, {"type": "text_end", "content_index": ci, "content": body,
                              "partial": partial})
            else:
                partial["content"][ci]["arguments"] = body["arguments"]
                s.event(sid, {"type": "toolcall_end", "content_index": ci, "tool_call": _call_of(body),
                              "partial": partial})
            yield False
        calls = [b for k, b in blocks if k == "tool_call"]
        partial["usage"] = use
        if ending and self.outcome == "llm_error":
            partial["stop_reason"] = "error"
            partial["error_message"] = c.error_text(rng)
            s.event(sid, {"type": "error", "reason": "error", "error": partial})
        else:
            partial["stop_reason"] = "tool_use" if calls else ("length" if rng.random() < 0.04 else "stop")
            s.event(sid, {"type": "done", "reason": partial["stop_reason"], "message": partial})
        s.write(sid, [{"role": "assistant", **partial}])
        self.n_msgs += 1
        yield True
        if partial["stop_reason"] == "error":
            return None
        return calls

    def _tools(self, calls: list[dict[str, Any]]) -> Iterator[bool]:
        """Run each tool call; bash streams its output; each result is stored when done."""
        s, sid = self.sink, self.sid
        for call in calls:
            run = c.run_tool(self.rng, self.ctx, call)
            ticks = max(self.rng.randint(*TOOL_TICKS), run.duration_ms // TICK_MS)
            step = ticks // (len(run.lines) + 1)
            yield from self._wait(step if run.lines else ticks)
            for line in run.lines:
                s.event(sid, {"type": "tool_output_delta", "tool_call_id": call["id"], "delta": line})
                yield False
                yield from self._wait(step)
            if call["name"] == "session_succeed":
                # worker.rs: SucceedSession (the successor, the link, the info
                # line, then the push), then the handoff queued for it, which
                # resumes it; the tool's result comes after.
                successor = s.succeed(sid)
                s.send(sid, {"type": "session_succeeded", "successor_id": successor})
                s.queue(successor, c.handoff(self.rng, self.ctx), f"session_succeed from {sid}")
            s.event(sid, {"type": "tool_result", "tool_call_id": call["id"], "tool_name": call["name"],
                          "is_error": run.is_error, "content": run.text, "summary": run.summary})
            s.write(sid, [c.tool_result(call, run.text, run.is_error, s.now(), run.duration_ms, run.summary)])
            self.n_msgs += 1
            yield True

    def _cancelled(self) -> Iterator[bool]:
        """cancel_chat: the info is stored first; the stream stops and nothing else is stored."""
        self.sink.write(self.sid, [c.info("Session cancelled.", self.sink.now())])
        yield True

    def _compaction(self, *, resumed: bool = False) -> Iterator[bool]:
        """agent_runner.rs ``run_compaction``: only after a socket chat turn."""
        s, sid = self.sink, self.sid
        if not resumed:
            s.phase(sid, "Compacting", persist=True)
            yield True
        tokens_before = self.rng.randint(150_000, 185_000)
        summary = c.compaction_text(self.rng, self.ctx)
        plan = s.compact(sid, summary, tokens_before, dry_run=True)
        if plan is None:  # no cut point: tau silently does nothing
            return
        self._status(f"compacting session ({plan[0]} messages \u2192 summary)...")
        yield from self._wait(self.rng.randint(*SUMMARY_TICKS))  # the summary's LLM call
        done = s.compact(sid, summary, tokens_before)
        if done is not None:
            self._status(f"compaction done: {tokens_before} \u2192 {done[1]} tokens")
        yield True

    def _end(self) -> Iterator[bool]:
        """The terminal messages, in dispatch.rs / run_child_chat order, then Idle."""
        s, sid, outcome = self.sink, self.sid, self.outcome
        if self.chat:
            s.exit_status(sid, OUTCOMES[outcome])
        prefix = "" if self.chat else "child "
        if outcome == "cancelled":
            s.send(sid, {"type": "cancelled"})
        elif outcome in ("error", "panicked"):
            text = ("agent loop panicked: called `Option::unwrap()` on a `None` value" if outcome == "panicked"
                    else "agent error: HTTP 500: internal server error")
            s.send(sid, {"type": "error", "message": prefix + text})
            s.send(sid, {"type": "agent_done"})
        else:
            if outcome == "max_turns" and self.chat:
                self._status("Reached tool use limit. Send a message to continue.")
            s.send(sid, {"type": "agent_done"})
        s.phase(sid, "Idle", persist=True)
        s.live(sid, False)
        self.done = True
        yield True


def _call_of(block: dict[str, Any]) -> dict[str, Any]:
    return {"id": block["id"], "name": block["name"], "arguments": block["arguments"]}


def _chunks(rng: random.Random, text: str, lo: int, hi: int) -> list[str]:
    """Split text into a few-token deltas."""
    out, i = [], 0
    while i < len(text):
        n = rng.randint(lo, hi)
        out.append(text[i:i + n])
        i += n
    return out or [""]
