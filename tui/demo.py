"""The demo fleet: a simulated tau server writing a tau-shaped store.

Why: sessiontop reads tau's two SQLite files and nothing else, so on a machine
without tau there is nothing to watch. This module writes the same files (through
``tui.tauschema``) the way a running tau server does: short ``BEGIN IMMEDIATE``
transactions, phases flipping several times a second, turns ending with every exit
status, sessions joining tasks, tasks walking the board, new tasks filed now and
then. The dashboard, its tests and its benchmark all run against it.

Data only: no Textual or Rich here (an import-linter contract says so).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui import tauschema

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR

TERMINAL = frozenset({"merged", "done", "closed", "failed"})
IN_FLIGHT = frozenset({"active", "review", "approved", "merging", "refining"})
#: The role whose turns move a task out of each state.
DRIVER_ROLE = {"planning": "planner", "refining": "refiner", "active": "worker",
               "review": "reviewer", "interactive": "interactive"}
HAPPY_PATH = ("planning", "refining", "ready", "active", "review", "approved", "merging", "merged")
EXIT_WEIGHTS = {"completed": 55, "succeeded": 15, "error": 8, "cancelled": 7,
                "max_turns": 8, "panicked": 2}
BAD_EXITS = frozenset({"error", "panicked"})
MAX_IN_FLIGHT = 6       # tau's dispatcher limit, roughly: keeps the screen readable
OPEN_TARGET = 10        # file new tasks while fewer than this many are open
BASE_INTERVAL_S = 0.12  # about eight changes a second at speed 1

MODELS: dict[str, dict[str, Any]] = {
    "sonnet": {"id": "claude-sonnet-4-5", "name": "Claude Sonnet 4.5", "provider": "anthropic",
               "context_window": 200000, "max_tokens": 64000},
    "opus": {"id": "claude-opus-4-1", "name": "Claude Opus 4.1", "provider": "anthropic",
             "context_window": 200000, "max_tokens": 32000},
    "gpt": {"id": "gpt-5", "name": "GPT-5", "provider": "openai",
            "context_window": 400000, "max_tokens": 128000},
}
#: $ per million tokens: input, output, cache read, cache write.
PRICES = {"claude-sonnet-4-5": (3.0, 15.0, 0.3, 3.75), "claude-opus-4-1": (15.0, 75.0, 1.5, 18.75),
          "gpt-5": (1.25, 10.0, 0.125, 0.0)}


@dataclass(frozen=True)
class _Project:
    """What a project's sessions talk about: files, symbols, commands, titles."""

    name: str
    path: str
    files: tuple[str, ...]
    symbols: tuple[str, ...]
    test_cmd: str
    ok_output: str
    fail_output: str
    titles: tuple[str, ...]


PROJECTS: dict[str, _Project] = {p.name: p for p in (
    _Project(
        "tau", "/home/dev/src/tau",
        ("crates/tau-agent-base/src/protocol.rs", "crates/tau-server/src/session.rs",
         "crates/tau-server/src/tasks/store.rs", "crates/tau-cli/src/picker.rs",
         "crates/tau-agent-base/src/compaction.rs"),
        ("TaskSessionInfo", "last_phase", "fn dispatch", "ExitStatus::MaxTurns", "compact_history"),
        "cargo test -p tau-server",
        "test result: ok. 214 passed; 0 failed; 3 ignored; finished in 9.81s",
        "test result: FAILED. 213 passed; 1 failed\n---- tasks::store::tests::cascade stdout ----\n"
        "thread panicked at 'assertion failed: left == right'",
        ("Reset last_phase to idle on clean shutdown", "Retry rate-limited requests with jittered backoff",
         "Compaction drops tool results older than the summary",
         "Task picker: group blocked tasks under their dependency",
         "Add max_turns exit status to child sessions", "Cascade-delete messages when a session is purged",
         "Expose list_sessions over the Unix socket", "Worktree cleanup leaves stale branches after merge",
         "Stream thinking blocks to the terminal client", "Sandbox profile for network-less workers",
         "Panic in tool dispatcher on empty arguments", "Record dispatch failures per task"),
    ),
    _Project(
        "sessiontop", "/home/dev/src/sessiontop",
        ("tui/store.py", "tui/app.py", "tui/screens/detail.py", "tui/watcher.py", "tests/test_store.py"),
        ("TaskSessionInfo", "load_snapshot", "def refresh", "last_activity", "PRAGMA data_version"),
        "pytest -q",
        "........................................ [100%]\n58 passed in 3.12s",
        "F.......................................\nFAILED tests/test_store.py::test_bare_row - "
        "AssertionError\n1 failed, 57 passed in 3.40s",
        ("Watch the data dir, not just the .db files", "Task detail: show bare rows for deleted sessions",
         "Live dot from tau.pid when the socket is silent",
         "Snapshot diffing so only changed rows re-render", "Keyboard search with / in the task list",
         "Age column: 3s / 4m / 2h formatting", "Tolerate stores without task_sessions",
         "Benchmark refresh at 10k messages", "Colour exit statuses by severity",
         "Read-only connections with query_only"),
    ),
    _Project(
        "webapp", "/home/dev/src/webapp",
        ("src/routes/checkout.ts", "src/components/CartPanel.tsx", "src/api/client.ts",
         "src/lib/session.ts", "tests/checkout.spec.ts"),
        ("applyGiftCard", "useCart", "fetchOrders", "SameSite", "debounce("),
        "npm test -- --run",
        " Test Files  23 passed (23)\n      Tests  187 passed (187)\n   Duration  6.42s",
        " FAIL  tests/checkout.spec.ts > gift card > covers the full total\n"
        "AssertionError: expected 0 to be 12.5\n Test Files  1 failed | 22 passed (23)",
        ("Checkout fails when the cart has a gift card", "Migrate session cookies to SameSite=Lax",
         "Paginate the order history API", "Dark mode for the account page",
         "Flaky e2e test in checkout.spec.ts", "Debounce search-as-you-type requests",
         "Upgrade to React 19", "Rate limit the password reset endpoint",
         "Cache product images at the edge", "Show delivery estimate on the cart panel"),
    ),
)}
TAGS = ("bug", "feature", "refactor", "perf", "tests", "docs", "ui")


# --- message content -------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    """What one session is about, so its messages read like real work."""

    project: _Project
    task_id: int
    title: str
    role: str
    model: dict[str, Any]
    branch: str


