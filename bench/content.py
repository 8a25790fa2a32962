"""What the generated stores say: tau's vocabulary and its messages' JSON.

Projects, task titles, models (tau's whole ``Model``: tau cannot load a
session whose model_json lacks a field), the states and phases tau writes, a
few KB of system prompt per role, and pre-serialised message templates of
every role (user; assistant with thinking, text, tool calls and usage; tool
results with code and test output; compaction summaries; info). Used by the
build (`bench.gen_build`) and by the benchmark's tau (`bench.writer`).
"""

from __future__ import annotations

import json
import random
from typing import Any

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


def _weighted(rng: random.Random, items: tuple, weights: tuple, k: int) -> list:
    return rng.choices(items, weights, k=k)
