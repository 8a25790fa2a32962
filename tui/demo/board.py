"""The task board's walk: what tau's scheduler and its users do next.

Why: tasks must move the way tau moves them (TAU.md §4.4, §4.6): the
scheduler dispatches a planner, refiner, worker or reviewer into the task's
placeholder subtree, owners are set and cleared as tasks_db.rs does, finished
tasks get their placeholder subtree archived, orchestrators chat and file new
tasks. Orchestrators and tau's task system also queue messages for sessions
(`tui.demo.queueing`): one for a running session is fed into its turn before
its next LLM call (steering), or waits if the turn ends first; tau's "plugins
reloaded" note waits for the session's next run. One call of ``choose`` picks
one such change with the fleet's seeded RNG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import content as c
from . import queueing
from .build import TERMINAL

if TYPE_CHECKING:
    from .port import Fleet

IN_FLIGHT = frozenset({"active", "review", "approved", "merging", "refining"})
DRIVER_ROLE = {"planning": "planner", "refining": "refiner", "active": "worker", "review": "reviewer",
               "interactive": "interactive"}
BAD = frozenset({"error", "panicked", "cancelled"})
MAX_IN_FLIGHT = 6  # below tau's 8: keeps the screen readable
#: Runs at once, at most, before the board starts another: each live run
#: stores a message every few seconds, and the task list (newest activity
#: first) moves a row each time another task's session stores one.
MAX_LIVE = 2
#: States whose next move starts a run (the rest only change the task's state).
STARTS_A_RUN = frozenset({"ready", "planning", "refining", "active", "review", "interactive"})
OPEN_TARGET = 10   # file new tasks while fewer than this many are open

Task = tuple[Any, ...]  # id, project, title, state, held, no_merge, branch, placeholder


def choose(fleet: Fleet, *, advance_runs: bool) -> str:
    """Pick and perform one change; return what it was."""
    w, rng = fleet.writer(), fleet.rng
    sess = {r[0]: r[1] for r in w.tau.execute("SELECT id, json_extract(model_json, '$.api') FROM sessions"
                                              " WHERE archived = 0")}
    tasks: list[Task] = w.tasks.execute(
        "SELECT id, project_name, title, state, held, no_merge, branch, placeholder_session_id FROM tasks"
        " WHERE state NOT IN ('merged','done','closed','failed') ORDER BY id").fetchall()
    links: dict[int, list[tuple[str, str]]] = {}
    for t_id, sid, role in w.tasks.execute(
            "SELECT task_id, session_id, role FROM task_sessions ORDER BY task_id, created_at, session_id"):
        links.setdefault(t_id, []).append((sid, role))
    blocked = {r[0] for r in w.tasks.execute(
        "SELECT r.from_task FROM task_relations r JOIN tasks t ON t.id = r.to_task"
        " WHERE r.relation = 'depends_on' AND t.state NOT IN ('merged','closed')")}
    live = fleet.live_runs()
    full = len(live) >= MAX_LIVE
    in_flight = sum(t[3] in IN_FLIGHT for t in tasks)
    cands: list[tuple[float, tuple[Any, ...]]] = []
    if advance_runs:
        cands += [(4.0, ("advance", sid)) for sid in live]
    for t in tasks:
        mine = [(s, r) for s, r in links.get(t[0], []) if r not in ("creator", "contributor") and s in sess]
        if any(s in live for s, _ in mine) or (full and t[3] in STARTS_A_RUN):
            continue
        weight = {"ready": 1.5 if not t[4] and t[0] not in blocked and in_flight < MAX_IN_FLIGHT else 0,
                  "approved": 1.2, "merging": 1.2, "interactive": 0.25}.get(t[3], 2.0)
        if weight:
            cands.append((weight, ("task", t, mine)))
    for sid in fleet.orchestrators() if not full else ():
        if not fleet.waiting(sid):
            cands.append((0.4 if sid not in live else 0.01, ("chat", sid)))
    open_count = sum(t[3] != "interactive" for t in tasks)
    if open_count < 2 * OPEN_TARGET:
        cands.append((1.2 if open_count < OPEN_TARGET else 0.03, ("file", tasks, links)))
    if live:  # a message for a running session: steering (or it waits, if the turn ends first)
        cands.append((0.5, ("steer", live)))
    idle_workers = [s for t in tasks if t[3] in IN_FLIGHT for s, r in links.get(t[0], [])
                    if r == "worker" and s in sess and s not in live]
    if idle_workers:  # tau's "plugins reloaded" note: queued, no resume
        cands.append((0.08, ("note", idle_workers)))
    if not advance_runs:  # runs stream on their own: most board ticks find nothing to do
        cands.append((4.0, ("wait",)))
    action = rng.choices([a for _, a in cands], [wt for wt, _ in cands])[0]
    if action[0] == "wait":
        return "nothing to do"
    if action[0] == "advance":
        return fleet.advance(action[1])
    if action[0] == "chat":
        return fleet.chat(action[1])
    if action[0] == "task":
        return _task_action(fleet, action[1], action[2])
    if action[0] == "steer":
        return _steer(fleet, rng.choice(action[1]))
    if action[0] == "note":
        sid = rng.choice(action[1])
        queueing.queue(fleet, sid, "[System: plugins reloaded. Tool definitions updated.]", "system",
                       resume=False)  # dispatch.rs ReloadPlugins: queue_message_to_session
        return f"{sid}: a note queued"
    return _file(fleet, action[1], action[2])


def _steer(fleet: Fleet, target: str) -> str:
    """An orchestrator's ``session_message`` (or the task system's) to a running session."""
    ctx, _, _ = fleet._ctx(target)
    orchs = [s for s in fleet.orchestrators() if fleet.project_of(s) == ctx.project.name and s != target]
    sender, text = c.steer_text(fleet.rng, ctx, orchs[-1] if orchs else "s1")
    sid = queueing.queue(fleet, target, text, sender)
    return f"{sid}: a message queued by {sender}"


def set_state(fleet: Fleet, task: Task, new: str, by: str | None, note: str | None = None,
              **cols: Any) -> str:
    """A state change; a terminal one archives the task's placeholder subtree (tasks.rs)."""
    w = fleet.writer()
    w.set_state(task[0], task[3], new, by, note, **cols)
    if new in TERMINAL:  # the tasks plugin ignores a refusal (a live session in the tree)
        busy = set(fleet.live_runs())
        if task[7]:
            w.archive_tree(task[7], busy)
        else:  # a task older than placeholders: its archivable roles, one by one
            for (sid,) in w.tasks.execute("SELECT session_id FROM task_sessions WHERE task_id = ? AND role IN"
                                          " ('worker','planner','reviewer','refiner')", (task[0],)).fetchall():
                w.archive_tree(sid, busy)
    return f"task {task[0]}: {task[3]} -> {new}"