def _usage(rng: random.Random, model: dict[str, Any], n_msgs: int) -> dict[str, Any]:
    """Token usage with a cache that grows with the conversation, priced per model."""
    inp, out = rng.randint(40, 2500), rng.randint(60, 1800)
    cread = min(190000, 6000 + n_msgs * rng.randint(900, 2200))
    cwrite = rng.choice((0, 0, rng.randint(200, 4000)))
    p_in, p_out, p_cr, p_cw = PRICES.get(model["id"], PRICES["claude-sonnet-4-5"])
    cost = {"input": round(inp * p_in / 1e6, 6), "output": round(out * p_out / 1e6, 6),
            "cache_read": round(cread * p_cr / 1e6, 6), "cache_write": round(cwrite * p_cw / 1e6, 6)}
    cost["total"] = round(sum(cost.values()), 6)
    return {"input": inp, "output": out, "cache_read": cread, "cache_write": cwrite,
            "total_tokens": inp + out + cread + cwrite, "cost": cost}


def _assistant(rng: random.Random, ctx: _Ctx, n: int, blocks: list[dict[str, Any]], stop: str,
               error: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": blocks, "provider": ctx.model["provider"],
                           "model": ctx.model["id"], "usage": _usage(rng, ctx.model, n),
                           "stop_reason": stop}
    if error is not None:
        msg["error_message"] = error
    msg["timestamp"] = 0
    return msg


def _user(rng: random.Random, ctx: _Ctx, first: bool) -> dict[str, Any]:
    """The prompt that starts a turn: the assignment first, then nudges."""
    t, tid = ctx.title, ctx.task_id
    if first:
        text = {
            "worker": f"You are working on task #{tid}: {t}. Work on branch {ctx.branch}, "
                      f"run `{ctx.project.test_cmd}` and commit when it passes.",
            "planner": f"Plan task #{tid}: {t}. Break it into steps and list the files it touches.",
            "refiner": f"Refine the plan for task #{tid}: {t}. Tighten the acceptance criteria.",
            "reviewer": f"Review branch {ctx.branch} for task #{tid}: {t}. Approve or request changes.",
        }.get(ctx.role, f"Let's talk about {ctx.project.name}: what is still open?")
    else:
        text = rng.choice(("Continue.", "The tests still fail on CI, take another look.",
                           "Please also cover the edge case with an empty store.",
                           f"Keep going with #{tid}.", "Any update? Summarise where you are."))
    return {"role": "user", "content": [{"type": "text", "text": text}], "timestamp": 0}


def _tool_call(rng: random.Random, ctx: _Ctx) -> dict[str, Any]:
    p = ctx.project
    name = rng.choices(("read", "grep", "edit", "bash", "glob"), (30, 15, 25, 22, 8))[0]
    path = rng.choice(p.files)
    args: dict[str, Any] = {
        "read": {"path": path},
        "grep": {"pattern": rng.choice(p.symbols), "path": "."},
        "edit": {"path": path, "old_string": rng.choice(p.symbols),
                 "new_string": rng.choice(p.symbols) + " // updated"},
        "bash": {"command": p.test_cmd},
        "glob": {"pattern": path.rsplit("/", 1)[0] + "/*"},
    }[name]
    prefix = "call_" if ctx.model["provider"] == "openai" else "toolu_"
    return {"type": "tool_call", "id": f"{prefix}{rng.getrandbits(56):014x}", "name": name,
            "arguments": args}


def _tool_use(rng: random.Random, ctx: _Ctx, n: int) -> dict[str, Any]:
    """An assistant message that thinks, says what it does and calls 1-2 tools."""
    f, s = rng.choice(ctx.project.files), rng.choice(ctx.project.symbols)
    blocks: list[dict[str, Any]] = []
    if rng.random() < 0.6:
        blocks.append({"type": "thinking", "thinking": rng.choice((
            f"The task is '{ctx.title}'. {f} is the likely place; check how {s} is used first.",
            f"The last run failed near {s}. I should read {f} before editing anything.",
            f"Before changing {f}, make sure nothing else depends on {s}."))})
    blocks.append({"type": "text", "text": rng.choice((
        f"Let me read {f}.", f"I'll check where {s} is used.", "Running the tests to see where we are.",
        f"Making the change in {f}."))})
    blocks += [_tool_call(rng, ctx) for _ in range(rng.choice((1, 1, 1, 2)))]
    return _assistant(rng, ctx, n, blocks, "tool_use")


def _results(rng: random.Random, ctx: _Ctx, assistant: dict[str, Any]) -> list[dict[str, Any]]:
    """One tool_result per tool_call; some fail, as tools do."""
    out = []
    for call in (b for b in assistant.get("content", []) if b.get("type") == "tool_call"):
        name, args, err = call["name"], call["arguments"], False
        if name == "read":
            lines = rng.randint(40, 900)
            text = f"{args['path']} ({lines} lines)\n   1\t// {ctx.project.name}\n   2\t"
            summary, ms = f"Read {lines} lines", rng.randint(2, 40)
        elif name == "grep":
            k = rng.randint(1, 4)
            text = "\n".join(f"{rng.choice(ctx.project.files)}:{rng.randint(5, 600)}: {args['pattern']}"
                             for _ in range(k))
            summary, ms = f"{k} matches", rng.randint(10, 200)
        elif name == "edit":
            err = rng.random() < 0.08
            text = f"old_string not found in {args['path']}" if err else f"Applied 1 edit to {args['path']}"
            summary, ms = ("no match" if err else "1 edit"), rng.randint(3, 30)
        elif name == "bash":
            err = rng.random() < 0.25
            text = ctx.project.fail_output if err else ctx.project.ok_output
            summary, ms = ("exit 1" if err else "exit 0"), rng.randint(800, 60000)
        else:
            text = "\n".join(ctx.project.files)
            summary, ms = f"{len(ctx.project.files)} files", rng.randint(5, 50)
        out.append({"role": "tool_result", "tool_call_id": call["id"], "tool_name": name,
                    "content": [{"type": "text", "text": text}], "is_error": err, "timestamp": 0,
                    "duration_ms": ms, "summary": summary})
    return out


def _info(text: str) -> dict[str, Any]:
    return {"role": "info", "text": text, "timestamp": 0}


