"""Past turns for the initial fleet, recorded by running the live ``Run`` scripts.

Why: the store ``build_demo_store`` writes must look like what the simulator
writes later — same messages, same phase and exit-status rules. So history is
made by replaying real runs against a recording sink on a synthetic clock,
rather than by a second, subtly different generator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from . import content as c
from .queries import LABELS
from .runs import Run
from .writer import cut_point

TICK_MS = 600  # synthetic time per tick when replaying a past turn


@dataclass
class Planned:
    """A session of the initial fleet, before it gets its id (ids follow creation time)."""

    key: str
    role: str
    ctx: c.Ctx
    created_at: int
    model: dict[str, Any]
    cwd: str | None
    parent: str | None
    tagline: str | None
    system_prompt: str | None
    task: int | None = None  # spec index
    notify_parent: bool = True
    msgs: list[tuple[int, int, c.Msg]] = field(default_factory=list)  # (created_at, seq, message)
    last_phase: str | None = None
    exit_status: str | None = None
    successor: str | None = None
    archived: bool = False
    deleted: bool = False
    id: str = ""

    @property
    def chat(self) -> bool:
        return self.role in c.CHAT_ROLES


class Recorder:
    """A ``runs.Sink`` that records disk effects into ``Planned`` sessions."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.t = 0
        self.seq = 0
        self.sessions: dict[str, Planned] = {}

    def add(self, p: Planned) -> Planned:
        self.sessions[p.key] = p
        return p

    # runs.Sink

    def now(self) -> int:
        return self.t

    def phase(self, sid: str, wire: str, *, persist: bool, turn_ms: int | None = None) -> None:
        if persist:
            self.sessions[sid].last_phase = LABELS[wire]

    def event(self, sid: str, event: dict[str, Any]) -> None:
        pass

    def send(self, sid: str, msg: dict[str, Any]) -> None:
        pass

    def live(self, sid: str, on: bool) -> None:
        pass

    def write(self, sid: str, msgs: list[c.Msg]) -> None:
        for m in msgs:
            self.seq += 1
            self.sessions[sid].msgs.append((self.t, self.seq, m))

    def exit_status(self, sid: str, status: str) -> None:
        self.sessions[sid].exit_status = status

    def chat_tagline(self, sid: str, text: str) -> None:
        p = self.sessions[sid]
        p.tagline = p.tagline or text

    def compact(self, sid: str, summary: str, tokens_before: int, *,
                dry_run: bool = False) -> tuple[int, int] | None:
        p = self.sessions[sid]
        cut = cut_point([m["role"] for _, _, m in p.msgs])
        if cut is None or dry_run:
            return None if cut is None else (cut, 18_000 + tokens_before % 4_000)
        self.seq += 1
        p.msgs = p.msgs[cut:] + [(self.t, self.seq, c.compaction_summary(summary, tokens_before, self.t))]
        return cut, 18_000 + tokens_before % 4_000

    def succeed(self, sid: str) -> str:
        old = self.sessions[sid]
        new = self.add(Planned(f"{sid}+", old.role, old.ctx, self.t, old.model, old.cwd, None, old.tagline,
                               old.system_prompt))
        old.successor = new.key
        return new.key

    def drain(self, sid: str) -> list[str]:
        return []  # the initial fleet's history has no queue

    def queue(self, target: str, content: str, sender: str) -> str:
        return target  # (a handoff in the past: its successor's own turns are replayed)

    # driving runs

    def turn(self, p: Planned, start: int, outcome: str, *, limit: int, compact: bool = False) -> None:
        """Replay one whole turn from ``start`` (clock capped at ``limit``)."""
        run = self._run(p, outcome, compact=compact)
        self.t = start
        while not run.done:
            run.tick()
            self.t = min(self.t + TICK_MS, limit)

    def partial(self, p: Planned, start: int, limit: int, mode: str) -> None:
        """Replay the start of a turn that is still running at ``limit`` ("now"), stopping
        where a run in ``mode`` is: llm (streaming), tools, throttled, preparing, compacting."""
        run = self._run(p, "completed", compact=mode == "compacting", throttle=mode == "throttled",
                        rounds=4)
        self.t, writes = start, 0
        while not run.done:
            wrote = run.tick()
            self.t = min(self.t + TICK_MS // 3, limit)
            if not wrote:
                continue
            writes += 1
            last = p.msgs[-1][2] if p.msgs else {}
            if mode in ("preparing", "throttled", "compacting") and p.last_phase == LABELS[
                    {"preparing": "Preparing", "throttled": "RateLimited", "compacting": "Compacting"}[mode]]:
                return
            if mode == "llm" and writes >= 3 and last.get("role") in ("user", "tool_result"):
                return
            if mode == "tools" and last.get("role") == "assistant" and last["stop_reason"] == "tool_use":
                return
        raise AssertionError(f"the turn of {p.key} ended before reaching {mode}")

    def _run(self, p: Planned, outcome: str, **kw: Any) -> Run:
        n_users = sum(1 for _, _, m in p.msgs if m["role"] == "user")
        rng = random.Random(f"{self.seed}/{p.key}/{n_users}")
        return Run(self, p.key, p.ctx, rng, chat=p.chat, first=n_users == 0, n_msgs=len(p.msgs),
                   outcome=outcome, **kw)

    def archive(self, root: str) -> None:
        """The ArchiveSession handler: an info for each session of the subtree, then archived."""
        for key in self.subtree(root):
            self.write(key, [c.info("Session archived.", self.t)])
            self.sessions[key].archived = True

    def subtree(self, root: str) -> list[str]:
        kids = sorted((p for p in self.sessions.values() if p.parent == root), key=lambda p: p.created_at)
        return [root] + [k for p in kids for k in self.subtree(p.key)]

    def root(self, key: str) -> str:
        parent = self.sessions[key].parent
        while parent is not None:
            key, parent = parent, self.sessions[parent].parent
        return key
