"""The build of one store: decide everything (`plan`), then write it (`write`).

One random generator, drawn in a fixed order, so a size and a seed give the
same store byte for byte (the cache and the benchmark's figures rely on it).
The plan gives task states and times (newer tasks are the open ones), the
sessions per task in tau's role order and the children without a task, the
running sessions and the benchmark's target, the big session, message counts
(Pareto-spread) and their times, interleaved as tau writes them. The write
uses one connection per file, one transaction, ``executemany``,
``synchronous=OFF`` and no journal, and creates the messages index after the
rows (the same ``CREATE INDEX`` tau runs); both files end in WAL mode.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tui.tau.ddl import TASKS_DB, TASKS_DDL, TAU_DB, TAU_DDL

from .content import (
    EXIT_W, EXITS, HAPPY, IN_FLIGHT, LIVE_PHASES, MODELS, OBJECTS, OPEN, OPEN_W, PERSISTED, PROJECTS,
    ROLE_SEQ, SUFFIX, TASK_ROLES, TERMINAL, TERMINAL_W, VERBS, _dump, _script, _system_prompts, _weighted,
)

#: Bump when the generated content changes: old caches are then rebuilt.
GEN_VERSION = 5

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



@dataclass
class Plan:
    """What a store will hold, decided before a row is written."""

    now: int
    start: int
    n_tasks: int
    n_sess: int
    states: list[str]
    created: list[int]
    sess_task: list[int]
    sess_role: list[str]
    sess_created: list[int]
    sess_last: list[int]
    links: list[tuple[int, int, str, int]]
    order: list[int]
    sid_of: list[str]
    phase: list[Any]
    exit_status: list[Any]
    archived: list[int]
    by_task: dict[int, list[int]]
    target: int
    target_sid: int
    live_sids: list[int]
    big_sid: int | None
    msg_count: list[int]
    projects: list[Any]
    scripts: list[list[str]]
    n_scripts: int
    big_script: list[str]
    keys: list[tuple[int, int, int]]


def build(spec: SizeSpec, data_dir: Path, *, seed: int = 1,
          now_ms: int | None = None) -> dict[str, Any]:
    """Write ``tasks.db`` and ``tau.db`` for ``spec`` into ``data_dir``."""
    rng = random.Random(seed * 1000 + ord(spec.name[0]))
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    return write(plan(spec, rng, now), spec, data_dir, rng, seed)


def plan(spec: SizeSpec, rng: random.Random, now: int) -> Plan:
    """Every decision about the store, in the order the generator draws them."""
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

    return Plan(now=now, start=start, n_tasks=n_tasks, n_sess=n_sess, states=states, created=created,
                sess_task=sess_task, sess_role=sess_role, sess_created=sess_created, sess_last=sess_last,
                links=links, order=order, sid_of=sid_of, phase=phase, exit_status=exit_status,
                archived=archived, by_task=by_task, target=target, target_sid=target_sid,
                live_sids=live_sids, big_sid=big_sid, msg_count=msg_count, projects=projects,
                scripts=scripts, n_scripts=n_scripts, big_script=big_script, keys=keys)


def write(p: Plan, spec: SizeSpec, data_dir: Path, rng: random.Random, seed: int) -> dict[str, Any]:
    """The two files, from the plan (the rest of the draws: titles, parents, …)."""
    (now, start, n_tasks, n_sess, states, created, sess_task, sess_role, sess_created, sess_last,
     links, order, sid_of, phase, exit_status, archived, by_task, target, target_sid, live_sids,
     big_sid, msg_count, projects, scripts, n_scripts, big_script, keys) = (
        p.now, p.start, p.n_tasks, p.n_sess, p.states, p.created, p.sess_task, p.sess_role,
        p.sess_created, p.sess_last, p.links, p.order, p.sid_of, p.phase, p.exit_status, p.archived,
        p.by_task, p.target, p.target_sid, p.live_sids, p.big_sid, p.msg_count, p.projects, p.scripts,
        p.n_scripts, p.big_script, p.keys)
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