def _compaction(rng: random.Random, ctx: _Ctx) -> dict[str, Any]:
    f = rng.choice(ctx.project.files)
    return {"role": "compaction_summary", "timestamp": 0, "tokens_before": rng.randint(150000, 195000),
            "summary": f"Working on #{ctx.task_id} ({ctx.title}). Read and edited {f}; "
                       f"`{ctx.project.test_cmd}` was failing on one case, fix in progress."}


def _turn_end(rng: random.Random, ctx: _Ctx, n: int, status: str) -> list[dict[str, Any]]:
    """The messages a turn ends with, consistent with its exit status."""
    if status in ("completed", "succeeded"):
        text = {"planner": f"Plan for #{ctx.task_id}:\n1. Read {ctx.project.files[0]}\n"
                           f"2. Change {ctx.project.symbols[0]}\n3. Add tests",
                "refiner": f"Refined #{ctx.task_id}: acceptance criteria added; ready to dispatch.",
                "reviewer": f"Reviewed {ctx.branch}: looks good, one naming nit. Approving.",
                }.get(ctx.role, f"Done: {ctx.title}. `{ctx.project.test_cmd}` passes; committed.")
        stop = "length" if rng.random() < 0.05 else "stop"
        return [_assistant(rng, ctx, n, [{"type": "text", "text": text}], stop)]
    if status == "error":
        err = rng.choice(("overloaded_error: Overloaded", "request timed out after 600s",
                          "invalid_request_error: prompt is too long: 204113 tokens > 200000 maximum"))
        return [_assistant(rng, ctx, n, [], "error", error=err)]
    if status == "cancelled":
        return [_assistant(rng, ctx, n, [{"type": "text", "text": "Let me look at"}], "aborted"),
                _info("Turn cancelled by user")]
    if status == "max_turns":
        a = _tool_use(rng, ctx, n)
        return [a, *_results(rng, ctx, a), _info("Stopped: reached the turn limit (max_turns = 40)")]
    return [_info("Agent loop panicked: called `Option::unwrap()` on a `None` value "
                  "(crates/tau-server/src/session.rs:512)")]


def _turn(rng: random.Random, ctx: _Ctx, *, first: bool, n0: int, status: str | None,
          phase: str = "idle", compact: bool = False) -> list[dict[str, Any]]:
    """A whole turn (status set), or one cut off mid-way at ``phase`` (a live turn)."""
    msgs = [_user(rng, ctx, first)]
    if status is None and phase == "preparing":
        return msgs
    rounds = rng.randint(1, 4) if status is not None else rng.randint(0, 3)
    if phase == "compacting":
        rounds = max(rounds, 1)
    for r in range(rounds):
        a = _tool_use(rng, ctx, n0 + len(msgs))
        msgs += [a, *_results(rng, ctx, a)]
        if compact and r == 0:
            msgs.append(_compaction(rng, ctx))
    if status is not None:
        msgs += _turn_end(rng, ctx, n0 + len(msgs), status)
    elif phase == "running tools":
        msgs.append(_tool_use(rng, ctx, n0 + len(msgs)))
    return msgs


def _dump(msg: dict[str, Any]) -> str:
    return json.dumps(msg, separators=(",", ":"))


def _slug(title: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())[:32]


def _model_for(rng: random.Random, role: str) -> dict[str, Any]:
    if role in ("planner", "refiner", "interactive"):
        return MODELS["opus"]
    if role == "reviewer":
        return MODELS[rng.choice(("opus", "gpt"))]
    return MODELS["gpt" if rng.random() < 0.2 else "sonnet"]


def _tagline(role: str, task_id: int, title: str) -> str:
    verb = {"worker": "Implementing", "planner": "Planning", "refiner": "Refining",
            "reviewer": "Reviewing", "interactive": "Chat:"}.get(role, "Working on")
    return f"{verb} #{task_id}: {title}"[:60] if role != "interactive" else f"{verb} {title}"[:60]


# --- the initial fleet -------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """One task of the initial fleet: where it is now and how it got there."""

    project: str
    state: str
    created_ago: int
    entered_ago: int
    start: str = "planning"
    workers: int = 1                  # workers in a past 'active' state
    phases: tuple[str, ...] = ()      # current drivers; 'idle' = between turns
    exits: tuple[tuple[str, str], ...] = ()  # (role, exit status) for last turns, in order
    held: bool = False
    no_merge: bool = False
    depends_on: int | None = None     # index into _SPECS
    bare_role: str | None = None      # this role's session is deleted from tau.db
    compact: bool = False


_SPECS: tuple[_Spec, ...] = (
    _Spec("sessiontop", "interactive", 3 * DAY, 3 * DAY, start="interactive", phases=("idle",)),
    _Spec("tau", "merged", 2 * DAY, 20 * HOUR),
    _Spec("webapp", "merged", 30 * HOUR, 6 * HOUR, start="ready"),
    _Spec("sessiontop", "merged", 8 * HOUR, 40 * MIN, bare_role="reviewer"),
    _Spec("tau", "done", 26 * HOUR, 3 * HOUR, no_merge=True, exits=(("worker", "succeeded"),)),
    _Spec("webapp", "closed", 20 * HOUR, 12 * HOUR, exits=(("planner", "cancelled"),)),
    _Spec("tau", "failed", 10 * HOUR, 2 * HOUR, workers=2,
          exits=(("worker", "error"), ("worker", "panicked"))),
    _Spec("tau", "active", 3 * HOUR, 50 * MIN, phases=("running tools", "thinking")),
    _Spec("sessiontop", "active", 1 * HOUR, 12 * MIN, start="ready", phases=("sending request",)),
    _Spec("webapp", "active", 5 * HOUR, 2 * HOUR, phases=("working", "idle", "idle"), compact=True,
          exits=(("worker", "completed"), ("worker", "max_turns"))),
    _Spec("tau", "review", 4 * HOUR, 8 * MIN, phases=("thinking",)),
    _Spec("webapp", "merging", 6 * HOUR, 30 * SEC),
    _Spec("sessiontop", "refining", 2 * HOUR, 6 * MIN, phases=("compacting",)),
    _Spec("tau", "ready", 90 * MIN, 25 * MIN),
    _Spec("webapp", "ready", 7 * HOUR, 5 * HOUR, start="ready", held=True),
    _Spec("sessiontop", "ready", 40 * MIN, 40 * MIN, start="ready", depends_on=8),
    _Spec("tau", "planning", 20 * MIN, 20 * MIN, phases=("preparing",)),
    _Spec("webapp", "planning", 3 * MIN, 3 * MIN),
)


