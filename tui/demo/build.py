"""``build_demo_store``: the initial fleet, as a running tau would have left it.

Why: the dashboard needs something to show at once. The store holds what tau
persists and nothing more (TAU.md §2–§5): orchestrator chat sessions that file
tasks, a ``log`` placeholder per task parenting its planner / worker /
reviewer / refiner / interactive sessions, finished tasks' subtrees archived,
one deleted session (a bare task_sessions row). Live sessions are caught
mid-turn with one of tau's six persisted phases on disk; ``DemoFleet``
resumes them in memory when it starts.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..tau import ddl as tauschema
from . import content as c
from .content import DAY, HOUR, MIN, SEC
from .replay import Planned, Recorder
from .writer import tx

TERMINAL = frozenset({"merged", "done", "closed", "failed"})
DRIVER_ROLE = {"planning": "planner", "refining": "refiner", "active": "worker", "review": "reviewer",
               "interactive": "interactive"}
HAPPY_PATH = ("planning", "refining", "ready", "active", "review", "approved", "merging", "merged")


@dataclass(frozen=True)
class Spec:
    """One task of the initial fleet: where it is now and how it got there."""

    project: str
    state: str
    created_ago: int
    entered_ago: int
    start: str = "planning"
    workers: int = 1                  # workers in a past 'active' state
    live: tuple[str, ...] = ()        # current drivers: a Recorder.partial mode, or 'idle'
    outcomes: tuple[str, ...] = ()    # last-turn outcomes of past drivers, in order
    held: bool = False
    no_merge: bool = False
    depends_on: int | None = None     # index into SPECS
    bare_role: str | None = None      # this role's session is deleted from tau.db
    filer: str = "orchestrator"       # who filed it: orchestrator, worker, or a person


SPECS: tuple[Spec, ...] = (
    Spec("sessiontop", "interactive", 3 * DAY, 3 * DAY, start="interactive", live=("preparing",),
         outcomes=("cancelled",), filer="person"),
    Spec("tau", "merged", 2 * DAY, 20 * HOUR),
    Spec("webapp", "merged", 30 * HOUR, 6 * HOUR, start="ready"),
    Spec("sessiontop", "merged", 8 * HOUR, 40 * MIN, bare_role="reviewer", filer="worker"),
    Spec("tau", "done", 26 * HOUR, 3 * HOUR, no_merge=True),
    Spec("webapp", "closed", 20 * HOUR, 12 * HOUR, filer="person"),
    Spec("tau", "failed", 10 * HOUR, 2 * HOUR, workers=2, outcomes=("error", "panicked")),
    Spec("tau", "active", 3 * HOUR, 50 * MIN, live=("tools", "llm")),
    Spec("sessiontop", "active", 1 * HOUR, 12 * MIN, start="ready", live=("throttled",)),
    Spec("webapp", "active", 5 * HOUR, 2 * HOUR, live=("llm", "idle", "idle"), outcomes=("completed", "max_turns")),
    Spec("tau", "review", 4 * HOUR, 8 * MIN, live=("llm",), filer="worker"),
    Spec("webapp", "merging", 6 * HOUR, 30 * SEC),
    Spec("sessiontop", "refining", 2 * HOUR, 6 * MIN, live=("tools",)),
    Spec("tau", "ready", 90 * MIN, 25 * MIN),
    Spec("webapp", "ready", 7 * HOUR, 5 * HOUR, start="ready", held=True),
    Spec("sessiontop", "ready", 40 * MIN, 40 * MIN, start="ready", depends_on=8),
    Spec("tau", "planning", 20 * MIN, 20 * MIN, live=("llm",)),
    Spec("webapp", "planning", 3 * MIN, 3 * MIN, filer="person"),
    Spec("webapp", "interactive", 28 * HOUR, 28 * HOUR, start="interactive", live=("idle",),
         outcomes=("panicked",)),
)
#: Orchestrators (chat sessions with no task role but creator): project, past outcomes,
#: what their last turn is doing now. tau's first one retired itself into a successor.
ORCHESTRATORS = (("tau", ("completed", "completed", "succeeded"), None),
                 ("sessiontop", ("completed", "completed", "max_turns"), "waiting"),
                 ("webapp", ("completed", "error"), "compacting"))


@dataclass(frozen=True)
class _Row:
    """One tasks row of the initial fleet, with session keys still to be turned into ids."""

    spec: int
    project: str
    title: str
    state: str
    priority: int
    tags: str
    files: str
    branch: str | None
    worktree: str | None
    owner: str | None
    placeholder: str
    filer: str | None
    created: int
    merge_target: str | None


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


def _ordered(titles: tuple[str, ...], seed: int | None, name: str) -> tuple[str, ...]:
    """A project's titles as its fleet uses them: in order, or in an order of ``seed``."""
    if seed is None:
        return titles
    out = list(titles)
    random.Random(f"{seed}/{name}").shuffle(out)
    return tuple(out)


