"""Build tau-schema stores of a given size, fast, and cache them by size.

Sizes (tasks / sessions / messages):

- ``S``: the demo's size, 20 / 80 / 2,000;
- ``M``: 2,000 / 10,000 / 200,000;
- ``L``: 10,000 / 100,000 / 1,000,000, one of its sessions holding 100,000 messages;
- ``B``: S plus one session of 100,000 messages (the "open a big transcript" store);
- ``T``: a tiny store for the smoke test.

The stores look like a real tau installation (TAU_STORE.md): tau's DDL from
`tui.tau.ddl`, messages of every role with usage and tool calls, a few KB of
system prompt per session, task history and relations, sessions interleaved in
time, some children without a task, some bare ``task_sessions`` rows whose
session is gone, and a handful of running sessions: on disk their phase is what
tau persists while a run goes on (``sending request``, TAU.md §5.1); their real
phase is in ``meta["live_phases"]``, for tau's server to hold in memory
(`serve`, or the benchmark's writer process). Both files end in WAL mode.

The build uses one connection per file, one transaction, ``executemany``,
``synchronous=OFF`` and no journal, and creates the messages index after the
rows (the same ``CREATE INDEX`` tau runs). A built store is kept under
``<cache>/<size>-g<version>/`` with a ``meta.json`` saying what is where
(the benchmark's target task and session, the big session); a rerun reuses it.

``python -m bench.gen --sizes S,M,L [--cache DIR] [--force]`` builds ahead of time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tui.demo import TauServer
from tui.tau.ddl import TASKS_DB, TASKS_DDL, TAU_DB, TAU_DDL

#: Bump when the generated content changes: old caches are then rebuilt.
GEN_VERSION = 5
DEFAULT_CACHE = Path("/tmp/sessiontop-bench")

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR


@dataclass(frozen=True)
class SizeSpec:
    name: str
    tasks: int
    sessions: int
    messages: int  # all messages, the big session's included
    live: int  # sessions running (tau's server holds their phase; the disk says 'sending request')
    days: int  # how far back the history goes
    big_session: int = 0  # messages in one long session (0: none)
    open_share: float = 0.1  # share of tasks not in a terminal state


SIZES: dict[str, SizeSpec] = {
    "T": SizeSpec("T", tasks=6, sessions=16, messages=200, live=2, days=1, open_share=0.7),
    "S": SizeSpec("S", tasks=20, sessions=80, messages=2_000, live=6, days=3, open_share=0.6),
    "M": SizeSpec("M", tasks=2_000, sessions=10_000, messages=200_000, live=40, days=120),
    "L": SizeSpec("L", tasks=10_000, sessions=100_000, messages=1_000_000, live=100, days=365,
                  big_session=100_000, open_share=0.08),
    "B": SizeSpec("B", tasks=20, sessions=80, messages=102_000, live=6, days=30,
                  big_session=100_000, open_share=0.6),
}

# --- vocabulary ------------------------------------------------------------------------

PROJECTS = (
    ("tau", "/home/dev/src/tau", ("crates/tau-agent-base/src/protocol.rs",
                                  "crates/tau-server/src/session.rs",
                                  "crates/tau-server/src/tasks/store.rs",
                                  "crates/tau-cli/src/picker.rs"), "cargo test -p tau-server"),
    ("sessiontop", "/home/dev/src/sessiontop", ("tui/store.py", "tui/app.py", "tui/watcher.py",
                                                "tests/test_store.py"), "pytest -q"),
    ("webapp", "/home/dev/src/webapp", ("src/routes/checkout.ts", "src/api/client.ts",
                                        "src/lib/session.ts", "tests/checkout.spec.ts"),
     "npm test -- --run"),
    ("infra", "/home/dev/src/infra", ("terraform/main.tf", "k8s/deploy.yaml", "scripts/rollout.sh",
                                      "docs/runbook.md"), "make plan"),
    ("ml-pipeline", "/home/dev/src/ml-pipeline", ("pipeline/train.py", "pipeline/features.py",
                                                  "configs/base.yaml", "tests/test_features.py"),
     "pytest tests -x"),
    ("docs", "/home/dev/src/docs", ("content/guide/install.md", "content/reference/cli.md",
                                    "mkdocs.yml", "theme/main.html"), "mkdocs build --strict"),
)
VERBS = ("Fix", "Add", "Refactor", "Remove", "Document", "Speed up", "Test", "Rename", "Split",
         "Harden", "Port", "Cache", "Retry", "Validate", "Log", "Stream")
OBJECTS = ("the dispatcher", "session compaction", "the task picker", "worktree cleanup",
           "rate-limit backoff", "the checkout flow", "gift card totals", "the rollout script",
           "feature extraction", "the CLI reference", "socket protocol errors", "the merge queue",
           "child session budgets", "tool result truncation", "the config loader",
           "message pagination", "the review checklist", "flaky integration tests",
           "the install guide", "GPU memory use", "cookie handling", "the search index")
SUFFIX = ("", " on restart", " for large stores", " under load", " in CI", " behind a flag",
          " for child sessions", " after a crash", " with tests", " (follow-up)")
#: tau's ``Model`` whole (types.rs): tau cannot load a session whose model_json lacks a field.
MODELS = (
    {"id": "claude-sonnet-4-5", "name": "Claude Sonnet 4.5", "api": "anthropic", "provider": "anthropic",
     "base_url": "https://api.anthropic.com", "thinking": "anthropic",
     "cost": {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75},
     "context_window": 200000, "max_tokens": 64000},
    {"id": "claude-opus-4-1", "name": "Claude Opus 4.1", "api": "anthropic", "provider": "anthropic",
     "base_url": "https://api.anthropic.com", "thinking": "anthropic",
     "cost": {"input": 15.0, "output": 75.0, "cache_read": 1.5, "cache_write": 18.75},
     "context_window": 200000, "max_tokens": 32000},
    {"id": "gpt-5", "name": "GPT-5", "api": "openai", "provider": "openai",
     "base_url": "https://api.openai.com/v1", "thinking": "open_ai",
     "cost": {"input": 1.25, "output": 10.0, "cache_read": 0.125, "cache_write": 0.0},
     "context_window": 400000, "max_tokens": 128000},
)
TERMINAL = ("merged", "done", "closed", "failed")
TERMINAL_W = (60, 15, 12, 6)
OPEN = ("ready", "planning", "active", "review", "refining", "interactive", "approved", "merging")
OPEN_W = (30, 18, 16, 10, 5, 10, 5, 6)
HAPPY = ("planning", "refining", "ready", "active", "review", "approved", "merging", "merged")
IN_FLIGHT = frozenset({"active", "review", "refining", "merging", "planning", "interactive"})
LIVE_PHASES = ("thinking", "running tools", "sending request", "working", "waiting",
               "preparing", "compacting", "rate limited")
#: What tau writes to sessions.last_phase (TAU.md §5.1); the rest live in its server's memory.
PERSISTED = frozenset({"waiting", "preparing", "sending request", "rate limited", "compacting", "idle"})
WIRE = {"waiting": "Waiting", "preparing": "Preparing", "sending request": "Connecting",
        "thinking": "Thinking", "working": "Responding", "running tools": "ToolExec",
        "compacting": "Compacting", "rate limited": "RateLimited"}
#: Roles whose runs tau starts itself: they never get an exit status (TAU.md §5.3).
TASK_ROLES = frozenset({"worker", "planner", "refiner", "reviewer", "assigned", "log"})
EXITS = ("completed", "succeeded", "error", "cancelled", "max_turns", "panicked")
EXIT_W = (55, 15, 8, 7, 8, 2)
ROLE_SEQ = ("creator", "planner", "refiner", "worker", "reviewer", "worker", "reviewer", "worker",
            "contributor", "worker", "log", "assigned")


def _system_prompts() -> list[str]:
    """A few KB each, shared between sessions (tau stores one per session)."""
    para = (
        "You are tau, an autonomous software agent working inside a git worktree. "
        "Read the code before changing it; prefer small, reviewable commits; run the "
        "project's tests before you report success. Tools: read(path), grep(pattern, path), "
        "edit(path, old_string, new_string), bash(command), glob(pattern). Never push to "
        "main. When a task is ambiguous, ask the operator through the task's messages. "
    )
    rules = "".join(f"\n{i}. Rule {i}: " + para[(i * 37) % 200:(i * 37) % 200 + 180]
                    for i in range(1, 25))
    out = []
    for k, role in enumerate(("worker", "planner", "reviewer", "interactive")):
        body = f"# tau {role} agent\n\n" + para * (3 + k) + "\n## Rules" + rules
        out.append(body[: 3000 + 900 * k])
    return out


# --- messages: a pool of pre-serialised templates ---------------------------------------


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _prefix(msg: dict[str, Any]) -> str:
    """The JSON of ``msg`` up to its timestamp: ``prefix + str(ts) + "}"``."""
    return _dump(msg)[:-1] + ',"timestamp":'


def _usage(rng: random.Random, n: int) -> dict[str, Any]:
    inp, out = rng.randint(40, 2500), rng.randint(60, 1800)
    cread = min(190000, 6000 + n * rng.randint(900, 2200))
    cwrite = rng.choice((0, 0, rng.randint(200, 4000)))
    cost = {"input": round(inp * 3e-6, 6), "output": round(out * 15e-6, 6),
            "cache_read": round(cread * 0.3e-6, 6), "cache_write": round(cwrite * 3.75e-6, 6)}
    cost["total"] = round(sum(cost.values()), 6)
    return {"input": inp, "output": out, "cache_read": cread, "cache_write": cwrite,
            "total_tokens": inp + out + cread + cwrite, "cost": cost}


def _code(rng: random.Random, path: str, lines: int) -> str:
    words = ("let", "fn", "self", "match", "return", "value", "store", "session", "task", "Ok",
             "Err", "await", "config", "state", "phase", "count", "if", "else", "for", "in")
    return "\n".join(
        f"{i + 1:5}\t" + " ".join(rng.choice(words) for _ in range(rng.randint(3, 10)))
        for i in range(lines))


def _script(rng: random.Random, project: tuple, length: int) -> list[str]:
    """One session's worth of message prefixes: turns of user → (assistant tool
    calls → tool results)* → assistant answer."""
    name, path, files, test_cmd = project
    model = rng.choice(MODELS)
    out: list[str] = []
    n = 0
    while len(out) < length:
        out.append(_prefix({"role": "user", "content": [{"type": "text", "text": rng.choice((
            f"Work on {name}: make `{test_cmd}` pass and commit.",
            "Continue.", "The tests still fail on CI, take another look.",
            f"Please also cover the edge case in {rng.choice(files)}.",
            "Any update? Summarise where you are."))}]}))
        for _ in range(rng.randint(1, 4)):
            f = rng.choice(files)
            tool = rng.choice(("read", "read", "grep", "edit", "bash"))
            args = {"read": {"path": f}, "grep": {"pattern": "fn dispatch", "path": "."},
                    "edit": {"path": f, "old_string": "retry(3)", "new_string": "retry(5)"},
                    "bash": {"command": test_cmd}}[tool]
            blocks: list[dict[str, Any]] = []
            if rng.random() < 0.5:
                blocks.append({"type": "thinking", "thinking": f"{f} is the likely place; "
                               "check the callers before editing anything. " * rng.randint(1, 4)})
            blocks.append({"type": "text", "text": f"Let me {tool} {f}."})
            blocks.append({"type": "tool_call", "id": f"toolu_{rng.getrandbits(56):014x}",
                           "name": tool, "arguments": args})
            n += 1
            out.append(_prefix({"role": "assistant", "content": blocks, "provider": model["provider"],
                                "model": model["id"], "usage": _usage(rng, n),
                                "stop_reason": "tool_use"}))
            err = tool == "bash" and rng.random() < 0.25
            text = {"read": _code(rng, f, rng.randint(8, 40)),
                    "grep": "\n".join(f"{rng.choice(files)}:{rng.randint(5, 600)}: fn dispatch()"
                                      for _ in range(rng.randint(1, 6))),
                    "edit": f"Applied 1 edit to {f}",
                    "bash": ("test result: FAILED. 213 passed; 1 failed\n" + "  at line 42\n" * 8)
                    if err else "test result: ok. 214 passed; 0 failed; finished in 9.81s"}[tool]
            out.append(_prefix({"role": "tool_result", "tool_call_id": "toolu_x", "tool_name": tool,
                                "content": [{"type": "text", "text": text}], "is_error": err,
                                "duration_ms": rng.randint(3, 60000), "summary": f"{tool} done"}))
        n += 1
        out.append(_prefix({"role": "assistant", "content": [{"type": "text", "text": (
            f"Done: `{test_cmd}` passes. I changed {rng.choice(files)} and added a test. "
            "Summary of the change follows. " * rng.randint(1, 3))}],
            "provider": model["provider"], "model": model["id"], "usage": _usage(rng, n),
            "stop_reason": rng.choice(("stop", "stop", "stop", "length"))}))
        if rng.random() < 0.05:
            out.append(_prefix({"role": "compaction_summary", "summary": "Earlier work: read the "
                                "dispatcher, fixed retry, tests pass.", "tokens_before": 180000}))
        if rng.random() < 0.05:
            out.append(_prefix({"role": "info", "text": "Turn cancelled by user"}))
    return out[:length]


# --- the build ----------------------------------------------------------------------------


def store_dir(size: str, cache: Path = DEFAULT_CACHE) -> Path:
    return Path(cache) / f"{size}-g{GEN_VERSION}"


def load_meta(size: str, cache: Path = DEFAULT_CACHE) -> dict[str, Any] | None:
    meta = store_dir(size, cache) / "meta.json"
    if not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text())
    except ValueError:
        return None


def ensure_store(size: str, cache: Path = DEFAULT_CACHE, *, force: bool = False,
                 seed: int = 1, log=print) -> dict[str, Any]:  # noqa: ANN001
    """The cached store of ``size``, built if missing. Returns its meta (with
    ``data_dir``)."""
    meta = None if force else load_meta(size, cache)
    if meta is not None:
        return meta
    target = store_dir(size, cache)
    tmp = target.with_name(target.name + f".building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    t0 = time.perf_counter()
    meta = build(SIZES[size], tmp / "data", seed=seed)
    meta["build_seconds"] = round(time.perf_counter() - t0, 2)
    meta["data_dir"] = str(target / "data")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    log(f"built {size} in {meta['build_seconds']} s: {meta['counts']} "
        f"({meta['bytes'] / 1e6:.0f} MB) at {target}")
    return meta


def _weighted(rng: random.Random, items: tuple, weights: tuple, k: int) -> list:
    return rng.choices(items, weights, k=k)


def build(spec: SizeSpec, data_dir: Path, *, seed: int = 1,
          now_ms: int | None = None) -> dict[str, Any]:
    """Write ``tasks.db`` and ``tau.db`` for ``spec`` into ``data_dir``."""
    rng = random.Random(seed * 1000 + ord(spec.name[0]))
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    start = now - spec.days * DAY
    n_tasks, n_sess = spec.tasks, spec.sessions

    # --- tasks: states, times -------------------------------------------------------
    n_open = max(1, round(n_tasks * spec.open_share))
    states = _weighted(rng, TERMINAL, TERMINAL_W, n_tasks - n_open) + _weighted(rng, OPEN, OPEN_W, n_open)
    # Newer tasks are the open ones: sort creation times and give the open states the newest.
    created = sorted(rng.randint(start, now - 10 * MIN) for _ in range(n_tasks))
    # Make sure there are enough in-flight tasks for the live sessions and the target.
    need_active = max(2, min(spec.live, n_open) // 2)
    open_idx = list(range(n_tasks - n_open, n_tasks))
    for i in open_idx[:need_active]:
        states[i] = "active"
    rng.shuffle(states_open := [states[i] for i in open_idx])
    for i, s in zip(open_idx, states_open):
        states[i] = s

    # --- sessions: per task, plus children without a task ------------------------------
    n_children = n_sess // 10
    n_linked = n_sess - n_children
    per_task = [1] * n_tasks
    extra = n_linked - n_tasks
    if extra < 0:
        raise ValueError("need at least one session per task")
    weights = [3.0 if states[i] in IN_FLIGHT or states[i] == "merged" else 1.0 for i in range(n_tasks)]
    for i in rng.choices(range(n_tasks), weights, k=extra):
        per_task[i] += 1
    # session ids are allocated in creation order, like tau's s1, s2, ...
    sess_rows: list[list[Any]] = []  # mutable rows, finalised later
    sess_task: list[int] = []  # task index or -1
    sess_role: list[str] = []
    sess_created: list[int] = []
    links: list[tuple[int, int, str, int]] = []  # (task idx, session idx, role, created)
    for ti in range(n_tasks):
        t_created = created[ti]
        span = max(MIN, min(now - t_created, rng.randint(HOUR, 14 * DAY)))
        for k in range(per_task[ti]):
            c = t_created + (0 if k == 0 else rng.randint(k * span // (per_task[ti] + 1),
                                                         (k + 1) * span // (per_task[ti] + 1)))
            sess_task.append(ti)
            role = "interactive" if states[ti] == "interactive" and k == 0 else ROLE_SEQ[k % len(ROLE_SEQ)]
            sess_role.append(role)
            sess_created.append(min(c, now - MIN))
    for _ in range(n_children):
        sess_task.append(-1)
        sess_role.append("child")
        sess_created.append(rng.randint(start, now - MIN))
    order = sorted(range(n_sess), key=lambda i: sess_created[i])
    sid_of = [""] * n_sess
    for rank, i in enumerate(order):
        sid_of[i] = f"s{rank + 1}"
    for i in range(n_sess):
        if sess_task[i] >= 0:
            links.append((sess_task[i], i, sess_role[i], sess_created[i]))

    # --- live sessions, the target task, the big session -----------------------------
    phase = ["idle"] * n_sess
    exit_status: list[str | None] = _weighted(rng, EXITS, EXIT_W, n_sess)  # type: ignore[assignment]
    by_task: dict[int, list[int]] = {}
    for ti, si, _, _ in links:
        by_task.setdefault(ti, []).append(si)
    inflight = [ti for ti in range(n_tasks) if states[ti] in IN_FLIGHT and by_task.get(ti)]
    # target: the newest active task with 3+ sessions (else the one with most sessions)
    actives = [ti for ti in inflight if states[ti] == "active"]
    target = max(actives, key=lambda ti: (min(len(by_task[ti]), 3), created[ti]))
    while len(by_task[target]) < 3:  # borrow children so the target has a few sessions
        child = next(i for i in range(n_sess) if sess_task[i] == -1)
        sess_task[child] = target
        sess_role[child] = "worker"
        sess_created[child] = max(sess_created[child], created[target])
        by_task[target].append(child)
        links.append((target, child, "worker", sess_created[child]))
    live_sids: list[int] = []
    target_sid = max(by_task[target], key=lambda si: sess_created[si])
    sess_role[target_sid] = "worker"
    links = [(t, s, "worker" if s == target_sid else r, c) for t, s, r, c in links]
    phase[target_sid] = "thinking"
    exit_status[target_sid] = "completed"
    live_sids.append(target_sid)
    rng.shuffle(inflight)
    for ti in inflight:
        if len(live_sids) >= spec.live:
            break
        if ti == target:
            continue
        si = max(by_task[ti], key=lambda s: sess_created[s])
        phase[si] = rng.choice(LIVE_PHASES)
        live_sids.append(si)
    big_sid: int | None = None
    if spec.big_session:
        # a long-running interactive session on an open task
        cands = [ti for ti in range(n_tasks) if states[ti] in ("interactive", "planning", "ready")
                 and ti != target] or [ti for ti in range(n_tasks) if ti != target]
        big_task = cands[0]
        big_sid = by_task[big_task][0]
        sess_created[big_sid] = min(sess_created[big_sid], now - 60 * DAY, created[big_task])
        created[big_task] = min(created[big_task], sess_created[big_sid])

    # terminal tasks: archived sessions; children: often no phase / no exit status
    archived = [0] * n_sess
    for i in range(n_sess):
        ti = sess_task[i]
        if ti >= 0 and states[ti] in TERMINAL and rng.random() < 0.8:
            archived[i] = 1
        if ti < 0:
            if rng.random() < 0.5:
                exit_status[i] = None
            if rng.random() < 0.3:
                phase[i] = None  # type: ignore[call-overload]

    # --- messages: counts per session, timestamps, interleaved in time ---------------
    rest = spec.messages - (spec.big_session if big_sid is not None else 0)
    msg_count = [0] * n_sess
    # a skewed spread: most sessions short, some long
    w = [rng.paretovariate(1.6) for _ in range(n_sess)]
    if big_sid is not None:
        w[big_sid] = 0.0
    total_w = sum(w)
    for i in range(n_sess):
        msg_count[i] = int(rest * w[i] / total_w)
    short = rest - sum(msg_count)
    for i in rng.choices(range(n_sess), [x or 0 for x in w], k=short) if short > 0 else ():
        msg_count[i] += 1
    if big_sid is not None:
        msg_count[big_sid] = spec.big_session
    for si in live_sids:  # a live session shows its newest messages: give it some
        if msg_count[si] < 4:
            msg_count[si] = 4

    projects = [PROJECTS[rng.randrange(len(PROJECTS))] for _ in range(n_tasks)]
    n_scripts = 48
    scripts = [_script(rng, PROJECTS[k % len(PROJECTS)], 160) for k in range(n_scripts)]
    big_script = _script(rng, PROJECTS[0], 997) if big_sid is not None else []

    # (ts, session index, n): sessions' messages spaced a few seconds apart
    keys: list[tuple[int, int, int]] = []
    sess_last = list(sess_created)
    for i in range(n_sess):
        n = msg_count[i]
        if not n:
            continue
        c = sess_created[i]
        room = max(n * 1000, now - c - 1000) if (phase[i] != "idle" and phase[i] is not None) or i == big_sid \
            else min(now - c - 1000, n * rng.randint(2_000, 40_000))
        room = max(room, n)
        step = room / n
        if phase[i] not in (None, "idle") or i == big_sid:  # live: the newest message is recent
            c = now - int(step * n) - rng.randint(1_000, 60_000)
            sess_created[i] = min(sess_created[i], c)
        keys.extend((c + int(j * step), i, j) for j in range(n))
        sess_last[i] = c + int((n - 1) * step)
    keys.sort()

    # --- write --------------------------------------------------------------------------
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in (TASKS_DB, TAU_DB):
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = data_dir / (name + suffix)
            if p.exists():
                p.unlink()

    def fast(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(str(path), isolation_level=None)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    prompts = _system_prompts()
    titles = [f"{VERBS[rng.randrange(len(VERBS))]} {OBJECTS[rng.randrange(len(OBJECTS))]}"
              f"{SUFFIX[rng.randrange(len(SUFFIX))]}" for _ in range(n_tasks)]
    task_id = [i + 1 for i in range(n_tasks)]

    # tau.db
    tau = fast(data_dir / TAU_DB)
    ddl_index = "CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id);"
    tau.executescript(TAU_DDL.replace(ddl_index, ""))
    tau.execute("BEGIN")
    rows = []
    for i in order:
        ti = sess_task[i]
        proj = projects[ti] if ti >= 0 else PROJECTS[i % len(PROJECTS)]
        role = sess_role[i]
        model = MODELS[0 if role == "worker" else (1 if role in ("planner", "interactive") else i % 3)]
        prompt = prompts[{"worker": 0, "planner": 1, "reviewer": 2, "interactive": 3}.get(role, 0)]
        title = titles[ti] if ti >= 0 else "a child task"
        tagline = (f"{role.capitalize()} #{task_id[ti]}: {title}" if ti >= 0
                   else f"Sub-agent: {title}")[:60]
        parent = None
        if ti < 0 and i > 0:
            parent = sid_of[rng.randrange(n_sess)]
        cwd = f"{proj[1]}/.tau/worktrees/task-{task_id[ti]}" if ti >= 0 and role in ("worker", "reviewer") else proj[1]
        disk_phase = phase[i] if phase[i] in PERSISTED or phase[i] is None else "sending request"
        rows.append((sid_of[i], _dump(model), prompt, cwd, int(model["provider"] == "anthropic"),
                     sess_created[i], parent, 16, tagline, archived[i],
                     None if role in TASK_ROLES else exit_status[i], disk_phase,
                     int(role != "interactive"), int(ti < 0), proj[0], None, int(not archived[i])))
    tau.executemany(
        "INSERT INTO sessions (id, model_json, system_prompt, cwd, is_subscription, created_at,"
        " parent_id, child_budget, tagline, archived, last_exit_status, last_phase, auto_archive,"
        " notify_parent, project_name, successor_id, resume_on_restart)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    del rows
    script_of = [i % n_scripts for i in range(n_sess)]

    def msg_rows():  # type: ignore[no-untyped-def]
        for ts, i, j in keys:
            if i == big_sid:
                s = big_script
            else:
                s = scripts[script_of[i]]
            yield (sid_of[i], s[j % len(s)] + str(ts) + "}", ts)

    tau.executemany("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                    msg_rows())
    tau.executemany("INSERT INTO projects VALUES (?,?,?,?)",
                    [(p[0], p[1], now, start) for p in PROJECTS])
    tau.executemany("INSERT INTO migrations VALUES (?,?)", [("project_migration_v1", start)])
    tau.execute("COMMIT")
    tau.execute(ddl_index)
    tau.execute("PRAGMA journal_mode=WAL")
    tau.close()

    # tasks.db
    tdb = fast(data_dir / TASKS_DB)
    tdb.executescript(TASKS_DDL)
    tdb.execute("BEGIN")
    task_rows = []
    history = []
    notes = []
    for ti in range(n_tasks):
        proj = projects[ti]
        st = states[ti]
        sess = by_task.get(ti, [])
        last = max([sess_last[s] for s in sess] + [created[ti]])
        dispatched = st in ("active", "review", "approved", "merging", "merged", "failed")
        # history: the happy path up to the state reached
        path = HAPPY[:HAPPY.index(st) + 1] if st in HAPPY else ("planning", "ready", "active", st)
        prev: str | None = "interactive"
        t = created[ti]
        step = max(1, (last - created[ti]) // (len(path) + 1))
        for s in path:
            t += step
            history.append((task_id[ti], "state", prev, s, sid_of[sess[0]] if sess else None, t))
            prev = s
        if st in ("merged", "done"):
            notes.append((task_id[ti], "Merged into main." if st == "merged" else "Approved; no merge.",
                          "tau", last, last))
        held = int(st == "ready" and rng.random() < 0.1)
        task_rows.append((
            task_id[ti], proj[0], titles[ti], st, rng.choice((0, 0, 1, 2, 3)),
            task_id[rng.randrange(ti)] if ti > 5 and rng.random() < 0.05 else None,
            json.dumps(rng.sample(("core", "ui", "perf", "docs", "infra", "bug"), 2)),
            json.dumps(rng.sample(proj[2], 2)),
            f"task-{task_id[ti]}" if dispatched else None,
            f"{proj[1]}/.tau/worktrees/task-{task_id[ti]}" if dispatched else None,
            sid_of[sess[-1]] if sess else None, 0, held, 0, int(st == "done"),
            int(st == "failed"), None, proj[0], sid_of[sess[0]] if sess else None,
            created[ti], max(last, t), 0, "main" if dispatched else None, None))
    tdb.executemany(
        "INSERT INTO tasks (id, project_name, title, state, priority, parent_id, tags, affected_files,"
        " branch, worktree_path, session_id, skip_review, held, auto_downgraded_from_ready, no_merge,"
        " dispatch_failure_count, placeholder_session_id, filed_by_project, filed_by_session_id,"
        " created_at, updated_at, require_approval, merge_target, sandbox_profile)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", task_rows)
    link_rows = [(task_id[ti], sid_of[si], role, c) for ti, si, role, c in links]
    # bare rows: sessions deleted from tau.db since (0.3% of links)
    for k in range(max(1, len(links) // 300)):
        ti = rng.randrange(n_tasks)
        if ti != target:
            link_rows.append((task_id[ti], f"s{n_sess + 1000 + k}", "worker", created[ti] + MIN))
    tdb.executemany("INSERT OR IGNORE INTO task_sessions (task_id, session_id, role, created_at)"
                    " VALUES (?,?,?,?)", link_rows)
    rel = []
    open_ids = [ti for ti in range(n_tasks) if states[ti] not in TERMINAL and ti != target]
    for ti in open_ids[: max(1, len(open_ids) // 12)]:
        other = rng.randrange(n_tasks)
        if other != ti:
            rel.append((task_id[ti], task_id[other], rng.choice(("depends_on", "depends_on", "related",
                                                                  "blocks"))))
    tdb.executemany("INSERT OR IGNORE INTO task_relations VALUES (?,?,?)", rel)
    tdb.executemany("INSERT INTO task_history (task_id, field, old_value, new_value, session_id,"
                    " created_at) VALUES (?,?,?,?,?,?)", history)
    tdb.executemany("INSERT INTO task_messages (task_id, content, author, created_at, updated_at)"
                    " VALUES (?,?,?,?,?)", notes)
    tdb.execute("COMMIT")
    tdb.execute("PRAGMA journal_mode=WAL")
    tdb.close()

    size = sum((data_dir / n).stat().st_size for n in (TASKS_DB, TAU_DB))
    big_len = spec.big_session if big_sid is not None else 0
    return {
        "size": spec.name,
        "spec": asdict(spec),
        "gen_version": GEN_VERSION,
        "seed": seed,
        "now_ms": now,
        "counts": {"tasks": n_tasks, "sessions": n_sess, "messages": len(keys),
                   "task_sessions": len(link_rows), "task_history": len(history),
                   "live": len(live_sids),
                   "open_tasks": sum(1 for s in states if s not in TERMINAL)},
        "bytes": size,
        "target_task": task_id[target],
        "target_session": sid_of[target_sid],
        # what tau's server holds in memory for the running sessions (see `serve`)
        "live_phases": {sid_of[i]: phase[i] for i in live_sids},
        "target_task_sessions": len(by_task[target]),
        "target_session_messages": msg_count[target_sid],
        "big_session": sid_of[big_sid] if big_sid is not None else None,
        "big_session_messages": big_len,
        "biggest_session": sid_of[max(range(n_sess), key=lambda i: msg_count[i])],
        "biggest_session_messages": max(msg_count),
    }


def working_copy(meta: dict[str, Any], dest: Path) -> Path:
    """A copy of the cached store to change (the benchmark writes into its copy)."""
    src = Path(meta["data_dir"])
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in (TASKS_DB, TAU_DB):
        shutil.copyfile(src / name, dest / name)
    return dest


def fresh_store(size: str, name: str) -> tuple[dict[str, Any], Path, Path]:
    """A working copy of the cached store of ``size`` (built if missing), and an
    empty runtime dir for the benchmark's tau to serve its socket in."""
    meta = ensure_store(size, DEFAULT_CACHE, log=lambda m: print(m, file=sys.stderr))
    work = DEFAULT_CACHE / "work" / f"{name}-{size}"
    data = working_copy(meta, work / "data")
    runtime = work / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    return meta, data, runtime


def serve(meta: dict[str, Any], data_dir: Path, runtime_dir: Path) -> TauServer:
    """tau's server for a generated store: the demo's stand-in on a real socket
    in ``runtime_dir``, holding the running sessions' phases in its memory."""
    server = TauServer(runtime_dir, data_dir).start()
    for sid, label in meta.get("live_phases", {}).items():
        server.set_phase(sid, WIRE[label])
    return server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gen", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="S,M,L")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    ap.add_argument("--out", type=Path, default=None,
                    help="build one size into this directory instead of the cache")
    args = ap.parse_args(argv)
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        if size not in SIZES:
            ap.error(f"unknown size {size!r} (known: {', '.join(SIZES)})")
        if args.out is not None:
            t0 = time.perf_counter()
            meta = build(SIZES[size], args.out)
            print(f"built {size} in {time.perf_counter() - t0:.1f} s into {args.out}: {meta['counts']}")
        else:
            meta = ensure_store(size, args.cache, force=args.force)
            print(json.dumps({k: meta[k] for k in ("size", "counts", "bytes", "build_seconds",
                                                   "target_task", "target_session", "big_session")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