def spawn(fleet: Fleet, task: Task, role: str) -> str:
    """The scheduler dispatches a session into the task's placeholder subtree and runs it."""
    w, rng = fleet.writer(), fleet.rng
    t_id, project, title = task[0], task[1], task[2]
    p = c.PROJECTS.get(project, c.PROJECTS["tau"])
    model = c.model_for(rng, role)
    cwd = f"{p.path}/.tau/worktrees/task-{t_id}" if role in ("worker", "reviewer") else p.path
    sid = w.create_session(model, cwd=cwd, parent_id=task[7], tagline=c.session_tagline(t_id, role, title),
                           project=project, system_prompt=f"You are tau, a coding agent ({role}) working in {cwd}.")
    w.link(t_id, sid, role, owner=role in ("worker", "planner", "interactive"))
    fleet.start_run(sid)
    return f"{sid}: joined task {t_id} as {role}"


def _task_action(fleet: Fleet, task: Task, mine: list[tuple[str, str]]) -> str:
    """What tau's scheduler would do next with a task whose sessions are all idle."""
    rng = fleet.rng
    t_id, project, title, state, _held, no_merge, branch, _ph = task
    if state == "ready":
        p = c.PROJECTS.get(project, c.PROJECTS["tau"])
        branch = f"tau/task-{t_id}-{c.slug(title)}"
        set_state(fleet, task, "active", None, branch=branch, merge_target="main",
                  worktree_path=f"{p.path}/.tau/worktrees/task-{t_id}")
        fleet.turns[(t_id, "active")] = 1
        return spawn(fleet, (*task[:3], "active", *task[4:6], branch, task[7]), "worker")
    if state == "approved":
        return set_state(fleet, task, "done" if no_merge else "merging", None)
    if state == "merging":
        if rng.random() < 0.05:
            return set_state(fleet, task, "failed", None, note=f"Merge of {branch} failed: conflict.")
        return set_state(fleet, task, "merged", None, note=f"Merged {branch} into main.")
    role = DRIVER_ROLE.get(state, "worker")
    drivers = [s for s, r in mine if r == role]
    if not drivers:
        fleet.turns[(t_id, state)] = 1
        return spawn(fleet, task, role)
    outcomes = [fleet.ended.pop(s) for s in drivers if s in fleet.ended]
    turns = fleet.turns.get((t_id, state), 0)
    last = drivers[-1]
    if state == "active" and any(o in BAD for o in outcomes) and rng.random() < 0.35:
        return set_state(fleet, task, "failed", last, note="Worker failed; giving up on this attempt.")
    if state == "planning" and rng.random() < 0.03:
        return set_state(fleet, task, "closed", last, note="Closed: not worth doing.")
    need = 2 if state == "active" else 1
    if (state != "interactive" and turns >= need and not (outcomes and outcomes[-1] in BAD)
            and rng.random() < 0.75):
        if state == "review":
            if rng.random() < 0.2:
                fleet.turns[(t_id, "active")] = 0
                return set_state(fleet, task, "active", last, note="Changes requested: add a test.")
            return set_state(fleet, task, "approved", last, note="LGTM.")
        nxt = {"planning": "refining", "refining": "ready", "active": "review"}[state]
        if nxt in ("refining", "ready"):  # tasks_db.rs clears the owner on these
            return set_state(fleet, task, nxt, last, session_id=None)
        return set_state(fleet, task, nxt, last)
    fleet.turns[(t_id, state)] = turns + 1
    if state == "active" and len(drivers) < 3 and rng.random() < 0.25:
        return spawn(fleet, task, "worker")
    sid = rng.choice(drivers)
    if state == "interactive":
        return fleet.chat(sid)
    fleet.start_run(sid)
    return f"{sid}: turn started"