def path_of(spec: Spec) -> list[str]:
    """The states a task went through to reach its current one."""
    if spec.start == "interactive":
        return ["interactive"]
    i = HAPPY_PATH.index(spec.start)
    tail = {"done": ("approved", "done"), "failed": ("active", "failed"),
            "closed": ("planning", "closed")}.get(spec.state, (spec.state, spec.state))
    path = list(HAPPY_PATH[i:HAPPY_PATH.index(tail[0]) + 1])
    return path if tail[1] == tail[0] else path + [tail[1]]


def build_demo_store(data_dir: Path | str, *, seed: int = 7, now_ms: int | None = None,
                     cast: int = 0) -> DemoState:
    """Create a tau store in ``data_dir`` holding an initial fleet as of ``now_ms``.

    Deterministic for a given ``seed``, ``now_ms`` and ``cast``. Refuses
    (FileExistsError) to write into a store that already has tasks, so it never
    doubles a fleet. ``cast``: the projects its story is told in (`content.cast`:
    0 the demo's own; another demo host's, ``--demo-hosts``, its own projects,
    their titles in an order of its seed).
    """
    data_dir = Path(data_dir)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    tasks_path, tau_path = tauschema.create_store(data_dir)
    tconn, sconn = tauschema.connect_writer(tasks_path), tauschema.connect_writer(tau_path)
    try:
        for conn in (tconn, sconn):  # fewer fsyncs; readers cannot tell
            conn.execute("PRAGMA synchronous=NORMAL")
        if tconn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]:
            raise FileExistsError(f"{tasks_path} already holds tasks")
        plan = _Plan(random.Random(seed), Recorder(seed), now, c.cast(cast), seed if cast else None)
        plan.orchestrators()
        for i in sorted(range(len(plan.specs)), key=lambda i: (-plan.specs[i].created_ago, i)):
            plan.task(i)
        written = plan.write(tconn, sconn)
        return DemoState(data_dir, tasks_path, tau_path, now, len(SPECS), len(written),
                         sum(len(p.msgs) for p in written))
    finally:
        tconn.close()
        sconn.close()


def _timed(shuffle: int | None) -> tuple[Spec, ...]:
    """The board's tasks, at their own times on a demo host (``shuffle``: its
    seed): each task filed and moved on up to half again sooner or later, so
    that hosts told the same story do not file it in lockstep (their ids,
    order and ages differ). This machine's demo (None) keeps the board as is."""
    if shuffle is None:
        return SPECS
    rng = random.Random(shuffle)
    out = []
    for spec in SPECS:
        created = max(10 * MIN, int(spec.created_ago * rng.uniform(0.5, 1.5)))
        entered = min(created, max(MIN, int(spec.entered_ago * rng.uniform(0.5, 1.5))))
        out.append(replace(spec, created_ago=created, entered_ago=entered))
    return tuple(out)


