"""Issue 12, scripts: ``list --json TASK_ID`` reads only what it is asked for
and says what tau says; ``watch --json`` tells each end of a socket chat, even
one whose outcome equals the last, and not the end of a run tau started.

Real parts: a tau-shaped store written by another connection (StoreKit), the
demo's stand-in server on a real socket, the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.storekit import BASE_MS, StoreKit, assistant, user
from tests.test_notify import RECORD_KEYS, run_cli

REPO = Path(__file__).resolve().parent.parent


def three_tasks(kit: StoreKit) -> None:
    kit.add_task(1, "First", "active")
    kit.add_task(2, "Second", "active")
    kit.add_task(3, "Third", "merged")
    kit.link(1, "a1", "worker", BASE_MS)
    kit.link(2, "b1", "planner", BASE_MS + 1_000)
    kit.link(2, "b2", "worker", BASE_MS + 2_000)
    kit.link(2, "gone", "reviewer", BASE_MS + 3_000)  # its session is not in tau.db
    kit.link(3, "b2", "contributor", BASE_MS + 4_000)  # one session on two tasks
    for sid in ("a1", "b1", "b2"):
        kit.add_session(sid, created_at=BASE_MS)
    kit.set_exit("b1", "completed")
    kit.add_messages("a1", [user("go"), assistant("done")])
    kit.add_messages("b1", [user("plan it"), assistant("planned"), user("more")], start=BASE_MS + 5_000)
    kit.add_messages("b2", [user("build it")], start=BASE_MS + 9_000)
    kit.run("b2", "running tools")


def test_list_json_of_one_task_is_what_tau_says_of_it(kit: StoreKit) -> None:
    three_tasks(kit)
    r = run_cli("list", "--json", "2", "99", "--data-dir", str(kit.data_dir),
                "--runtime-dir", str(kit.runtime_dir))
    assert r.returncode == 1, r.stderr  # #2 is printed; #99, not there, fails the run
    assert r.stderr.strip() == "sessiontop: no task #99"
    doc = json.loads(r.stdout)
    (task,) = doc["tasks"]
    assert (task["id"], task["title"], task["state"]) == (2, "Second", "active")
    records = [{k: s[k] for k in s if k != "sessiontop"} for s in task["sessions"]]
    # What tau's task_get says for these rows (TAU.md §6.1): in created_at
    # order, counts and last activity from the messages, the live phase from
    # the server's memory, the exit status only where one was written.
    assert records == [
        {"session_id": "b1", "role": "planner", "created_at": BASE_MS + 1_000, "message_count": 3,
         "archived": False, "last_activity": (BASE_MS + 7_000) // 1000, "last_phase": "idle",
         "last_exit_status": "completed", "is_live": False},
        {"session_id": "b2", "role": "worker", "created_at": BASE_MS + 2_000, "message_count": 1,
         "archived": False, "last_activity": (BASE_MS + 9_000) // 1000, "last_phase": "running tools",
         "is_live": True},
    ]
    assert [list(rec) for rec in records] == [RECORD_KEYS, [k for k in RECORD_KEYS if k != "last_exit_status"]]
    assert [g["session_id"] for g in task["sessions_gone"]] == ["gone"]
    assert task["sessions"][1]["sessiontop"]["phase_source"] == "server"
    # The same task in the whole listing: the same record.
    whole = json.loads(run_cli("list", "--json", "--data-dir", str(kit.data_dir),
                               "--runtime-dir", str(kit.runtime_dir)).stdout)
    assert [t["id"] for t in whole["tasks"]] == [1, 2, 3]
    same = next(t for t in whole["tasks"] if t["id"] == 2)
    assert [{k: s[k] for k in s if k != "sessiontop"} for s in same["sessions"]] == records


class Watch:
    """``sessiontop watch --json`` in a subprocess, its lines read by threads."""

    def __init__(self, kit: StoreKit, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "watch", "--json", "--data-dir", str(kit.data_dir),
             "--runtime-dir", str(kit.runtime_dir), *extra], cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        for name, stream in (("out", self.proc.stdout), ("err", self.proc.stderr)):
            threading.Thread(target=lambda n=name, f=stream: [self.lines.put((n, x)) for x in f],
                             daemon=True).start()
        self.seen: list[dict[str, Any]] = []
        #: What it printed on stdout before it said it was watching (``--since``'s replay).
        self.early: list[dict[str, Any]] = []
        self.next_err("watching")

    def _get(self, deadline: float) -> tuple[str, str]:
        try:
            return self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"watch printed nothing more; saw {self.seen[-6:]}") from None

    def next_err(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            name, line = self._get(deadline)
            assert "Traceback" not in line, line
            if name == "out":
                self.early.append(json.loads(line))
            elif text in line:
                return

    def until(self, kind: str, timeout: float = 30, **fields: str) -> dict[str, Any]:
        """Lines up to the first of ``kind`` with these fields; that line."""
        deadline = time.monotonic() + timeout
        while True:
            name, line = self._get(deadline)
            assert name == "out" and "Traceback" not in line, line
            ev = json.loads(line)
            self.seen.append(ev)
            if ev["kind"] == kind and all(ev.get(k) == v for k, v in fields.items()):
                return ev

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def chat(kit: StoreKit, sid: str, text: str) -> None:
    """A socket chat starts as tau's does: ``preparing`` in memory and on disk,
    then the user's message."""
    kit.live(sid, "Preparing")
    kit.set_phase(sid, "preparing")
    kit.add_message(sid, user(text), created_at=int(time.time() * 1000))


def test_watch_tells_each_failed_chat_and_not_a_run_tau_started(kit: StoreKit) -> None:
    kit.add_task(1, "Flaky", "active")
    kit.link(1, "c1", "interactive")
    kit.link(1, "w1", "worker")
    kit.add_session("c1")
    kit.add_session("w1", exit_status="error")  # an old chat's outcome, kept by tau
    watch = Watch(kit)
    try:
        for attempt in ("first", "second"):
            chat(kit, "c1", f"try the {attempt} time")
            watch.until("session_live", session_id="c1", new="true")
            kit.finish("c1", "error")
            ev = watch.until("session_exit", session_id="c1")
            assert ev["new"] == "error" and ev["notify"] == "exit", ev
        # A run tau starts itself writes no exit status: its end is no "turn ended error".
        kit.run("w1", "thinking")
        watch.until("session_live", session_id="w1", new="true")
        kit.finish("w1")
        watch.until("session_live", session_id="w1", new="false")
        kit.set_state(1, "review")  # a marker: every line before it has been printed
        watch.until("task_state", new="review")
        exits = [e for e in watch.seen if e["kind"] == "session_exit"]
        assert [e["session_id"] for e in exits] == ["c1", "c1"], exits
    finally:
        watch.close()