def _path(spec: _Spec) -> list[str]:
    """The states a task went through to reach its current one."""
    if spec.start == "interactive":
        return ["interactive"]
    i = HAPPY_PATH.index(spec.start)
    tail = {"done": ("approved", "done"), "failed": ("active", "failed"),
            "closed": ("planning", "closed")}.get(spec.state, (spec.state, spec.state))
    upto = HAPPY_PATH.index(tail[0])
    path = list(HAPPY_PATH[i:upto + 1])
    return path if tail[1] == tail[0] else path + [tail[1]]


@dataclass
class _PlannedSession:
    order: int
    task: int
    role: str
    created_at: int
    ctx: _Ctx
    phase: str = "idle"
    exit_status: str | None = None
    messages: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    write: bool = True
    id: str = ""


@dataclass(frozen=True)
class DemoState:
    """What ``build_demo_store`` made: where, as of when, and how much."""

    data_dir: Path
    tasks_path: Path
    tau_path: Path
    now_ms: int
    task_count: int
    session_count: int
    message_count: int


def _stamp(msgs: list[dict[str, Any]], t0: int, t1: int) -> list[tuple[dict[str, Any], int]]:
    """Spread messages evenly over [t0, t1] and set their ``timestamp``."""
    out = []
    for i, m in enumerate(msgs):
        ts = t0 + (t1 - t0) * i // max(len(msgs) - 1, 1)
        m["timestamp"] = ts
        out.append((m, ts))
    return out


def build_demo_store(data_dir: Path | str, *, seed: int = 7, now_ms: int | None = None) -> DemoState:
    """Create a tau store in ``data_dir`` holding an initial fleet as of ``now_ms``.

    Deterministic for a given ``seed`` and ``now_ms``. Refuses (FileExistsError) to
    write into a store that already has tasks, so it never doubles a fleet.
    """
    data_dir = Path(data_dir)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    rng = random.Random(seed)
    tasks_path, tau_path = tauschema.create_store(data_dir)
    tconn, sconn = tauschema.connect_writer(tasks_path), tauschema.connect_writer(tau_path)
    try:
        if tconn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]:
            raise FileExistsError(f"{tasks_path} already holds tasks")
        # Tasks get ids in creation order, as tau's INTEGER PRIMARY KEY does.
        order = sorted(range(len(_SPECS)), key=lambda i: (-_SPECS[i].created_ago, i))
        tid = {i: n + 1 for n, i in enumerate(order)}
        used: dict[str, int] = {}
        titles: dict[int, str] = {}
        for i in order:
            p = PROJECTS[_SPECS[i].project]
            titles[i] = p.titles[used.get(p.name, 0) % len(p.titles)]
            used[p.name] = used.get(p.name, 0) + 1
        plans: list[_PlannedSession] = []
        history: list[tuple[int, str, str | None, str, int, int]] = []  # spec, field, old, new, t, plan
        for i in range(len(_SPECS)):
            _plan_task(rng, i, tid[i], titles[i], now, plans, history)
        # Session ids grow with creation time across the whole fleet: s1, s2, ...
        for n, ps in enumerate(sorted(plans, key=lambda p: (p.created_at, p.order))):
            ps.id = f"s{n + 1}"
        _write_store(rng, tconn, sconn, now, tid, titles, plans, history)
        msg_count = sum(len(p.messages) for p in plans if p.write)
        return DemoState(data_dir, tasks_path, tau_path, now, len(_SPECS),
                         sum(p.write for p in plans), msg_count)
    finally:
        tconn.close()
        sconn.close()