class _Plan:
    """The fleet's history, replayed in time order per session."""

    def __init__(self, rng: random.Random, rec: Recorder, now: int, projects: dict[str, c.Project],
                 shuffle: int | None = None) -> None:
        self.rng, self.rec, self.now = rng, rec, now
        self.specs = _timed(shuffle)
        #: The projects by the role the story gives them; their titles (in an order of ``shuffle``).
        self.projects = projects
        self.project_titles = {role: _ordered(p.titles, shuffle, p.name) for role, p in projects.items()}
        self.orch: dict[str, list[Planned]] = {}
        self.task_ids: dict[int, int] = {}
        self.titles: dict[int, str] = {}
        self.placeholders: dict[int, Planned] = {}
        self.creators: dict[int, Planned | None] = {}
        self.rows: list[_Row] = []
        self.history: list[tuple[int, str | None, str, str | None, int]] = []
        self.notes: list[tuple[int, str, str | None, int]] = []
        self.owner: dict[int, Planned | None] = {}

    def session(self, key: str, role: str, ctx: c.Ctx, at: int, *, parent: str | None, cwd: str,
                tagline: str | None, task: int | None = None, model: dict | None = None) -> Planned:
        return self.rec.add(Planned(key, role, ctx, at, model or ctx.model, cwd, parent, tagline,
                                    f"You are tau, a coding agent ({role}) working in {cwd}.", task))

    def orchestrators(self) -> None:
        for n, (project, outcomes, live) in enumerate(ORCHESTRATORS):
            p = self.projects[project]
            ctx = c.Ctx(p, 0, f"{p.name} orchestration", "orchestrator", c.MODELS["opus"], "main")
            start = self.now - 3 * DAY - (n + 1) * HOUR
            s = self.session(f"o{n}", "orchestrator", ctx, start, parent=None, cwd=p.path, tagline=None)
            chain = [s]
            for k, outcome in enumerate(outcomes):
                at = start + SEC + k * 20 * HOUR
                self.rec.turn(chain[-1], at, outcome, limit=self.now - 2 * HOUR, compact=k == 1)
                if chain[-1].successor:
                    chain.append(self.rec.sessions[chain[-1].successor])
            if len(chain) > 1:
                self.rec.turn(chain[-1], self.now - 5 * HOUR, "completed", limit=self.now - HOUR)
                self.rec.partial(chain[-1], self.now - 70 * SEC, self.now - SEC, "llm")
            elif live:
                self.rec.partial(chain[-1], self.now - 90 * SEC, self.now - SEC,
                                 "llm" if live == "waiting" else live)
                if live == "waiting":  # a second chat arrived while this turn runs
                    chain[-1].last_phase = "waiting"
            self.orch[project] = chain

    def task(self, i: int) -> None:
        spec, rng, rec = self.specs[i], self.rng, self.rec
        p, titles = self.projects[spec.project], self.project_titles[spec.project]
        task_id = self.task_ids[i] = len(self.task_ids) + 1
        used = sum(1 for j in self.task_ids if self.specs[j].project == spec.project) - 1
        title = self.titles[i] = titles[used % len(titles)] if spec.start != "interactive" or i == 0 \
            else "Pair on the checkout refactor" if p.name == "webapp" else f"Pair on: {titles[-1]}"
        created, entered = self.now - spec.created_ago, self.now - spec.entered_ago
        path = path_of(spec)
        times = [created + (entered - created) * k // max(len(path) - 1, 1) for k in range(len(path))]
        branch = f"tau/task-{task_id}-{c.slug(title)}"
        creator = self._creator(spec, created)
        self.creators[i] = creator
        root = rec.root(creator.key) if creator else None
        ph = self.placeholders[i] = self.session(
            f"p{task_id}", "log", c.Ctx(p, task_id, title, "log", c.LOG_MODEL, branch), created,
            parent=root, cwd=p.path, tagline=c.placeholder_tagline(task_id, title), task=i, model=c.LOG_MODEL)
        ph.notify_parent = False
        outcomes = list(spec.outcomes)
        last_driven = [s for s in path if s in DRIVER_ROLE][-1:] or [None]
        self.history.append((i, None, path[0], creator.key if creator else None, created))
        drivers: list[Planned] = []
        for k, state in enumerate(path):
            current = k == len(path) - 1
            if k:
                by = drivers[-1].key if drivers and path[k - 1] in DRIVER_ROLE else None
                self.history.append((i, path[k - 1], state, by, times[k]))
            role = DRIVER_ROLE.get(state)
            if role is None or (current and not spec.live):
                continue
            a = times[k]
            n = len(spec.live) if current else (spec.workers if state == "active" else 1)
            for w in range(n):
                at = a + ((self.now if current else times[k + 1]) - a) * (2 + 20 * w) // 100
                ctx = c.Ctx(p, task_id, title, role, c.model_for(rng, role), branch)
                cwd = f"{p.path}/.tau/worktrees/task-{task_id}" if role in ("worker", "reviewer") else p.path
                s = self.session(f"t{task_id}{role[0]}{w}", role, ctx, at, parent=ph.key, cwd=cwd,
                                 tagline=c.session_tagline(task_id, role, title), task=i)
                drivers.append(s)
                if role in ("worker", "planner", "interactive"):
                    self.owner[i] = s
                end = self.now - 2 * MIN if current else times[k + 1] - (times[k + 1] - a) // 30
                mode = spec.live[w] if current else "idle"
                mine = outcomes if state == last_driven[0] else []
                k_turns = rng.randint(1, 3) if mode == "idle" or mine else rng.randint(0, 2)
                span = max(end - at, 10 * MIN) // (k_turns + 1)
                for j in range(k_turns):
                    last = mine.pop(0) if j == k_turns - 1 and mine else "completed"
                    rec.turn(s, at + SEC + j * span, last, limit=end)
                if mode != "idle":
                    rec.partial(s, self.now - rng.randint(60, 100) * SEC, self.now - SEC, mode)
            if state == "active" and not current:
                self.notes.append((i, f"Worker finished on {branch}; tests pass.", drivers[-1].key, times[k + 1]))
        if spec.state in TERMINAL:
            rec.t = self.now - spec.entered_ago
            rec.archive(ph.key)
            if spec.state in ("merged", "done"):
                self.notes.append((i, f"Merged {branch} into main." if spec.state == "merged"
                                   else "Approved; no merge needed.", drivers[-1].key if drivers else None,
                                   rec.t))
        if spec.bare_role:
            for s in drivers:
                s.deleted = s.deleted or s.role == spec.bare_role
        dispatched = "active" in path
        files = rng.sample(p.files, rng.randint(1, 3))
        owner = self.owner.get(i)
        if spec.state in ("refining", "ready") or (spec.state == "planning" and not spec.live):
            owner = None  # cleared on planning→refining and refining→ready
        self.rows.append(_Row(
            i, p.name, title, spec.state, rng.randint(0, 3), json.dumps(rng.sample(c.TAGS, rng.randint(1, 2))),
            json.dumps(files), branch if dispatched else None,
            f"{p.path}/.tau/worktrees/task-{task_id}" if dispatched else None, owner.key if owner else None,
            ph.key, creator.key if creator else None, created, "main" if dispatched else None))

    def _creator(self, spec: Spec, at: int) -> Planned | None:
        if spec.filer == "person":
            return None
        if spec.filer == "worker":
            workers = [s for s in self.rec.sessions.values() if s.role == "worker" and s.created_at < at]
            if workers:
                return self.rng.choice(workers)
        chain = [s for s in self.orch[spec.project] if s.created_at <= at]
        return chain[-1] if chain else self.orch[spec.project][0]

    def write(self, tconn: sqlite3.Connection, sconn: sqlite3.Connection) -> list[Planned]:
        """Give ids in creation order, then write each file in one transaction."""
        ordered = sorted(self.rec.sessions.values(), key=lambda p: (p.created_at, p.key))
        for n, p in enumerate(ordered):
            p.id = f"s{n + 1}"
        sid: dict[str | None, str | None] = {p.key: p.id for p in ordered}
        sid[None] = None
        tid = self.task_ids
        written = [p for p in ordered if not p.deleted]
        with tx(tconn):
            for r in sorted(self.rows, key=lambda r: tid[r.spec]):
                spec = self.specs[r.spec]
                updated = max([h[4] for h in self.history if h[0] == r.spec] + [r.created])
                tconn.execute(
                    "INSERT INTO tasks (id, project_name, title, state, priority, tags, affected_files, branch,"
                    " worktree_path, session_id, held, placeholder_session_id, no_merge, dispatch_failure_count,"
                    " filed_by_project, filed_by_session_id, created_at, updated_at, merge_target)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (tid[r.spec], r.project, r.title, r.state, r.priority, r.tags, r.files, r.branch, r.worktree,
                     sid[r.owner], int(spec.held), sid[r.placeholder], int(spec.no_merge), int(r.state == "failed"),
                     r.project if r.filer else None, sid[r.filer], r.created, updated, r.merge_target))
            links = []
            for i, creator in self.creators.items():
                if creator is not None:
                    links.append((tid[i], sid[creator.key], "creator", self.now - self.specs[i].created_ago))
            links += [(tid[p.task], p.id, p.role, p.created_at) for p in ordered
                      if p.task is not None and p.role != "log"]
            tconn.executemany("INSERT OR IGNORE INTO task_sessions (task_id, session_id, role, created_at)"
                              " VALUES (?,?,?,?)", links)
            tconn.executemany("INSERT INTO task_relations VALUES (?,?,'depends_on')",
                              [(tid[i], tid[s.depends_on]) for i, s in enumerate(self.specs) if s.depends_on is not None])
            tconn.executemany(
                "INSERT INTO task_history (task_id, field, old_value, new_value, session_id, created_at)"
                " VALUES (?, 'state', ?, ?, ?, ?)",
                sorted(((tid[i], old, new, sid[by], at) for i, old, new, by, at in self.history),
                       key=lambda h: (h[4], h[0])))
            tconn.executemany("INSERT INTO task_messages (task_id, content, author, created_at, updated_at)"
                              " VALUES (?,?,?,?,?)",
                              [(tid[i], text, sid[by] or "system", at, at)
                               for i, text, by, at in sorted(self.notes, key=lambda n: n[3])])
        msgs = sorted((at, seq, p.id, m) for p in written for at, seq, m in p.msgs)
        with tx(sconn):
            sconn.executemany(
                "INSERT INTO sessions (id, model_json, system_prompt, cwd, is_subscription, created_at, parent_id,"
                " child_budget, tagline, archived, last_exit_status, last_phase, auto_archive, notify_parent,"
                " project_name, successor_id) VALUES (?,?,?,?,?,?,?,16,?,?,?,?,0,?,?,?)",
                [(p.id, c.dump(p.model), p.system_prompt, p.cwd, int(p.model["provider"] == "anthropic"),
                  p.created_at, sid[p.parent], p.tagline, int(p.archived), p.exit_status, p.last_phase,
                  int(p.notify_parent), p.ctx.project.name, sid[p.successor]) for p in written])
            sconn.executemany("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                              [(s, c.dump(m), at) for at, _, s, m in msgs])
            sconn.executemany("INSERT INTO projects VALUES (?,?,?,?)",
                              [(p.name, p.path, self.now, self.now - 30 * DAY) for p in self.projects.values()])
            sconn.execute("INSERT INTO migrations VALUES ('project_migration_v1', ?)", (self.now - 30 * DAY,))
        return written
