"""Measurements from outside, as an operator sees them: the real CLI in tmux.

``python -m tui --data-dir … --runtime-dir …`` runs in a detached tmux session
(160×50) on a private tmux server (``tmux -L sessiontop-bench-<pid>``). The
screen is read with ``capture-pane -p`` sent over one tmux control-mode client
(about 0.1 ms a capture, against ~2 ms for a forked ``tmux capture-pane``), so
it can be polled every 2 ms without stealing much of the 2 cores. A change's
time on screen is when the capture that first shows it was asked for.

- cold start: the shell in the pane waits on a line of input; sending it (the
  start time) execs Python; the first capture with "<N> tasks" in the title and
  task rows under it ends the clock;
- change-to-screen: the scenario of `bench.scenario`, by both paths (disk:
  commits; socket: phase changes in tau's server memory, pushed over its
  socket), checked on the captured text with `bench.views.TextView`;
- idle CPU: utime+stime of the CLI process (``/proc/PID/stat``) over a quiet
  period with ``idle_live`` sessions running (each one subscribed), the task
  list on screen, nothing polling the pane;
- what the CLI asks of tau's server, by request type, in the idle window and
  under load (the server counts every request it receives);
- load: the writer commits at a fixed rate, with as many phase changes in the
  server's memory; latency of the title markers, CPU and RSS of the CLI
  sampled every second;
- peak RSS: ``VmHWM`` of the CLI process at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .common import REPO, WriterProc, child_env, cpu_seconds, loadavg, now, status_kb, summary_ms
from .inapp import target_sessions
from .scenario import Scenario
from .views import Expect, TextView

WIDTH, HEIGHT = 160, 50


class Tmux:
    """A private tmux server for the benchmark (ended by ``kill_server``)."""

    def __init__(self) -> None:
        self.socket = f"sessiontop-bench-{os.getpid()}"
        self.started = False

    def name(self, prefix: str) -> str:
        self._n = getattr(self, "_n", 0) + 1
        return f"{prefix}{self._n}"

    def run(self, *args: str, check: bool = True) -> str:
        res = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                             capture_output=True, text=True)
        if check and res.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {res.stderr.strip()}")
        return res.stdout

    def new_session(self, name: str, command: str) -> int:
        self.run("new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), command)
        if not self.started:
            self.run("set-option", "-g", "window-size", "manual")
            self.run("set-option", "-g", "remain-on-exit", "off")
            self.started = True
        return int(self.run("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def kill_session(self, name: str) -> None:
        self.run("kill-session", "-t", name, check=False)

    def kill_server(self) -> None:
        if self.started:
            self.run("kill-server", check=False)
            self.started = False
            # tmux leaves its socket file behind: remove ours.
            base = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
            (base / self.socket).unlink(missing_ok=True)


class Control:
    """One control-mode client: ``capture-pane`` and ``send-keys`` without forking."""

    def __init__(self, tmux: Tmux, name: str) -> None:
        self.tmux = tmux
        self.name = name
        self.proc: asyncio.subprocess.Process | None = None
        self.captures = 0

    async def start(self) -> Control:
        self.proc = await asyncio.create_subprocess_exec(
            "tmux", "-L", self.tmux.socket, "-f", "/dev/null", "-C", "attach-session", "-t", self.name,
            "-f", "no-output", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, limit=1 << 22)
        # The attach itself answers with a block of its own: read blocks until
        # the one that answers this probe, so each later command reads its own.
        block = await self.command("display-message -p sessiontop-bench-sync")
        while block != ["sessiontop-bench-sync"]:
            block = await asyncio.wait_for(self._read_block(), 10)
        return self

    async def command(self, cmd: str) -> list[str]:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((cmd + "\n").encode())
        await self.proc.stdin.drain()
        return await self._read_block(cmd)

    async def _read_block(self, cmd: str = "") -> list[str]:
        """The lines of the next %begin … %end block."""
        assert self.proc is not None and self.proc.stdout is not None
        out: list[str] = []
        inside = False
        while True:
            raw = await self.proc.stdout.readline()
            if not raw:
                raise EOFError("tmux control client ended")
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not inside:
                if line.startswith("%begin "):
                    inside = True
                    out = []
                continue
            if line.startswith("%end ") or line.startswith("%error "):
                if line.startswith("%error "):
                    raise RuntimeError(f"tmux {cmd}: {' '.join(out)}")
                return out
            out.append(line)

    async def capture(self) -> list[str]:
        self.captures += 1
        return await self.command(f"capture-pane -p -t {self.name}")

    async def keys(self, *keys: str) -> None:
        await self.command("send-keys -t " + self.name + " " + " ".join(shlex.quote(k) for k in keys))

    async def close(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.returncode is None:
                self.proc.stdin.close()  # type: ignore[union-attr]
                await asyncio.wait_for(self.proc.wait(), 5)
        except (asyncio.TimeoutError, BrokenPipeError, ConnectionResetError):
            self.proc.kill()
            await self.proc.wait()
        self.proc = None


def cli_command(data_dir: Path, runtime_dir: Path, poll: float | None, *, wait_for_enter: bool) -> str:
    env = child_env()
    argv = [sys.executable, "-m", "tui", "--data-dir", str(data_dir), "--runtime-dir", str(runtime_dir)]
    if poll:
        argv += ["--poll", str(poll)]
    run = (f"cd {shlex.quote(str(REPO))} && exec env PYTHONPATH={shlex.quote(env['PYTHONPATH'])} "
           f"TERM=xterm-256color COLORTERM=truecolor " + " ".join(shlex.quote(a) for a in argv))
    if wait_for_enter:
        run = "read _go; " + run
    return f"sh -c {shlex.quote(run)}"


def list_ready(n_tasks: int) -> Callable[[list[str]], bool]:
    title = re.compile(rf"\b{n_tasks} tasks\b")

    def ok(lines: list[str]) -> bool:
        for i, line in enumerate(lines):
            if title.search(line):
                rows = [ln for ln in lines[i + 1:] if ln.strip()]
                return len(rows) >= min(4, n_tasks)
        return False

    return ok


async def poll_until(ctl: Control, cond: Callable[[list[str]], bool], timeout: float,
                     interval: float = 0.002) -> tuple[float | None, list[str]]:
    """Capture until ``cond`` holds; return when the successful capture was asked."""
    end = now() + timeout
    lines: list[str] = []
    while now() < end:
        t = now()
        lines = await ctl.capture()
        if cond(lines):
            return t, lines
        await asyncio.sleep(interval)
    return None, lines


class Session:
    """The CLI running in one tmux session."""

    def __init__(self, tmux: Tmux, name: str, data_dir: Path, runtime_dir: Path,
                 poll: float | None = None) -> None:
        self.tmux, self.name = tmux, name
        self.data_dir, self.runtime_dir, self.poll = data_dir, runtime_dir, poll
        self.pid = 0
        self.ctl: Control | None = None
        self.t_start = 0.0

    async def start(self) -> None:
        self.pid = self.tmux.new_session(self.name, cli_command(self.data_dir, self.runtime_dir,
                                                                self.poll, wait_for_enter=True))
        self.ctl = await Control(self.tmux, self.name).start()
        await asyncio.sleep(0.05)  # let the shell reach `read`
        self.t_start = now()
        await self.ctl.keys("Enter")

    def resolve_pid(self) -> int:
        """The CLI's own pid: the pane's process once its shell has exec'd Python
        (else a descendant running ``-m tui``)."""
        todo = [self.pid]
        while todo:
            pid = todo.pop(0)
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"-m" in cmd and b"tui" in cmd:
                self.pid = pid
                return pid
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                todo += [int(c) for c in task.read_text().split()]
        return self.pid

    async def stop(self) -> None:
        if self.ctl is not None:
            try:
                await self.ctl.keys("q")
                for _ in range(100):
                    if not Path(f"/proc/{self.pid}").exists():
                        break
                    await asyncio.sleep(0.02)
            except (EOFError, RuntimeError):
                pass
            await self.ctl.close()
            self.ctl = None
        self.tmux.kill_session(self.name)


# --- cold start ------------------------------------------------------------------------


async def cold_start(tmux: Tmux, data_dir: Path, runtime_dir: Path, n_tasks: int, *,
                     repeats: int, timeout: float = 60.0) -> dict[str, Any]:
    """Process start (Enter sent to the waiting shell) to the first full task list."""
    times: list[float] = []
    rss: list[int] = []
    fails = 0
    for _ in range(repeats):
        s = Session(tmux, tmux.name("cold"), data_dir, runtime_dir)
        try:
            await s.start()
            assert s.ctl is not None
            t, _ = await poll_until(s.ctl, list_ready(n_tasks), timeout)
            if t is None:
                fails += 1
            else:
                times.append(t - s.t_start)
                s.resolve_pid()
                rss.append(status_kb(s.pid).get("VmHWM", 0))
        finally:
            await s.stop()
        await asyncio.sleep(0.2)
    out = summary_ms(times, timeouts=fails)
    out["vmhwm_at_first_screen_mb"] = round(max(rss) / 1024, 1) if rss else None
    return out


# --- the operator session: latency, idle, load, peak RSS -----------------------------------


async def _open_target_task(ctl: Control, task: int, timeout: float, attempts: int = 3) -> bool:
    """Drill into the target task as an operator would on a long list: filter to
    it (``/``, ``#id``, Enter), open it (Enter) once the filtered list is on
    screen, and clear the filter (Escape) once back. (The cursor stays on the
    task it was on while rows move, so "the first running task" is not where the
    cursor is after the list has changed; and on a big store the filtered list
    takes a moment, so Enter waits for it rather than open whatever row is under
    the cursor.) A wrong task opened is left (Escape) and the drill tried again."""
    def on_task(lines: list[str]) -> bool:
        return any(ln.lstrip().startswith(f"#{task} ") for ln in lines[:3])

    def filtered(lines: list[str]) -> bool:
        return any(f"filter: #{task}]" in ln for ln in lines[:2])

    def on_some_task(lines: list[str]) -> bool:
        return any(re.match(r"#\d+ ", ln.lstrip()) for ln in lines[:3])

    for _ in range(attempts):
        await ctl.keys("/")
        await ctl.keys(*f"#{task}")
        await ctl.keys("Enter")
        t, _ = await poll_until(ctl, filtered, timeout, 0.01)
        if t is None:
            await ctl.keys("Escape")
            continue
        await asyncio.sleep(0.3)  # the filtered rows, drawn
        await ctl.keys("Enter")
        t, lines = await poll_until(ctl, lambda ls: on_task(ls) or on_some_task(ls), timeout, 0.01)
        if t is not None and on_task(lines):
            return True
        if t is not None:  # another task's screen: back, and again
            await ctl.keys("Escape")
            await asyncio.sleep(0.3)
        await ctl.keys("Escape")  # the filter cleared
        await asyncio.sleep(0.3)
    return False


def _per_minute(before: dict[str, Any], after: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Requests tau's server received between two readings, by type, per minute."""
    got = {k: v - before["by_type"].get(k, 0) for k, v in after["by_type"].items()}
    got = {k: v for k, v in got.items() if v}
    scale = 60.0 / seconds if seconds > 0 else 0.0
    costly = sum(got.get(k, 0) for k in COSTLY)
    return {"seconds": round(seconds, 1), "count": got,
            "per_minute": {k: round(v * scale, 1) for k, v in sorted(got.items())},
            "total_per_minute": round(sum(got.values()) * scale, 1),
            "costly": costly, "costly_per_minute": round(costly * scale, 1),
            "subscribers": after.get("subscribers"), "connections": after.get("connections"),
            "live": after.get("live")}


#: Requests that take tau's state lock and parse messages (TAU.md §7.6).
COSTLY = ("list_sessions", "get_session_info", "task_get", "get_messages")


async def operator_session(tmux: Tmux, meta: dict[str, Any], data_dir: Path, runtime_dir: Path,
                           writer: WriterProc, *, n_list: int, n_task: int, n_socket: int = 0,
                           idle_s: float, idle_live: int = 50,
                           quiet_changes: int = 0, quiet_gap: float = 6.0,
                           load_s: float, load_rate: float, sid_base: int, timeout: float = 30.0,
                           poll: float | None = None, log: Callable[[str], None] = print,
                           seed: int = 11) -> dict[str, Any]:
    """The CLI in tmux: disk-path changes (``n_list`` / ``n_task``) and socket-path
    phase changes (``n_socket`` on each screen), then idle with ``idle_live``
    sessions running (and so subscribed), the first change after quiet spells,
    the load; what the CLI asked of tau's server in the idle and load windows."""
    rng = random.Random(seed)
    task = int(meta["target_task"])
    n_tasks = int(meta["counts"]["tasks"])
    sc = Scenario(task=task, sid=meta["target_session"], sessions=target_sessions(data_dir, task),
                  sid_base=sid_base)
    out: dict[str, Any] = {"notes": []}
    s = Session(tmux, tmux.name("op"), data_dir, runtime_dir, poll)
    try:
        await s.start()
        ctl = s.ctl
        assert ctl is not None
        t, _ = await poll_until(ctl, list_ready(n_tasks), 120)
        out["first_screen_ms"] = None if t is None else round((t - s.t_start) * 1000, 1)
        s.resolve_pid()
        # --- change-to-screen on the task list, then on the task screen ---
        for op, args in sc.setup_ops():
            await writer.do(op, **args)
        t, _ = await poll_until(ctl, sc.ready_expect().check_lines, timeout + 30)
        if t is None:
            out["notes"].append("setup change never appeared")
        lat: list[tuple[str, str, str, float | None]] = []  # path, screen, kind, seconds
        invalid: list[tuple[str, str, str]] = []  # held before the change: not measured

        async def timed(change) -> None:  # type: ignore[no-untyped-def]
            if change.expect.check_lines(await ctl.capture()):
                await writer.do(change.op, **change.args)
                invalid.append((change.path, change.screen, change.kind))
                return
            reply = await writer.do(change.op, **change.args)
            t_seen, _ = await poll_until(ctl, change.expect.check_lines, timeout + (poll or 0))
            lat.append((change.path, change.screen, change.kind,
                        None if t_seen is None else t_seen - reply["t0"]))
            await asyncio.sleep(rng.uniform(0.05, 0.05 + poll) if poll else rng.uniform(0.03, 0.15))

        async def on_task_screen(changes) -> None:  # type: ignore[no-untyped-def]
            if not await _open_target_task(ctl, task, timeout + 30):
                out["notes"].append("could not open the target task (/#id, Enter)")
                return
            await poll_until(ctl, lambda ls: TextView(ls).card(sc.sid) is not None, timeout + 30)
            for change in changes:
                await timed(change)
            await ctl.keys("Escape")  # back to the list
            await asyncio.sleep(0.2)
            await ctl.keys("Escape")  # and its filter cleared
            back, _ = await poll_until(ctl, list_ready(n_tasks), timeout + 30, 0.01)
            if back is None:
                out["notes"].append("Escape did not bring the task list back")

        # The socket path first, on the target as the store has it (the disk
        # path's changes add sessions to it: its task screen grows a pane each),
        # as the in-app run measures it.
        if n_socket:
            for change in sc.list_changes(n_socket, "socket"):
                await timed(change)
            await on_task_screen(sc.task_changes(n_socket, "socket"))
        for change in sc.list_changes(n_list, "disk"):
            await timed(change)
        await on_task_screen(sc.task_changes(n_task, "disk"))
        for op, args in sc.cleanup_ops():
            await writer.do(op, **args)

        def pick(path: str, pred: Callable[[str, str], bool]) -> dict[str, Any]:
            sel = [x for x in lat if x[0] == path and pred(x[1], x[2])]
            return summary_ms([x[3] for x in sel if x[3] is not None],
                              timeouts=sum(1 for x in sel if x[3] is None))

        for key, path in (("latency", "disk"), ("socket", "socket")):
            if not any(x[0] == path for x in lat):
                continue
            out[key] = {"all": pick(path, lambda a, b: True), "list": pick(path, lambda a, b: a == "list"),
                        "task": pick(path, lambda a, b: a == "task"),
                        "by_kind": {f"{a}/{b}": pick(path, lambda x, y, a=a, b=b: x == a and y == b)
                                    for a, b in sorted({(x[1], x[2]) for x in lat if x[0] == path})}}
            bad = sum(1 for x in invalid if x[0] == path)
            if bad:
                out[key]["invalid"] = bad
        # --- idle: ``idle_live`` sessions running, all subscribed, nothing
        # changes, nothing polls the pane ---
        adj = await writer.do("live_count", n=idle_live, keep=[sc.sid])
        t_sub = now()
        subs = await writer.requests()
        while (subs["unwatched"] or subs["subscribers"] != subs["live"]) and now() - t_sub < 30:
            await asyncio.sleep(0.2)
            subs = await writer.requests()
        subscribed_s = now() - t_sub
        if subs["unwatched"]:
            out["notes"].append(f"idle: running sessions not subscribed: {subs['unwatched']}")
        # First let the reads the last changes caused finish: wait for a quiet
        # second (< 2 % of a core) or two alike (within 1.5 points, < 30 %), at most 30 s.
        t_settle = now()
        prev = None
        while now() - t_settle < 30:
            a = cpu_seconds(s.pid)
            await asyncio.sleep(1.0)
            use = cpu_seconds(s.pid) - a
            if use < 0.02 or (prev is not None and abs(use - prev) < 0.015 and use < 0.3):
                break
            prev = use
        settle_s = now() - t_settle
        shown = next((ln.strip() for ln in await ctl.capture() if ln.strip()), "")
        r0 = await writer.requests()
        c0, t0 = cpu_seconds(s.pid), now()
        th0, wk0 = _thread_cpu(s.pid), _thread_wakeups(s.pid)
        spy = await _spy(s.pid, idle_s)
        await asyncio.sleep(idle_s)
        c1, t1 = cpu_seconds(s.pid), now()
        th1, wk1 = _thread_cpu(s.pid), _thread_wakeups(s.pid)
        if spy is not None:
            await spy.wait()
        r1 = await writer.requests()
        shown_end = next((ln.strip() for ln in await ctl.capture() if ln.strip()), "")
        out["idle"] = {"screen_end": shown_end[:60], "seconds": round(t1 - t0, 1), "cpu_s": round(c1 - c0, 3),
                       "cpu_percent_of_core": round(100 * (c1 - c0) / (t1 - t0), 2),
                       "rss_mb": round(status_kb(s.pid)["VmRSS"] / 1024, 1),
                       "settled_after_s": round(settle_s, 1), "screen": shown[:60],
                       "live": adj["live"], "subscribed_after_s": round(subscribed_s, 1),
                       "loadavg": loadavg()}
        # Per thread (main first, the rest by use): where the idle CPU goes.
        per = sorted(((tid, 100 * (th1[tid] - th0.get(tid, 0.0)) / (t1 - t0)) for tid in th1),
                     key=lambda x: (x[0] != str(s.pid), -x[1]))
        out["idle"]["threads_percent"] = [round(p, 2) for _, p in per if p > 0 or _ == str(s.pid)]
        names = await _thread_names(s.pid)
        if names:
            out["idle"]["threads"] = {names.get(tid, tid): round(p, 2) for tid, p in per if p > 0}
        # Wake-ups a second per thread (voluntary context switches): on a VM
        # each costs tens of microseconds whatever the thread then does.
        out["idle"]["wakeups_per_s"] = {names.get(tid, tid): round((wk1[tid] - wk0.get(tid, 0)) / (t1 - t0), 1)
                                        for tid in wk1 if wk1[tid] - wk0.get(tid, 0) > 0}
        out["tau_cost"] = {"idle": _per_minute(r0, r1, t1 - t0)}
        # --- the first change after a quiet spell: the watcher has gone to its
        # slow step (tui.tau.watcher.IDLE_STEP_MS after QUIET_SECONDS). The first
        # of them comes after the idle window too, a long quiet: its slowest
        # step (ASLEEP_STEP_MS after ASLEEP_SECONDS), told apart ---
        if quiet_changes:
            qlat: list[float] = []
            lost = 0
            for _ in range(quiet_changes):
                await asyncio.sleep(quiet_gap)
                change = next(iter(sc.list_changes(1)))  # a new title (the cycle starts there)
                reply = await writer.do(change.op, **change.args)
                t_seen, _ = await poll_until(ctl, change.expect.check_lines, timeout)
                if t_seen is None:
                    lost += 1
                else:
                    qlat.append(t_seen - reply["t0"])
            if qlat and not lost:
                out["after_long_quiet"] = {"ms": round(qlat[0] * 1000, 1),
                                           "quiet_s": round(t1 - t0 + quiet_gap, 1)}
                qlat = qlat[1:]
            out["after_quiet"] = summary_ms(qlat, timeouts=lost)
            out["after_quiet"]["quiet_s"] = quiet_gap
        # --- load: rate commits a second ---
        if load_s > 0:
            r0 = await writer.requests()
            t0 = now()
            out["load"] = await _load(ctl, s.pid, writer, task, rate=load_rate, seconds=load_s,
                                      keep=[sc.sid])
            r1 = await writer.requests()
            out["tau_cost"]["load"] = _per_minute(r0, r1, now() - t0)
        out["vmhwm_mb"] = round(status_kb(s.pid)["VmHWM"] / 1024, 1)
        out["vmrss_end_mb"] = round(status_kb(s.pid)["VmRSS"] / 1024, 1)
        out["captures"] = ctl.captures
    finally:
        await s.stop()
    if not out["notes"]:
        del out["notes"]
    return out


def _thread_files(pid: int, name: str) -> Iterator[tuple[str, str]]:
    """(thread id, text of /proc/PID/task/TID/NAME) for each thread still there."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            yield task.name, (task / name).read_text()
        except OSError:
            continue


def _thread_cpu(pid: int) -> dict[str, float]:
    """Thread id → its utime + stime so far, s."""
    out: dict[str, float] = {}
    for tid, text in _thread_files(pid, "stat"):
        fields = text[text.rindex(")") + 2:].split()
        out[tid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def _thread_wakeups(pid: int) -> dict[str, int]:
    """Thread id → its voluntary context switches so far."""
    out: dict[str, int] = {}
    for tid, text in _thread_files(pid, "status"):
        for line in text.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                out[tid] = int(line.split()[1])
    return out


def _py_spy() -> str | None:
    """py-spy on PATH or beside the interpreter (None: not installed)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return exe if Path(exe).exists() else None


async def _thread_names(pid: int) -> dict[str, str]:
    """Thread id → what it is (its Python name and where it waits), from one
    ``py-spy dump`` after the window; empty without py-spy. Only to label the
    per-thread figures."""
    exe = _py_spy()
    if exe is None:
        return {}
    proc = await asyncio.create_subprocess_exec(exe, "dump", "-j", "-p", str(pid),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    raw, _ = await proc.communicate()
    try:
        threads = json.loads(raw)
    except ValueError:
        return {}
    out: dict[str, str] = {}
    for t in threads:
        frames = t.get("frames") or [{}]
        where = next((f.get("name") for f in frames if "threading" not in f.get("filename", "")), "?")
        out[str(t.get("os_thread_id"))] = f"{t.get('thread_name')}:{where}@{t.get('os_thread_id')}"
    return out


async def _spy(pid: int, seconds: float) -> asyncio.subprocess.Process | None:
    """With BENCH_SPY=FILE (and py-spy beside the interpreter or on PATH): a raw
    profile of the idle window, to see what the dashboard does while nothing
    happens. Off by default; not part of the figures."""
    out = os.environ.get("BENCH_SPY")
    exe = _py_spy()
    if not out or exe is None:
        return None
    return await asyncio.create_subprocess_exec(
        exe, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", os.environ.get("BENCH_SPY_RATE", "200"),
        "--nonblocking", "-f", "raw", "-o", out,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def _load(ctl: Control, pid: int, writer: WriterProc, task: int, *, rate: float,
                seconds: float, marker_every: int = 10, keep: list[str] | None = None) -> dict[str, Any]:
    """Sustained commits; title markers ``LDnnnnn`` on the target row are timed by
    polling the pane every 5 ms (a marker counts as shown when it or a later one is)."""
    pat = re.compile(r"LD(\d{5})")
    t0_of: dict[int, float] = {}
    shown_at: dict[int, float] = {}
    samples: list[dict[str, float]] = []
    state = {"seen": 0, "done": None}
    c0, tb = cpu_seconds(pid), now()
    rss0 = status_kb(pid)["VmRSS"]
    await writer.send("load", rate=rate, seconds=seconds, task=task, marker_every=marker_every,
                      prefix="LD", keep=keep or [])

    async def reader() -> None:
        while True:
            msg = await writer.line()
            if msg.get("done"):
                state["done"] = msg
                return
            t0_of[int(msg["seq"])] = float(msg["t0"])

    async def sampler() -> None:
        while True:
            await asyncio.sleep(1.0)
            samples.append({"t": now() - tb, "cpu": cpu_seconds(pid), "rss_kb": status_kb(pid)["VmRSS"]})

    rd = asyncio.create_task(reader())
    sp = asyncio.create_task(sampler())
    try:
        deadline = None
        while True:
            t = now()
            lines = await ctl.capture()
            seq = 0
            for ln in lines:
                m = pat.search(ln)
                if m:
                    seq = max(seq, int(m.group(1)))
            if seq > state["seen"]:
                for k in range(state["seen"] + 1, seq + 1):
                    shown_at.setdefault(k, t)
                state["seen"] = seq
            done = state["done"]
            if done is not None:
                if deadline is None:
                    deadline = now() + 60
                if state["seen"] >= done.get("last_seq", 0) or now() > deadline:
                    break
            await asyncio.sleep(0.005)
    finally:
        sp.cancel()
        if not rd.done():
            rd.cancel()
    c1, te = cpu_seconds(pid), now()
    done = state["done"] or {}
    lat = {k: shown_at[k] - t0 for k, t0 in t0_of.items() if k in shown_at}
    seqs = sorted(lat)
    third = max(1, len(seqs) // 3)
    rss_series = [round(s["rss_kb"] / 1024, 1) for s in samples]
    return {
        "rate_asked": rate,
        "writer": {k: done.get(k) for k in ("commits", "seconds", "rate", "late_max_ms", "kinds",
                                            "live_end")},
        "markers": len(t0_of), "markers_shown": len(lat),
        "latency": summary_ms(list(lat.values()), timeouts=len(t0_of) - len(lat)),
        "p50_first_third_ms": summary_ms([lat[k] for k in seqs[:third]]).get("p50"),
        "p50_last_third_ms": summary_ms([lat[k] for k in seqs[-third:]]).get("p50"),
        "cpu_percent_of_core": round(100 * (c1 - c0) / (te - tb), 1),
        "rss_start_mb": round(rss0 / 1024, 1),
        "rss_end_mb": round(status_kb(pid)["VmRSS"] / 1024, 1),
        "rss_series_mb": rss_series,
        "loadavg_after": loadavg(),
    }
