"""Issue 12: one engine; each transition told once; list --json and watch --json for scripts.

Real parts: a tau-shaped store written by another connection (StoreKit), the
demo's stand-in server, the real app under Pilot, the real CLI in a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.ptykit import PtyApp
from tests.storekit import StoreKit, user
from tui.notify.engine import Event
from tui.notify.hook import run_hook

REPO = Path(__file__).resolve().parent.parent
RECORD_KEYS = ["session_id", "role", "created_at", "message_count", "archived", "last_activity",
               "last_phase", "last_exit_status", "is_live"]


def one_task(kit: StoreKit) -> None:
    kit.add_task(1, "A busy task", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", exit_status="completed")
    kit.add_messages("s1", [user("start")])


def hook_script(tmp: Path) -> str:
    out = tmp / "hook.log"
    script = tmp / "hook.py"
    script.write_text("import json, os, sys\n"
                      f"with open({str(out)!r}, 'a') as f:\n"
                      "    f.write(json.dumps({'env': os.environ.get('SESSIONTOP_EVENT'),"
                      " 'stdin': json.loads(sys.stdin.read())}) + '\\n')\n")
    return f"{sys.executable} {script}"


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def test_list_json_is_the_record_and_imports_no_textual(kit: StoreKit) -> None:
    one_task(kit)
    kit.run("s1", "thinking")
    r = run_cli("list", "--json", "--data-dir", str(kit.data_dir), "--runtime-dir", str(kit.runtime_dir))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    (task,) = doc["tasks"]
    (s,) = task["sessions"]
    assert [k for k in s if k != "sessiontop"] == RECORD_KEYS
    assert s["is_live"] is True and s["last_phase"] == "thinking" and s["message_count"] == 1
    assert isinstance(s["created_at"], int) and s["last_activity"] == s["created_at"] // 1000
    # No Textual on this path.
    code = ("import sys; from tui.cli import main; "
            f"main(['list', '--data-dir', {str(kit.data_dir)!r}]); "
            "print('textual' in sys.modules, 'rich' in sys.modules, file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert r.stderr.strip().endswith("False False"), r.stderr
    r = run_cli("list", "--json", "--data-dir", str(kit.data_dir / "nowhere"))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1  # a store not there


def test_watch_json_prints_one_line_per_transition(kit: StoreKit) -> None:
    one_task(kit)
    proc = subprocess.Popen([sys.executable, "-m", "tui", "watch", "--json", "--data-dir", str(kit.data_dir),
                             "--runtime-dir", str(kit.runtime_dir)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[tuple[str, str]] = queue.Queue()
    for name, stream in (("out", proc.stdout), ("err", proc.stderr)):
        threading.Thread(target=lambda n=name, f=stream: [lines.put((n, x)) for x in f],
                         daemon=True).start()

    def next_line(deadline: float) -> tuple[str, str]:
        try:
            return lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError("watch printed nothing more") from None

    try:
        deadline = time.monotonic() + 30
        while True:  # its baseline taken, it says so on stderr (and prints nothing for it)
            name, line = next_line(deadline)
            assert name == "err" and "Traceback" not in line, line
            if "watching" in line:
                break
        kit.run("s1", "thinking")
        kit.set_state(1, "failed")
        got: list[dict] = []
        while not ({"session_live", "task_state"} <= {g["kind"] for g in got}):
            name, line = next_line(deadline)
            assert name == "out", line
            got.append(json.loads(line))
        live = next(g for g in got if g["kind"] == "session_live")
        assert live["session_id"] == "s1" and live["new"] == "true" and live["task_id"] == 1
        failed = next(g for g in got if g["kind"] == "task_state")
        assert failed["old"] == "active" and failed["new"] == "failed" and failed["notify"] == "failed"
        assert all(set(g) >= {"kind", "at", "message"} for g in got)
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_notification_reaches_the_terminal_as_osc_9_osc_777_and_the_bell(kit: StoreKit,
                                                                          tmp_path: Path) -> None:
    """On a real pty: the bytes a terminal turns into its own notification."""
    one_task(kit)
    config = tmp_path / "config.toml"
    config.write_text("[notify]\nosc9 = true\nosc777 = true\nbell = true\n")
    app = PtyApp("--data-dir", str(kit.data_dir), "--runtime-dir", str(kit.runtime_dir),
                 "--config", str(config), env={"TMUX": ""})
    try:
        app.wait_for("A busy task")
        # The baseline (the state at start is not news) is taken: `!` says since when.
        app.send(b"!")
        app.wait_for("Watching since")
        app.send(b"!")
        app.wait(lambda: "Watching since" not in app.text(), what="the log closed")
        assert b"\x1b]9;" not in app.output
        kit.set_state(1, "failed")
        app.wait(lambda: b"\x1b]777;notify;" in app.output, what="OSC 777")
        out = app.output
        assert b"\x1b]9;sessiontop: failed: task #1 'A busy task': active \xe2\x86\x92 failed\x07" in out
        assert b"\x1b]777;notify;sessiontop: failed;task #1" in out
        assert out.count(b"\x1b]9;") == 1  # once, however often the app reads
        app.send(b"q")
        assert app.wait_exit() == 0
    finally:
        app.close()


async def test_the_hook_is_killed_after_its_timeout(tmp_path: Path) -> None:
    ev = Event("stall", time.time(), "quiet", notify="stall")
    # Killed at its 0.5 s timeout: long before the 30 s it would sleep (a deadline, not a measure).
    assert await asyncio.wait_for(run_hook("sleep 30", ev, 0.5), 20) == "timeout"
    assert await run_hook("cat > /dev/null; exit 3", ev, 5) == "exit 3"
