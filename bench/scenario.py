"""The sequence of visible changes the latency runs make, and what each should show.

The target task (``meta["target_task"]``) has one running session
(``meta["target_session"]``, a worker an operator chats with over the socket,
so its turns end with an exit status: TAU.md §5.3); its other sessions are
idle. Changes come by one of two paths, as they do from tau:

- **disk**: tau commits to tasks.db / tau.db and the dashboard sees the
  commit. On the task list: the target's title (a new ``BTnnnnn`` marker), a
  new session (the Sessions column), a task tau files (a new ``active`` row:
  the title's count of tasks), that task's state moving on (its row's State
  column: review, merging, refining, active, …). On the task screen: a new message (the
  pane's newest lines, ``mknnnnn``), the turn ending (``last turn <status>``,
  written with ``last_phase='idle'`` after the server's ``agent_done`` and
  ``Idle``), a new turn starting (``preparing``, live: persisted, then
  confirmed by the server over a fresh subscription), a new session (the
  "Sessions (N, …" heading).
- **socket**: the running session's phase changes in tau's server memory and
  is pushed to its subscribers; nothing is written. On the task list: the
  Phase column; on the task screen: the pane's second line (live: after the
  spinner).

Each change is different from what the screen showed before it, so "the text
is there" means "the change arrived".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .views import Expect

#: The in-memory phases of a running session (labels), cycled so that each
#: change differs from the last.
PHASES = ("thinking", "running tools", "working", "sending request", "waiting", "compacting",
          "preparing", "rate limited")
EXITS = ("completed", "error", "cancelled", "max_turns", "succeeded", "panicked")
#: A filed task's states as it moves on (each in tau's Active group: its row stays in sight).
STATES_CYCLE = ("active", "review", "merging", "refining")
#: Kinds of change per path and screen, in the order they cycle.
KINDS = {
    ("disk", "list"): ("title", "session", "created", "state"),
    ("disk", "task"): ("message", "exit", "start", "session"),
    ("socket", "list"): ("phase",),
    ("socket", "task"): ("phase",),
}


def _phase_text(phase: str) -> str:
    return phase[:12]  # the task table cuts the phase to 13 columns


@dataclass
class Change:
    screen: str  # "list" | "task"
    kind: str  # title | session | message | exit | start | phase
    op: str
    args: dict[str, Any]
    expect: Expect
    path: str = "disk"  # "disk" | "socket"
    #: Told the writer's answer once the change is made (a new task's id).
    after: Callable[[dict[str, Any]], None] | None = None


@dataclass
class Scenario:
    task: int
    sid: str
    sessions: int  # task_sessions rows of the target task now
    marker_seq: int = 0
    msg_seq: int = 0
    new_seq: int = 0
    phase: str = "thinking"
    live: bool = True
    exit_i: int = 0  # EXITS[0] is the previous turn's outcome at the start
    added: list[str] = field(default_factory=list)
    sid_base: int = 50_000_000
    tasks: int = 0  # tasks in the store now (the title's count)
    #: Tasks this run filed (id, title marker), the newest last; the state of the newest.
    filed: list[tuple[int, str]] = field(default_factory=list)
    filed_state: str = "active"

    def __post_init__(self) -> None:
        # Message markers differ from one run to the next on the same store (a
        # pane shows the newest three messages, which may be an earlier run's).
        self.msg_seq = (self.sid_base // 100) % 100_000

    @property
    def marker(self) -> str:
        return f"BT{self.marker_seq:05d}"

    def setup_ops(self) -> list[tuple[str, dict[str, Any]]]:
        """Changes that put the target in its starting state (not timed): a
        turn running (thinking), the previous turn completed."""
        self.phase = "thinking"
        self.live = True
        self.exit_i = 0
        return [("title", {"task": self.task, "title": f"{self.marker} bench target"}),
                ("reset", {"sid": self.sid, "status": EXITS[0], "phase": self.phase}),
                ("message", {"sid": self.sid, "text": "bench: starting the latency run"})]

    def ready_expect(self) -> Expect:
        return Expect("row", _phase_text(self.phase), title_marker=self.marker)

    def _next_phase(self) -> str:
        i = PHASES.index(self.phase) if self.phase in PHASES else -1
        self.phase = PHASES[(i + 1) % len(PHASES)]
        return self.phase

    def _new_sid(self) -> str:
        self.new_seq += 1
        sid = f"s{self.sid_base + self.new_seq}"
        self.added.append(sid)
        self.sessions += 1
        return sid

    def _phase_change(self, screen: str) -> Change:
        if not self.live:
            raise RuntimeError("a phase change needs a running turn")
        p = self._next_phase()
        expect = (Expect("row", _phase_text(p), title_marker=self.marker) if screen == "list"
                  else Expect("card", p, sid=self.sid, line=1, live=True))
        return Change(screen, "phase", "phase", {"sid": self.sid, "phase": p}, expect, "socket")

    def list_changes(self, n: int, path: str = "disk") -> Iterator[Change]:
        kinds = itertools.cycle(KINDS[(path, "list")])
        for _ in range(n):
            kind = next(kinds)
            if kind == "phase":
                yield self._phase_change("list")
            elif kind == "title":
                self.marker_seq += 1
                yield Change("list", kind, "title",
                             {"task": self.task, "title": f"{self.marker} bench target"},
                             Expect("row", self.marker, title_marker=self.marker))
            elif kind == "created":
                yield self._created()
            elif kind == "state":
                yield self._state() if self.filed else self._created()
            else:
                sid = self._new_sid()
                live = " (1 live)" if self.live else ""
                yield Change("list", kind, "session", {"task": self.task, "sid": sid},
                             Expect("row", f" {self.sessions}{live}", title_marker=self.marker))

    def _created(self) -> Change:
        """tau files a task (an ``active`` row; tau's id, the next one): the
        title counts it."""
        self.tasks += 1
        marker = f"NT{(self.sid_base // 100_000) % 1000:03d}{len(self.filed) + 1:02d}"

        def filed(reply: dict[str, Any]) -> None:
            self.filed.append((int(reply["id"]), marker))
            self.filed_state = "active"

        return Change("list", "created", "task", {"title": f"{marker} bench filed task",
                                                  "state": "active"},
                      Expect("title", f" {self.tasks} tasks ·"), after=filed)

    def _state(self) -> Change:
        """The newest filed task's state moves on (its row's State column)."""
        tid, marker = self.filed[-1]
        order = STATES_CYCLE
        self.filed_state = order[(order.index(self.filed_state) + 1) % len(order)
                                 if self.filed_state in order else 0]
        return Change("list", "state", "task_state", {"task": tid, "state": self.filed_state},
                      Expect("row", self.filed_state, title_marker=marker, task=tid))

    def task_changes(self, n: int, path: str = "disk") -> Iterator[Change]:
        kinds = itertools.cycle(KINDS[(path, "task")])
        for _ in range(n):
            kind = next(kinds)
            if kind == "phase":
                yield self._phase_change("task")
            elif kind == "message":
                self.msg_seq += 1
                mk = f"mk{self.msg_seq:05d}"
                yield Change("task", kind, "message",
                             {"sid": self.sid, "text": f"{mk} keep going with the retry loop"},
                             Expect("card", mk, sid=self.sid))
            elif kind == "exit":
                self.exit_i = (self.exit_i + 1) % len(EXITS)
                status = EXITS[self.exit_i]
                self.phase, self.live = "idle", False
                yield Change("task", kind, "exit", {"sid": self.sid, "status": status},
                             # any line: where the pane puts the outcome is the pane's business
                             Expect("card", f"last turn {status}", sid=self.sid))
            elif kind == "start":
                self.phase, self.live = "preparing", True
                self.msg_seq += 1
                yield Change("task", kind, "start",
                             {"sid": self.sid, "text": f"mk{self.msg_seq:05d} next: the error path"},
                             Expect("card", "preparing", sid=self.sid, line=1, live=True))
            else:
                sid = self._new_sid()
                yield Change("task", kind, "session", {"task": self.task, "sid": sid},
                             Expect("heading", f"Sessions ({self.sessions},"))

    def resume_ops(self) -> list[tuple[str, dict[str, Any]]]:
        """If the turn ended, a new one (not timed), so that phases can change."""
        if self.live:
            return []
        self.phase, self.live = "thinking", True
        # the run's first message: how the dashboard notices a run that starts
        return [("reset", {"sid": self.sid, "status": EXITS[self.exit_i], "phase": self.phase}),
                ("message", {"sid": self.sid, "text": "bench: the next turn"})]

    def cleanup_ops(self) -> list[tuple[str, dict[str, Any]]]:
        ops: list[tuple[str, dict[str, Any]]] = []
        if self.filed:
            ops.append(("drop_tasks", {"ids": [tid for tid, _ in self.filed]}))
            self.tasks -= len(self.filed)
            self.filed.clear()
        if self.added:
            ops.append(("cleanup", {"task": self.task, "sids": list(self.added)}))
            self.sessions -= len(self.added)
            self.added.clear()
        self.phase, self.live = "thinking", True
        self.exit_i = 0
        # a run starts with a message (tau writes one): the dashboard notices it by that
        ops.append(("reset", {"sid": self.sid, "status": EXITS[0], "phase": self.phase}))
        ops.append(("message", {"sid": self.sid, "text": "bench: a new turn"}))
        return ops
