"""``sessiontop list``: ``last_phase`` is always one of tau's labels, and says whose word it is.

tau always fills ``TaskSessionInfo.last_phase`` (task_handlers.rs:188): the
label of its in-memory phase, ``idle`` when it holds none (TAU.md §6.1). With
the server down nobody holds one: ``list`` gives the persisted label (a NULL
column, a session that never ran, read as tau's default ``idle``), says
``phase_source: disk``, and the text form marks it "(persisted)". The real CLI
in a subprocess, over a store written by another connection.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.storekit import StoreKit, user

REPO = Path(__file__).resolve().parent.parent
LABELS = {"idle", "waiting", "preparing", "sending request", "thinking", "working", "running tools",
          "compacting", "rate limited"}


def run_list(kit: StoreKit, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["XDG_CONFIG_HOME"] = str(kit.data_dir / "config")
    return subprocess.run([sys.executable, "-m", "tui", "list", *args, "--data-dir", str(kit.data_dir),
                           "--runtime-dir", str(kit.runtime_dir)], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env=env)


def three_sessions(kit: StoreKit) -> None:
    kit.add_task(1, "A task", "active")
    for sid, role in (("n1", "planner"), ("r1", "worker"), ("d1", "reviewer")):
        kit.link(1, sid, role)
    kit.add_session("n1", phase=None)  # never ran: the column was never written
    kit.add_session("r1", phase="sending request")  # mid-turn (or left by a crash)
    kit.add_session("d1", phase="idle")
    kit.add_messages("r1", [user("go")])


def phases(r: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, bool, str]]:
    assert r.returncode == 0, r.stderr
    (task,) = json.loads(r.stdout)["tasks"]
    return {s["session_id"]: (s["last_phase"], s["is_live"], s["sessiontop"]["phase_source"])
            for s in task["sessions"]}


def test_last_phase_is_always_a_label_and_says_whose_it_is(kit: StoreKit) -> None:
    three_sessions(kit)
    kit.server.crash()  # down: a crash leaves tau.sock (refusing) and the phases
    assert phases(run_list(kit, "--json")) == {
        "n1": ("idle", False, "disk"), "r1": ("sending request", False, "disk"), "d1": ("idle", False, "disk")}
    text = run_list(kit)
    assert text.returncode == 0, text.stderr
    lines = {ln.split()[1]: ln for ln in text.stdout.splitlines() if ln.startswith("       ")}
    assert "sending request (persisted)" in lines["r1"]
    assert "idle (persisted)" in lines["n1"] and " - " not in lines["n1"]
    # Up again: tau's word, from its memory (idle where it holds nothing).
    kit.server.start()
    kit.live("r1", "ToolExec")
    got = phases(run_list(kit, "--json"))
    assert got == {"n1": ("idle", False, "server"), "r1": ("running tools", True, "server"),
                   "d1": ("idle", False, "server")}
    assert all(p in LABELS for p, _, _ in got.values())
    text = run_list(kit)
    assert "(persisted)" not in text.stdout and "live running tools" in text.stdout


def test_the_text_form_counts_in_words(kit: StoreKit) -> None:
    kit.add_task(1, "One session", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", phase="idle")
    r = run_list(kit)
    assert r.returncode == 0, r.stderr
    assert "One session  (1 session, 0 live)" in r.stdout
