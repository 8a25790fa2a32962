"""What the demo's messages say, shaped exactly like tau's ``message_json``.

Why: the dashboard parses tau's messages (TAU.md §3); a demo that writes a
field tau never writes, or misses one it always writes, hides reader bugs. So
every builder here emits tau's fields in serde's order (the struct order of
types.rs), with usage and cost computed as ``Model::calculate_cost`` does.
The words themselves come from three pretend projects.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from .more_projects import CASTS, MORE

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR

Msg = dict[str, Any]


def _model(mid: str, name: str, provider: str, thinking: str, rates: tuple[float, float, float, float],
           window: int, max_tokens: int) -> dict[str, Any]:
    api = {"anthropic": "anthropic-messages", "openai": "openai-completions"}[provider]
    base = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com/v1"}[provider]
    return {"id": mid, "name": name, "api": api, "provider": provider, "base_url": base,
            "thinking": thinking,
            "cost": dict(zip(("input", "output", "cache_read", "cache_write"), rates)),
            "context_window": window, "max_tokens": max_tokens}


#: Models as tau serialises them into ``sessions.model_json`` (types.rs ``Model``).
MODELS: dict[str, dict[str, Any]] = {
    "sonnet": _model("claude-sonnet-4-5", "Claude Sonnet 4.5", "anthropic", "anthropic",
                     (3.0, 15.0, 0.3, 3.75), 200000, 64000),
    "opus": _model("claude-opus-4-1", "Claude Opus 4.1", "anthropic", "anthropic",
                   (15.0, 75.0, 1.5, 18.75), 200000, 32000),
    "gpt": _model("gpt-5", "GPT-5", "openai", "open_ai", (1.25, 10.0, 0.125, 0.0), 400000, 128000),
}
#: The built-in ``log`` model of task placeholder sessions (providers/log.rs).
LOG_MODEL: dict[str, Any] = {"id": "log", "name": "Log (no LLM)", "api": "log", "provider": "log",
                             "base_url": "", "thinking": "none",
                             "cost": {"input": 0.0, "output": 0.0, "cache_read": 0.0, "cache_write": 0.0},
                             "context_window": 1000000, "max_tokens": 0}


@dataclass(frozen=True)
class Project:
    """What a project's sessions talk about: files, symbols, commands, titles."""

    name: str
    path: str
    files: tuple[str, ...]
    symbols: tuple[str, ...]
    test_cmd: str
    ok_output: str
    fail_output: str
    titles: tuple[str, ...]