def _plan_task(rng: random.Random, i: int, task_id: int, title: str, now: int,
               plans: list[_PlannedSession], history: list[tuple[int, str, str | None, str, int, int]]) -> None:
    """Plan one task's sessions, transcripts and state changes along its path."""
    spec = _SPECS[i]
    project = PROJECTS[spec.project]
    path = _path(spec)
    created, entered = now - spec.created_ago, now - spec.entered_ago
    times = [created + (entered - created) * k // max(len(path) - 1, 1) for k in range(len(path))]
    branch = f"tau/task-{task_id}-{_slug(title)}"
    exits: dict[str, list[str]] = {}
    for role, status in spec.exits:
        exits.setdefault(role, []).append(status)
    history.append((i, "state", None, path[0], created, -1))

    def session(role: str, at: int) -> _PlannedSession:
        ctx = _Ctx(project, task_id, title, role, _model_for(rng, role), branch)
        ps = _PlannedSession(len(plans), i, role, at, ctx)
        ps.write = role != spec.bare_role
        plans.append(ps)
        return ps

    def turns(ps: _PlannedSession, t0: int, t1: int, k: int, last: str) -> None:
        span = max(t1 - t0, k * SEC)
        for j in range(k):
            status = last if j == k - 1 else "completed"
            msgs = _turn(rng, ps.ctx, first=not ps.messages, n0=len(ps.messages), status=status,
                         compact=spec.compact and not ps.messages and ps.order == _first_plan(plans, i))
            ps.messages += _stamp(msgs, t0 + span * j // k, t0 + span * j // k + span * 4 // (5 * k))
        ps.exit_status = last if k else ps.exit_status

    for k, state in enumerate(path):
        role = DRIVER_ROLE.get(state)
        current = k == len(path) - 1
        if k:  # moved on by the previous state's driver, or by the dispatcher (no session)
            by = _last_plan(plans, i) if path[k - 1] in DRIVER_ROLE else -1
            history.append((i, "state", path[k - 1], state, times[k], by))
        if role is None or (current and not spec.phases):
            continue
        a = times[k]
        if not current:
            b = times[k + 1]
            for w in range(spec.workers if state == "active" else 1):
                ps = session(role, a + (b - a) * (2 + 25 * w) // 100)
                turns(ps, ps.created_at + SEC, b - (b - a) // 30, rng.randint(1, 3),
                      (exits.get(role) or ["completed"]).pop(0))
        else:
            for w, phase in enumerate(spec.phases):
                ps = session(role, a + (now - a) * (2 + 20 * w) // 100)
                if phase == "idle":
                    turns(ps, ps.created_at + SEC, ps.created_at + (now - ps.created_at) * 4 // 5,
                          rng.randint(1, 3), (exits.get(role) or ["completed"]).pop(0))
                    continue
                done = rng.randint(0, 2)
                mid = ps.created_at + (now - ps.created_at) * 3 // 5
                if done:
                    turns(ps, ps.created_at + SEC, mid, done, "completed")
                msgs = _turn(rng, ps.ctx, first=not ps.messages, n0=len(ps.messages), status=None,
                             phase=phase)
                end = now - rng.randint(1, 12) * SEC
                ps.messages += _stamp(msgs, max(mid + SEC, end - 90 * SEC), end)
                ps.phase = phase


def _first_plan(plans: list[_PlannedSession], i: int) -> int:
    return next((p.order for p in plans if p.task == i), -1)


def _last_plan(plans: list[_PlannedSession], i: int) -> int:
    """The session whose work moved the task on: the newest one planned for it."""
    return next((p.order for p in reversed(plans) if p.task == i), -1)


def _write_store(rng: random.Random, tconn: sqlite3.Connection, sconn: sqlite3.Connection, now: int,
                 tid: dict[int, int], titles: dict[int, str], plans: list[_PlannedSession],
                 history: list[tuple[int, str, str | None, str, int, int]]) -> None:
    """Write the planned fleet: one transaction per file (it is a fresh store)."""
    by_order = {p.order: p for p in plans}
    interactive = next(p for p in plans if p.role == "interactive")
    terminal = {i for i, s in enumerate(_SPECS) if s.state in TERMINAL}
    task_rows, ts_rows, rel_rows, notes = [], [], [], []
    for i, spec in enumerate(_SPECS):
        mine = [p for p in plans if p.task == i]
        created = now - spec.created_ago
        creator: _PlannedSession | None = None
        if spec.state != "interactive":
            earlier = [p for p in plans if p.role == "worker" and p.task != i and p.write
                       and p.created_at < created]
            roll = rng.random()
            creator = interactive if roll < 0.6 else (rng.choice(earlier) if earlier and roll < 0.85 else None)
        if creator is not None:
            ts_rows.append((tid[i], creator.id, "creator", created))
        ts_rows += [(tid[i], p.id, p.role, p.created_at) for p in mine]
        changes = [h[4] for h in history if h[0] == i] + [p.created_at for p in mine]
        drivers = [p for p in mine if p.role in ("worker", "planner", "interactive")]
        dispatched = "active" in _path(spec)
        p = PROJECTS[spec.project]
        files = rng.sample(p.files, rng.randint(1, 3))
        task_rows.append((
            tid[i], spec.project, titles[i], spec.state, rng.randint(0, 3), None,
            json.dumps(rng.sample(TAGS, rng.randint(1, 2))), json.dumps(files),
            mine[0].ctx.branch if dispatched and mine else None,
            f"{p.path}/.tau/worktrees/task-{tid[i]}" if dispatched else None,
            drivers[-1].id if drivers else None, int(spec.held), int(spec.no_merge),
            int(spec.state == "failed"), spec.project if creator else None,
            creator.id if creator else None, created, max(changes), "main" if dispatched else None))
        if spec.depends_on is not None:
            rel_rows.append((tid[i], tid[spec.depends_on], "depends_on"))
        if spec.state in ("merged", "done") and mine:
            notes.append((tid[i], f"Merged {mine[0].ctx.branch} into main." if spec.state == "merged"
                          else "Approved; no merge needed.", mine[-1].id, max(changes)))
    for ps in plans:
        if ps.task in terminal:
            ps.phase = "idle"
    with _tx(tconn):
        tconn.executemany(
            "INSERT INTO tasks (id, project_name, title, state, priority, parent_id, tags, affected_files,"
            " branch, worktree_path, session_id, held, no_merge, dispatch_failure_count, filed_by_project,"
            " filed_by_session_id, created_at, updated_at, merge_target)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", task_rows)
        tconn.executemany("INSERT OR IGNORE INTO task_sessions (task_id, session_id, role, created_at)"
                          " VALUES (?,?,?,?)", ts_rows)
        tconn.executemany("INSERT INTO task_relations VALUES (?,?,?)", rel_rows)
        tconn.executemany(
            "INSERT INTO task_history (task_id, field, old_value, new_value, session_id, created_at)"
            " VALUES (?,?,?,?,?,?)",
            sorted(((tid[h[0]], h[1], h[2], h[3], by_order[h[5]].id if h[5] >= 0 else None, h[4])
                    for h in history), key=lambda r: (r[5], r[0])))
        tconn.executemany("INSERT INTO task_messages (task_id, content, author, created_at, updated_at)"
                          " VALUES (?,?,?,?,?)", [(t, c, a, at, at) for t, c, a, at in notes])
    written = [p for p in plans if p.write]
    msgs = sorted(((ts, int(p.id[1:]), n, p.id, _dump(m)) for p in written
                   for n, (m, ts) in enumerate(p.messages)))
    with _tx(sconn):
        sconn.executemany(
            "INSERT INTO sessions (id, model_json, system_prompt, cwd, is_subscription, created_at,"
            " tagline, archived, last_exit_status, last_phase, auto_archive, notify_parent, project_name,"
            " resume_on_restart) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [_session_row(p, p.task in terminal, tid[p.task]) for p in sorted(written, key=lambda p: int(p.id[1:]))])
        sconn.executemany("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                          [(sid, js, ts) for ts, _, _, sid, js in msgs])
        sconn.executemany("INSERT INTO projects VALUES (?,?,?,?)",
                          [(p.name, p.path, now, now - 30 * DAY) for p in PROJECTS.values()])
        sconn.executemany("INSERT INTO migrations VALUES (?,?)",
                          [(v, now - 30 * DAY + v * HOUR) for v in range(1, 8)])


def _session_row(p: _PlannedSession, archived: bool, task_id: int) -> tuple[Any, ...]:
    ctx = p.ctx
    cwd = (f"{ctx.project.path}/.tau/worktrees/task-{task_id}" if p.role in ("worker", "reviewer")
           else ctx.project.path)
    return (p.id, _dump(ctx.model), f"You are a tau {p.role} agent working on {ctx.project.name}.",
            cwd, int(ctx.model["provider"] == "anthropic"), p.created_at,
            _tagline(p.role, task_id, ctx.title), int(archived), p.exit_status, p.phase,
            int(p.role != "interactive"), 0, ctx.project.name, int(not archived))


@contextmanager
def _tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write transaction, taken up front as tau does (no upgrade deadlocks)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --- the simulator -------------------------------------------------------------------


class DemoFleet:
    """A simulated tau server over a demo store: a thread, or ``step()`` by hand."""

    def __init__(self, data_dir: Path | str, *, seed: int = 7, speed: float = 1.0,
                 runtime_dir: Path | str | None = None,
                 clock: Callable[[], int] | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.data_dir = Path(data_dir)
        self.runtime_dir = Path(runtime_dir) if runtime_dir is not None else self.data_dir / "run"
        self.tasks_path = self.data_dir / tauschema.TASKS_DB
        self.tau_path = self.data_dir / tauschema.TAU_DB
        self.pid_path = self.runtime_dir / "tau.pid"
        self.seed, self.speed = seed, speed
        self.steps = 0
        self.skipped = 0  # changes given up because the store stayed busy
        self.error: BaseException | None = None  # what killed the thread, if anything
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._rng = random.Random(seed)
        self._jitter = random.Random(seed + 1)  # timing only: keeps the change sequence seeded
        self._turns: dict[tuple[int, str], int] = {}
        self._ended: dict[str, str] = {}
        self._next_sid: int | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False

    # lifecycle

    def ensure_store(self) -> None:
        """Build the initial fleet unless the store already holds tasks."""
        if self.tasks_path.exists() and self.tau_path.exists():
            conn = sqlite3.connect(self.tasks_path)
            try:
                if conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]:
                    return
            except sqlite3.Error:
                pass
            finally:
                conn.close()
        build_demo_store(self.data_dir, seed=self.seed, now_ms=self._clock())

    def start(self) -> DemoFleet:
        """Build the store if absent, write tau.pid and start the simulator thread."""
        if self.running:
            return self
        self.ensure_store()
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        self.pid_path.write_text(f"{os.getpid()}\n", encoding="ascii")
        self._stop.clear()
        self._started = True
        self._thread = threading.Thread(target=self._run, name="tau-demo-fleet", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop like tau on a clean shutdown: every phase back to idle, tau.pid removed."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if not self._started:
            return
        self._started = False
        conn = tauschema.connect_writer(self.tau_path)
        try:
            with _tx(conn):
                conn.execute("UPDATE sessions SET last_phase = 'idle'"
                             " WHERE last_phase IS NULL OR last_phase != 'idle'")
        finally:
            conn.close()
        try:
            if self.pid_path.read_text(encoding="ascii").strip() == str(os.getpid()):
                self.pid_path.unlink()
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        """Close the calling thread's connections (those ``step()`` opened)."""
        conns = getattr(self._local, "conns", None)
        if conns is not None:
            for c in conns:
                c.close()
            self._local.conns = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> DemoFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.step()
                except sqlite3.OperationalError:  # busy past the timeout: skip this change
                    self.skipped += 1
                delay = BASE_INTERVAL_S / self.speed * self._jitter.uniform(0.5, 1.5)
                if self._stop.wait(delay):
                    break
        except Exception as exc:  # keep it for the caller: a daemon thread has nobody to tell
            self.error = exc
        finally:
            self.close()

    # one change

    def step(self) -> str:
        """Perform exactly one simulated change, synchronously; return what it was."""
        if self.running and threading.current_thread() is not self._thread:
            raise RuntimeError("the simulator thread is running; stop() it before stepping by hand")
        with self._lock:
            if getattr(self._local, "conns", None) is None:
                self.ensure_store()
                self._local.conns = (tauschema.connect_writer(self.tasks_path),
                                     tauschema.connect_writer(self.tau_path))
            what = self._step()
            self.steps += 1
            return what

    def _step(self) -> str:
        tc, sc = self._local.conns
        rng = self._rng
        sess = {r[0]: r[1] for r in sc.execute("SELECT id, last_phase FROM sessions WHERE archived = 0")}
        tasks = tc.execute("SELECT id, project_name, title, state, held, no_merge, branch FROM tasks"
                           " WHERE state NOT IN ('merged','done','closed','failed') ORDER BY id").fetchall()
        links: dict[int, list[tuple[str, str]]] = {}
        for t_id, sid, role in tc.execute(
                "SELECT task_id, session_id, role FROM task_sessions ORDER BY task_id, created_at, session_id"):
            links.setdefault(t_id, []).append((sid, role))
        blocked = {r[0] for r in tc.execute(
            "SELECT r.from_task FROM task_relations r JOIN tasks t ON t.id = r.to_task"
            " WHERE r.relation = 'depends_on' AND t.state NOT IN ('merged','done','closed','failed')")}
        in_flight = sum(t[3] in IN_FLIGHT for t in tasks)
        cands: list[tuple[float, tuple[Any, ...]]] = [
            (4.0, ("advance", sid)) for sid in sorted(sess, key=_num) if sess[sid] not in (None, "idle")]
        for t in tasks:
            mine = [(s, r) for s, r in links.get(t[0], []) if r != "creator" and s in sess]
            if any(sess[s] not in (None, "idle") for s, _ in mine):
                continue
            w = {"ready": 1.5 if not t[4] and t[0] not in blocked and in_flight < MAX_IN_FLIGHT else 0,
                 "approved": 1.2, "merging": 1.2, "interactive": 0.25}.get(t[3], 2.0)
            if w:
                cands.append((w, ("task", t, mine)))
        open_count = sum(t[3] != "interactive" for t in tasks)
        cands.append((1.2 if open_count < OPEN_TARGET else 0.03, ("file", tasks, links, sess)))
        action = rng.choices([c[1] for c in cands], [c[0] for c in cands])[0]
        if action[0] == "advance":
            return self._advance(action[1], sess[action[1]])
        if action[0] == "task":
            return self._task_action(action[1], action[2])
        return self._file(action[1], action[2], action[3])

    def _ctx(self, sid: str) -> tuple[_Ctx, int]:
        """The content context of a session and its message count."""
        tc, sc = self._local.conns
        row = tc.execute("SELECT ts.role, t.id, t.project_name, t.title, t.branch FROM task_sessions ts"
                         " JOIN tasks t ON t.id = ts.task_id WHERE ts.session_id = ?"
                         " ORDER BY ts.role = 'creator', ts.created_at LIMIT 1", (sid,)).fetchone()
        srow = sc.execute("SELECT model_json, project_name, (SELECT COUNT(*) FROM messages m"
                          " WHERE m.session_id = s.id) FROM sessions s WHERE id = ?", (sid,)).fetchone()
        role, t_id, project, title, branch = row or ("interactive", 0, srow[1], "", "")
        ctx = _Ctx(PROJECTS.get(project, PROJECTS["tau"]), t_id, title, role, json.loads(srow[0]),
                   branch or f"tau/task-{t_id}")
        return ctx, srow[2]

    def _write_session(self, sid: str, msgs: list[dict[str, Any]], phase: str,
                       exit_status: str | None = None, tagline: str | None = None) -> None:
        """Append a session's messages and set its phase: one tau.db transaction."""
        now = self._clock()
        sc = self._local.conns[1]
        with _tx(sc):
            for m in msgs:
                m["timestamp"] = now
                sc.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                           (sid, _dump(m), now))
            sc.execute("UPDATE sessions SET last_phase = ?, last_exit_status = COALESCE(?, last_exit_status),"
                       " tagline = COALESCE(?, tagline) WHERE id = ?", (phase, exit_status, tagline, sid))

    def _advance(self, sid: str, phase: str) -> str:
        """Move a live session one phase on, appending what that phase produces."""
        rng, sc = self._rng, self._local.conns[1]
        nxt = {"preparing": "sending request", "waiting": "sending request",
               "rate limited": "sending request", "thinking": "working"}.get(phase)
        if nxt is not None or phase not in ("sending request", "working", "running tools", "compacting"):
            self._write_session(sid, [], nxt or "sending request")
            return f"{sid}: {phase} -> {nxt or 'sending request'}"
        if phase == "sending request":
            nxt = "rate limited" if rng.random() < 0.05 else "thinking"
            self._write_session(sid, [], nxt)
            return f"{sid}: {phase} -> {nxt}"
        ctx, n = self._ctx(sid)
        recent = [json.loads(r[0]) for r in sc.execute(
            "SELECT message_json FROM messages WHERE session_id = ? ORDER BY id DESC LIMIT 60", (sid,))]
        if phase == "compacting":
            self._write_session(sid, [_compaction(rng, ctx)], "sending request")
            return f"{sid}: compacted"
        if phase == "running tools":
            last = recent[0] if recent else {}
            res = _results(rng, ctx, last) if last.get("role") == "assistant" else []
            roll = rng.random()
            nxt = "compacting" if roll < 0.06 else "waiting" if roll < 0.09 else "sending request"
            self._write_session(sid, res, nxt)
            return f"{sid}: {len(res)} tool results -> {nxt}"
        rounds = 0
        for m in recent:
            if m.get("role") == "user":
                break
            rounds += m.get("role") == "assistant"
        if rounds < 1 or (rounds < 6 and rng.random() < 0.55):
            a = _tool_use(rng, ctx, n)
            call = next(b for b in a["content"] if b["type"] == "tool_call")
            tag = f"{call['name']} {next(iter(call['arguments'].values()))}"[:60]
            self._write_session(sid, [a], "running tools", tagline=tag)
            return f"{sid}: tool call {call['name']}"
        status = rng.choices(list(EXIT_WEIGHTS), list(EXIT_WEIGHTS.values()))[0]
        self._write_session(sid, _turn_end(rng, ctx, n, status), "idle", exit_status=status,
                            tagline=_tagline(ctx.role, ctx.task_id, ctx.title))
        self._ended[sid] = status
        return f"{sid}: turn ended {status}"

    def _start_turn(self, sid: str) -> str:
        ctx, n = self._ctx(sid)
        msgs = [_user(self._rng, ctx, first=n == 0)]
        if self._rng.random() < 0.05:
            msgs.insert(0, _info("Resumed after server restart"))
        self._write_session(sid, msgs, "preparing")
        return f"{sid}: turn started"

    def _alloc_sid(self) -> str:
        if self._next_sid is None:
            tc, sc = self._local.conns
            ids = [r[0] for r in sc.execute("SELECT id FROM sessions")]
            ids += [r[0] for r in tc.execute("SELECT session_id FROM task_sessions")]
            self._next_sid = max((_num(i) for i in ids), default=0) + 1
        self._next_sid += 1
        return f"s{self._next_sid - 1}"

    def _spawn(self, task: tuple[Any, ...], role: str) -> str:
        """A new session joins a task and starts its first turn."""
        tc, sc = self._local.conns
        t_id, project, title, branch = task[0], task[1], task[2], task[6]
        sid, now = self._alloc_sid(), self._clock()
        p = PROJECTS.get(project, PROJECTS["tau"])
        model = _model_for(self._rng, role)
        ctx = _Ctx(p, t_id, title, role, model, branch or f"tau/task-{t_id}")
        user = _user(self._rng, ctx, first=True)
        user["timestamp"] = now
        cwd = f"{p.path}/.tau/worktrees/task-{t_id}" if role in ("worker", "reviewer") else p.path
        with _tx(sc):
            sc.execute("INSERT INTO sessions (id, model_json, system_prompt, cwd, is_subscription, created_at,"
                       " tagline, archived, last_phase, auto_archive, notify_parent, project_name,"
                       " resume_on_restart) VALUES (?,?,?,?,?,?,?,0,'preparing',1,0,?,1)",
                       (sid, _dump(model), f"You are a tau {role} agent working on {project}.", cwd,
                        int(model["provider"] == "anthropic"), now, _tagline(role, t_id, title), project))
            sc.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                       (sid, _dump(user), now))
        with _tx(tc):
            tc.execute("INSERT OR IGNORE INTO task_sessions (task_id, session_id, role, created_at)"
                       " VALUES (?,?,?,?)", (t_id, sid, role, now))
            tc.execute("UPDATE tasks SET session_id = ?, updated_at = ? WHERE id = ?", (sid, now, t_id))
        return f"{sid}: joined task {t_id} as {role}"

    def _set_state(self, task: tuple[Any, ...], new: str, by: str | None, note: str | None = None,
                   **cols: Any) -> str:
        """Change a task's state: row, history and updated_at in one tasks.db transaction."""
        tc, now = self._local.conns[0], self._clock()
        sets = "".join(f", {k} = ?" for k in cols)
        with _tx(tc):
            tc.execute(f"UPDATE tasks SET state = ?, updated_at = ?{sets} WHERE id = ?",
                       (new, now, *cols.values(), task[0]))
            tc.execute("INSERT INTO task_history (task_id, field, old_value, new_value, session_id, created_at)"
                       " VALUES (?, 'state', ?, ?, ?, ?)", (task[0], task[3], new, by, now))
            if note:
                tc.execute("INSERT INTO task_messages (task_id, content, author, created_at, updated_at)"
                           " VALUES (?,?,?,?,?)", (task[0], note, by, now, now))
        if new in TERMINAL:
            self._archive(task[0])
        return f"task {task[0]}: {task[3]} -> {new}"

    def _archive(self, t_id: int) -> None:
        """Archive a finished task's own sessions (not those that merely filed it)."""
        tc, sc = self._local.conns
        sids = [r[0] for r in tc.execute(
            "SELECT session_id FROM task_sessions WHERE task_id = ? AND role != 'creator'", (t_id,))]
        with _tx(sc):
            sc.executemany("UPDATE sessions SET archived = 1, last_phase = 'idle', resume_on_restart = 0"
                           " WHERE id = ?", [(s,) for s in sids])

    def _task_action(self, task: tuple[Any, ...], mine: list[tuple[str, str]]) -> str:
        """What tau's dispatcher would do next with a task whose sessions are all idle."""
        rng = self._rng
        t_id, project, title, state, held, no_merge, branch = task
        if state == "ready":
            p = PROJECTS.get(project, PROJECTS["tau"])
            self._set_state(task, "active", None, branch=f"tau/task-{t_id}-{_slug(title)}",
                            worktree_path=f"{p.path}/.tau/worktrees/task-{t_id}", merge_target="main")
            self._turns[(t_id, "active")] = 1
            return self._spawn((t_id, project, title, "active", held, no_merge,
                                f"tau/task-{t_id}-{_slug(title)}"), "worker")
        if state == "approved":
            return self._set_state(task, "done" if no_merge else "merging", None)
        if state == "merging":
            if rng.random() < 0.05:
                return self._set_state(task, "failed", None, note=f"Merge of {branch} failed: conflict.")
            return self._set_state(task, "merged", None, note=f"Merged {branch} into main.")
        role = DRIVER_ROLE.get(state, "worker")
        drivers = [s for s, r in mine if r == role]
        if not drivers:
            self._turns[(t_id, state)] = 1
            return self._spawn(task, role)
        outcomes = [self._ended.pop(s) for s in drivers if s in self._ended]
        turns = self._turns.get((t_id, state), 0)
        last = drivers[-1]
        if state == "active" and any(o in BAD_EXITS for o in outcomes) and rng.random() < 0.35:
            return self._set_state(task, "failed", last, note="Worker failed; giving up on this attempt.")
        if state == "planning" and rng.random() < 0.03:
            return self._set_state(task, "closed", last, note="Closed: not worth doing.")
        need = 2 if state == "active" else 1
        if (state != "interactive" and turns >= need and not (outcomes and outcomes[-1] in BAD_EXITS)
                and rng.random() < 0.75):
            if state == "review":
                if rng.random() < 0.2:
                    self._turns[(t_id, "active")] = 0
                    return self._set_state(task, "active", last, note="Changes requested: add a test.")
                return self._set_state(task, "approved", last, note="LGTM.")
            nxt = {"planning": "refining", "refining": "ready", "active": "review"}[state]
            return self._set_state(task, nxt, last)
        self._turns[(t_id, state)] = turns + 1
        if state == "active" and len(drivers) < 3 and rng.random() < 0.25:
            return self._spawn(task, "worker")
        return self._start_turn(rng.choice(drivers))

    def _file(self, tasks: list[tuple[Any, ...]], links: dict[int, list[tuple[str, str]]],
              sess: dict[str, str | None]) -> str:
        """File a new task, as a session (or a person) would, so the fleet never runs dry."""
        tc, rng, now = self._local.conns[0], self._rng, self._clock()
        p = PROJECTS[rng.choice(sorted(PROJECTS))]
        count = tc.execute("SELECT COUNT(*) FROM tasks WHERE project_name = ?", (p.name,)).fetchone()[0]
        title = p.titles[count % len(p.titles)] + (" (follow-up)" if count >= len(p.titles) else "")
        filers = [s for t in tasks for s, r in links.get(t[0], []) if r in ("interactive", "worker") and s in sess]
        creator = rng.choice(filers) if filers and rng.random() < 0.8 else None
        state = "planning" if rng.random() < 0.65 else "ready"
        deps = [t[0] for t in tasks if t[3] in IN_FLIGHT and t[1] == p.name]
        dep = rng.choice(deps) if deps and rng.random() < 0.2 else None
        with _tx(tc):
            cur = tc.execute(
                "INSERT INTO tasks (project_name, title, state, priority, tags, filed_by_project,"
                " filed_by_session_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (p.name, title, state, rng.randint(0, 3), json.dumps(rng.sample(TAGS, rng.randint(1, 2))),
                 p.name if creator else None, creator, now, now))
            t_id = cur.lastrowid
            if creator:
                tc.execute("INSERT OR IGNORE INTO task_sessions (task_id, session_id, role, created_at)"
                           " VALUES (?,?,'creator',?)", (t_id, creator, now))
            tc.execute("INSERT INTO task_history (task_id, field, old_value, new_value, session_id, created_at)"
                       " VALUES (?, 'state', NULL, ?, ?, ?)", (t_id, state, creator, now))
            if dep is not None:
                tc.execute("INSERT INTO task_relations VALUES (?,?,'depends_on')", (t_id, dep))
        return f"task {t_id} filed ({state})"


def _num(sid: str) -> int:
    """The number in a session id like ``s12`` (0 for anything else)."""
    return int(sid[1:]) if sid[:1] == "s" and sid[1:].isdigit() else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tui.demo``: run the simulator in this process until signalled or timed out."""
    ap = argparse.ArgumentParser(prog="python -m tui.demo", description="Run a simulated tau fleet.")
    ap.add_argument("--data-dir", type=Path, required=True, help="where tasks.db and tau.db go")
    ap.add_argument("--runtime-dir", type=Path, default=None, help="where tau.pid goes (default DATA/run)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--speed", type=float, default=1.0, help="changes per second, relative")
    ap.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    args = ap.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fleet = DemoFleet(args.data_dir, seed=args.seed, speed=args.speed, runtime_dir=args.runtime_dir)
    fleet.start()
    print(f"demo fleet: data {fleet.data_dir}, runtime {fleet.runtime_dir}, pid {os.getpid()}",
          file=sys.stderr, flush=True)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    try:
        while not stop.is_set():
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                break
            stop.wait(left)
    finally:
        fleet.stop()
    if fleet.error is not None:
        print(f"demo fleet failed: {fleet.error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