def _file(fleet: Fleet, tasks: list[Task], links: dict[int, list[tuple[str, str]]]) -> str:
    """File a new task, as an orchestrator (or a person) does, with its placeholder."""
    w, rng = fleet.writer(), fleet.rng
    # One of this fleet's own projects (another demo host's are its own: content.cast).
    mine = sorted(n for (n,) in w.tau.execute("SELECT name FROM projects") if n in c.PROJECTS)
    p = c.PROJECTS[rng.choice(mine or ["tau"])]
    count = w.tasks.execute("SELECT COUNT(*) FROM tasks WHERE project_name = ?", (p.name,)).fetchone()[0]
    title = p.titles[count % len(p.titles)] + (" (follow-up)" if count >= len(p.titles) else "")
    orchs = [s for s in fleet.orchestrators() if fleet.project_of(s) == p.name]
    workers = [s for t in tasks for s, r in links.get(t[0], []) if r == "worker" and t[1] == p.name]
    roll = rng.random()
    creator = (orchs[-1] if orchs and roll < 0.65 else rng.choice(workers) if workers and roll < 0.85 else None)
    state = "planning" if rng.random() < 0.65 else "ready"
    deps = [t[0] for t in tasks if t[3] in IN_FLIGHT and t[1] == p.name]
    dep = rng.choice(deps) if deps and rng.random() < 0.2 else None
    files = rng.sample(p.files, rng.randint(1, 3))
    t_id = w.file_task(p.name, title, state, rng.randint(0, 3), rng.sample(c.TAGS, rng.randint(1, 2)), files,
                       creator, dep)
    root = creator
    while root is not None:
        parent = w.tau.execute("SELECT parent_id FROM sessions WHERE id = ?", (root,)).fetchone()
        if not parent or parent[0] is None:
            break
        root = parent[0]
    ph = w.create_session(c.LOG_MODEL, cwd=p.path, parent_id=root, tagline=c.placeholder_tagline(t_id, title),
                          project=p.name, system_prompt=None, notify_parent=False)
    w.set_placeholder(t_id, ph)
    return f"task {t_id} filed ({state})" + (f" by {creator}" if creator else "")