PROJECTS: dict[str, Project] = {p.name: p for p in (
    Project(
        "tau", "/home/dev/src/tau",
        ("crates/tau-agent-base/src/protocol.rs", "crates/tau-agent-lib/src/server/dispatch.rs",
         "crates/tau-agent-plugin-tasks/src/tasks_db.rs", "crates/tau-agent-tui/src/app.rs",
         "crates/tau-agent-engine/src/compaction.rs"),
        ("TaskSessionInfo", "last_phase", "fn handle_client", "StopReason::Length", "compact_session"),
        "cargo test -p tau-agent-lib",
        "test result: ok. 214 passed; 0 failed; 3 ignored; finished in 9.81s",
        "test result: FAILED. 213 passed; 1 failed\n---- db::tests::cascade stdout ----\n"
        "thread 'db::tests::cascade' panicked at 'assertion failed: left == right'",
        ("Reset last_phase to idle on clean shutdown", "Retry rate-limited requests with jittered backoff",
         "Compaction drops tool results older than the summary",
         "Task picker: group blocked tasks under their dependency",
         "Add max_turns exit status to child sessions", "Cascade-delete messages when a session is purged",
         "Expose list_sessions over the Unix socket", "Worktree cleanup leaves stale branches after merge",
         "Stream thinking blocks to the terminal client", "Sandbox profile for network-less workers",
         "Panic in tool dispatcher on empty arguments", "Record dispatch failures per task"),
    ),
    Project(
        "sessiontop", "/home/dev/src/sessiontop",
        ("tui/store.py", "tui/app.py", "tui/screens/detail.py", "tui/watcher.py", "tests/test_store.py"),
        ("TaskSessionInfo", "load_snapshot", "def refresh", "last_activity", "PRAGMA data_version"),
        "pytest -q",
        "........................................ [100%]\n58 passed in 3.12s",
        "F.......................................\nFAILED tests/test_store.py::test_bare_row - "
        "AssertionError\n1 failed, 57 passed in 3.40s",
        ("Watch the data dir, not just the .db files", "Task detail: show bare rows for deleted sessions",
         "Live dot from the socket, not from tau.pid",
         "Snapshot diffing so only changed rows re-render", "Keyboard search with / in the task list",
         "Age column: 3s / 4m / 2h formatting", "Tolerate stores without newer columns",
         "Benchmark refresh at 10k messages", "Colour exit statuses by severity",
         "Read-only connections with query_only"),
    ),
    Project(
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
#: The demo's own three projects, in the roles its story gives them (`tui.demo.build.SPECS`).
ROLES = ("tau", "sessiontop", "webapp")
PROJECTS.update({str(f[0]): Project(*f) for f in MORE})  # type: ignore[arg-type]  # the other hosts' own


def cast(n: int) -> dict[str, Project]:
    """The projects fleet ``n`` tells the demo's story in, by role: 0 the demo's
    own, n ≥ 1 another host's (``--demo-hosts``: tui/demo/more_projects.py)."""
    if n <= 0:
        return {role: PROJECTS[role] for role in ROLES}
    return {role: PROJECTS[name] for role, name in zip(ROLES, CASTS[(n - 1) % len(CASTS)])}


TAGS = ("bug", "feature", "refactor", "perf", "tests", "docs", "ui")
#: Roles whose turns come from a socket ``chat`` (they get exit statuses, preparing, compaction).
CHAT_ROLES = frozenset({"interactive", "orchestrator"})


@dataclass(frozen=True)
class Ctx:
    """What one session is about, so its messages read like real work."""

    project: Project
    task_id: int
    title: str
    role: str
    model: dict[str, Any]
    branch: str


def dump(msg: Msg) -> str:
    """Compact JSON, as serde_json writes it."""
    return json.dumps(msg, separators=(",", ":"), ensure_ascii=False)


def model_for(rng: random.Random, role: str) -> dict[str, Any]:
    """The model a role typically runs on."""
    if role in ("planner", "refiner", "interactive", "orchestrator"):
        return MODELS["opus"]
    if role == "reviewer":
        return MODELS[rng.choice(("opus", "gpt"))]
    return MODELS["gpt" if rng.random() < 0.2 else "sonnet"]


def slug(title: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())[:32]


def session_tagline(task_id: int, role: str, title: str) -> str:
    """tasks_notify.rs ``task_session_tagline``: ``[task N] role: title``."""
    label = {"planner": "planning", "refiner": "refining", "reviewer": "review"}.get(role, role)
    return f"[task {task_id}] {label}: {_truncate(title)}"


def placeholder_tagline(task_id: int, title: str) -> str:
    """tasks_notify.rs ``task_placeholder_tagline``: ``[task N] title``."""
    return f"[task {task_id}] {_truncate(title)}"


def chat_tagline(text: str) -> str:
    """What a socket ``chat`` sets an empty tagline to (dispatch.rs): the text, ≤ 80 chars."""
    line = text.replace("\n", " ")
    return line if len(line) <= 80 else line[:77] + "..."


def _truncate(title: str, limit: int = 80) -> str:
    return title if len(title) <= limit else title[:limit - 1] + "…"


# --- messages, field for field as serde writes them ------------------------------


def usage(model: dict[str, Any], inp: int, out: int, cread: int, cwrite: int) -> dict[str, Any]:
    """types.rs ``Usage`` with ``Model::calculate_cost`` applied (raw floats, $/M tokens)."""
    rates = model["cost"]
    cost = {"input": rates["input"] / 1e6 * inp, "output": rates["output"] / 1e6 * out,
            "cache_read": rates["cache_read"] / 1e6 * cread,
            "cache_write": rates["cache_write"] / 1e6 * cwrite}
    cost["total"] = cost["input"] + cost["output"] + cost["cache_read"] + cost["cache_write"]
    return {"input": inp, "output": out, "cache_read": cread, "cache_write": cwrite,
            "total_tokens": inp + out + cread + cwrite, "cost": cost}


def roll_usage(rng: random.Random, model: dict[str, Any], n_msgs: int) -> dict[str, Any]:
    """Usage with a cache that grows with the conversation."""
    inp, out = rng.randint(40, 2500), rng.randint(60, 1800)
    cread = min(150000, 6000 + n_msgs * rng.randint(900, 2200))
    cwrite = rng.choice((0, 0, rng.randint(200, 4000)))
    return usage(model, inp, out, cread, cwrite)


def assistant(model: dict[str, Any], content: list[dict[str, Any]], use: dict[str, Any], stop: str,
              ts: int, *, response_id: str | None = None, error: str | None = None) -> Msg:
    """A ``Message::Assistant`` (role first, then types.rs field order)."""
    msg: Msg = {"role": "assistant", "content": content, "api": model["api"],
                "provider": model["provider"], "model": model["id"]}
    if response_id is not None:
        msg["response_id"] = response_id
    msg["usage"] = use
    msg["stop_reason"] = stop
    if error is not None:
        msg["error_message"] = error
    msg["timestamp"] = ts
    return msg


def user(text: str, ts: int) -> Msg:
    return {"role": "user", "content": [{"type": "text", "text": text}], "timestamp": ts}


def info(text: str, ts: int) -> Msg:
    return {"role": "info", "text": text, "timestamp": ts}


def tool_result(call: dict[str, Any], text: str, is_error: bool, ts: int, duration_ms: int,
                summary: str) -> Msg:
    return {"role": "tool_result", "tool_call_id": call["id"], "tool_name": call["name"],
            "content": [{"type": "text", "text": text}], "is_error": is_error, "timestamp": ts,
            "duration_ms": duration_ms, "summary": summary}


def compaction_summary(summary: str, tokens_before: int, ts: int) -> Msg:
    return {"role": "compaction_summary", "summary": summary, "tokens_before": tokens_before,
            "timestamp": ts}


def response_id(rng: random.Random, model: dict[str, Any]) -> str:
    if model["provider"] == "anthropic":
        return "msg_01" + "".join(rng.choice(_B62) for _ in range(22))
    return "chatcmpl-" + "".join(rng.choice(_B62) for _ in range(29))


def signature(rng: random.Random) -> str:
    return "Eq" + "".join(rng.choice(_B62) for _ in range(38))


_B62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


# --- what sessions say -------------------------------------------------------------


def prompt(rng: random.Random, ctx: Ctx, first: bool) -> str:
    """The text that starts a turn: the assignment first, then nudges."""
    t, tid = ctx.title, ctx.task_id
    if first:
        return {
            "worker": f"You are working on task #{tid}: {t}. Work on branch {ctx.branch}, "
                      f"run `{ctx.project.test_cmd}` and commit when it passes.",
            "planner": f"Plan task #{tid}: {t}. Break it into steps and list the files it touches.",
            "refiner": f"Refine the plan for task #{tid}: {t}. Tighten the acceptance criteria.",
            "reviewer": f"Review branch {ctx.branch} for task #{tid}: {t}. Approve or request changes.",
            "orchestrator": f"What is the state of {ctx.project.name}? File tasks for what is still open.",
        }.get(ctx.role, f"Let's work on {t} in {ctx.project.name}.")
    if ctx.role == "orchestrator":
        return rng.choice(("Any failures overnight? File follow-ups.", "Summarise the task board.",
                           f"File a task for the flaky test in {ctx.project.files[-1]}.",
                           "Check on the running workers."))
    if ctx.role in ("worker", "planner", "refiner", "reviewer"):
        return rng.choice(("[from task-scheduler] Continue.",
                           "[from task-scheduler] The review requested changes; address them.",
                           f"[from task-scheduler] Keep going with #{tid}."))
    return rng.choice(("Continue.", "The tests still fail on CI, take another look.",
                       "Please also cover the edge case with an empty store.",
                       "Any update? Summarise where you are."))


def thinking_text(rng: random.Random, ctx: Ctx) -> str:
    f, s = rng.choice(ctx.project.files), rng.choice(ctx.project.symbols)
    return rng.choice((
        f"The task is '{ctx.title}'. {f} is the likely place; check how {s} is used first, "
        f"then decide whether the change belongs there or in a helper.",
        f"The last run failed near {s}. I should read {f} before editing anything, and keep "
        f"the change small so the review stays easy.",
        f"Before changing {f}, make sure nothing else depends on {s}. A grep will tell."))


def lead_text(rng: random.Random, ctx: Ctx) -> str:
    f, s = rng.choice(ctx.project.files), rng.choice(ctx.project.symbols)
    return rng.choice((f"Let me read {f}.", f"I'll check where {s} is used.",
                       "Running the tests to see where we are.", f"Making the change in {f}."))


def final_text(ctx: Ctx) -> str:
    p = ctx.project
    return {"planner": f"Plan for #{ctx.task_id}:\n1. Read {p.files[0]}\n2. Change {p.symbols[0]}\n3. Add tests",
            "refiner": f"Refined #{ctx.task_id}: acceptance criteria added; ready to dispatch.",
            "reviewer": f"Reviewed {ctx.branch}: looks good, one naming nit. Approving.",
            "orchestrator": f"{p.name}: two tasks in flight, one queued behind a dependency. "
                            "Filed a follow-up for the flaky test.",
            }.get(ctx.role, f"Done: {ctx.title}. `{p.test_cmd}` passes; committed.")


def tool_call(rng: random.Random, ctx: Ctx, name: str | None = None) -> dict[str, Any]:
    p = ctx.project
    name = name or rng.choices(("read", "grep", "edit", "bash", "glob"), (30, 15, 25, 22, 8))[0]
    path = rng.choice(p.files)
    args: dict[str, Any] = {
        "read": {"path": path},
        "grep": {"pattern": rng.choice(p.symbols), "path": "."},
        "edit": {"path": path, "old_string": rng.choice(p.symbols),
                 "new_string": rng.choice(p.symbols) + " // updated"},
        "bash": {"command": p.test_cmd},
        "glob": {"pattern": path.rsplit("/", 1)[0] + "/*"},
        "task_create": {"project": p.name, "title": rng.choice(p.titles) + " (follow-up)"},
        "session_succeed": {"tagline": f"{p.name} orchestrator"},
    }[name]
    if ctx.model["provider"] == "anthropic":
        cid = "toolu_01" + "".join(rng.choice(_B62) for _ in range(22))
    else:
        cid = "call_" + "".join(rng.choice(_B62) for _ in range(24))
    return {"type": "tool_call", "id": cid, "name": name, "arguments": args}


@dataclass(frozen=True)
class ToolRun:
    """What running one tool call produces: its streamed lines and its result."""

    lines: tuple[str, ...]
    text: str
    is_error: bool
    duration_ms: int
    summary: str


def run_tool(rng: random.Random, ctx: Ctx, call: dict[str, Any]) -> ToolRun:
    """One tool's outcome; some fail, as tools do. Only bash streams output lines."""
    name, args, p = call["name"], call["arguments"], ctx.project
    if name == "read":
        n = rng.randint(40, 900)
        return ToolRun((), f"{args['path']} ({n} lines)\n   1\t// {p.name}\n   2\t", False,
                       rng.randint(2, 40), f"read: {args['path']} ({n} lines)")
    if name == "grep":
        k = rng.randint(1, 4)
        text = "\n".join(f"{rng.choice(p.files)}:{rng.randint(5, 600)}: {args['pattern']}" for _ in range(k))
        return ToolRun((), text, False, rng.randint(10, 200), f"grep: {k} matches")
    if name == "edit":
        err = rng.random() < 0.08
        text = f"old_string not found in {args['path']}" if err else f"Applied 1 edit to {args['path']}"
        return ToolRun((), text, err, rng.randint(3, 30), f"edit: {args['path']}")
    if name == "bash":
        err = rng.random() < 0.25
        text = p.fail_output if err else p.ok_output
        head = [f"   Compiling {p.name} v0.1.0", "    Finished test profile", "     Running tests"] \
            if p.name == "tau" else [f"> {p.test_cmd}", "collecting ..."]
        lines = tuple(line + "\n" for line in head + text.split("\n"))
        return ToolRun(lines, text, err, rng.randint(800, 20000), f"bash: exit {1 if err else 0}")
    if name == "task_create":
        return ToolRun((), f"Created task: {args['title']}", False, rng.randint(5, 40),
                       f"task_create: {args['title']}"[:60])
    if name == "session_succeed":
        return ToolRun((), "Session retired; successor created.", False, rng.randint(5, 40),
                       "session_succeed")
    text = "\n".join(p.files)
    return ToolRun((), text, False, rng.randint(5, 50), f"glob: {len(p.files)} files")


def error_text(rng: random.Random) -> str:
    return rng.choice(("overloaded_error: Overloaded", "request timed out after 600s",
                       "invalid_request_error: prompt is too long: 204113 tokens > 200000 maximum"))


def compaction_text(rng: random.Random, ctx: Ctx) -> str:
    f = rng.choice(ctx.project.files)
    return (f"## Goal\n{ctx.title}\n\n## Progress\nRead and edited {f}; `{ctx.project.test_cmd}` "
            "was failing on one case, fix in progress.\n\n## Next\nRe-run the tests and commit.")


def handoff(rng: random.Random, ctx: Ctx) -> str:
    """What a retiring session hands its successor (worker.rs ``compose_succeed_handoff``)."""
    p = ctx.project
    files = rng.sample(p.files, 2)
    return (f"Picking up from the previous {p.name} orchestrator: two tasks in flight, one queued."
            "\n\nFiles referenced in handoff:\n" + "".join(f"- {f}\n" for f in files))


#: What orchestrators and tau's task system queue for a session (sender, text);
#: the sender as tau writes it (worker.rs ``session_message``: "session:<id>").
def steer_text(rng: random.Random, ctx: Ctx, sender: str) -> tuple[str, str]:
    t = ctx.task_id
    return rng.choice((
        (f"session:{sender}", "Please also run clippy before you commit."),
        (f"session:{sender}", f"Task #{t} is blocking two others: keep the change small."),
        (f"session:{sender}", "Heads up: main moved, rebase before you push."),
        (f"task-system (rebase check task {t})", f"Task {t} transition to review was rejected: branch "
         f"{ctx.branch} is not rebased on 'main'. Please run `git rebase main` in your worktree."),
    ))
