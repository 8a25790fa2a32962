"""The one way every test waits, builds the app and reads its screen.

Waiting: `poll` (plain code, a pty, a subprocess) and `apoll` (inside an event
loop) share one rule. A condition is only ever asked "does it hold yet?": if
it raises (a half-drawn frame that lacks a row, a screen torn down between
two frames, a file not written yet), that is a "not yet", never the end of
the wait; at the deadline the failure names what the condition last raised.
Deadlines are generous: a test waits for something to happen, it does not
time it (timing lives in the benchmark, ``bench/``).

`make_app` is the one place a test builds `SessionTopApp`; the autouse
fixture in conftest makes sure the config file it reads is a test's own.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

#: The deadline of a wait that does not name one (s): generous, not a target.
TIMEOUT = 15.0
#: How often a condition is asked (s).
STEP = 0.02


def _failure(what: str, timeout: float, error: BaseException | None,
             details: Callable[[], str] | None) -> str:
    msg = f"timed out after {timeout:g}s waiting for {what}"
    if error is not None:
        msg += f" (the condition last raised {error!r})"
    if details is not None:
        try:
            msg += "\n" + details()
        except Exception as exc:  # noqa: BLE001 - the message must still be raised
            msg += f"\n(no details: {exc!r})"
    return msg


def poll(predicate: Callable[[], object], timeout: float = TIMEOUT, what: str = "condition", *,
         step: float = STEP, sleep: Callable[[float], object] = time.sleep,
         ended: Callable[[], bool] | None = None, details: Callable[[], str] | None = None) -> None:
    """Until ``predicate()`` is true. ``sleep(step)`` passes the time between two
    looks (a pty reads its output meanwhile); ``ended()`` true means nothing
    more can come (the process exited): one last look, then fail at once."""
    deadline = time.monotonic() + timeout
    error: BaseException | None = None
    while True:
        try:
            if predicate():
                return
            error = None
        except Exception as exc:  # noqa: BLE001 - a condition that raises is "not yet"
            error = exc
        if time.monotonic() >= deadline:
            break
        if ended is not None and ended():
            sleep(step)
            try:
                if predicate():
                    return
            except Exception as exc:  # noqa: BLE001
                error = exc
            raise AssertionError(_failure(what, timeout, error, details) + "\n(the process ended)")
        sleep(step)
    raise AssertionError(_failure(what, timeout, error, details))


async def apoll(predicate: Callable[[], object | Awaitable[object]], timeout: float = TIMEOUT,
                what: str = "condition", *, step: float = STEP,
                sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                details: Callable[[], str] | None = None) -> None:
    """`poll` for code on an event loop: the loop runs between two looks.
    ``predicate`` may be a coroutine function (a read of the store)."""
    deadline = time.monotonic() + timeout
    error: BaseException | None = None
    while True:
        try:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return
            error = None
        except Exception as exc:  # noqa: BLE001 - a condition that raises is "not yet"
            error = exc
        if time.monotonic() >= deadline:
            raise AssertionError(_failure(what, timeout, error, details))
        await sleep(step)


# --- the app under Pilot --------------------------------------------------------------------


def make_app(where: Any, runtime_dir: Path | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    """The real app on a real store: ``where`` is a `StoreKit` (its data and
    runtime directories), a data directory, or a `Store` made by the test (a
    socket found its own way), or a `tui.hosts.Hosts`. ``kwargs`` go to `SessionTopApp` (clock, poll,
    notify, config, watch, tick...)."""
    from tui.hosts import Hosts
    from tui.tau.store import Store
    from tui.ui.app import SessionTopApp

    if isinstance(where, (Store, Hosts)):  # (Hosts: this machine's store and remote hosts, issue 23)
        return SessionTopApp(where, **kwargs)
    data_dir = getattr(where, "data_dir", None)
    if data_dir is not None:
        runtime_dir = where.runtime_dir if runtime_dir is None else runtime_dir
    else:
        data_dir = Path(where)
    return SessionTopApp(Store(data_dir, runtime_dir), **kwargs)


def screen_strips(app) -> list:  # type: ignore[no-untyped-def]
    """What the terminal shows now, a strip of styled segments a line.

    Textual has no public way to read the screen as drawn (`export_screenshot`
    is an SVG of it): its compositor is read here, and only here, so a change
    in Textual breaks one function (tests/test_textual_private.py says so)."""
    return app.screen._compositor.render_strips()  # noqa: SLF001


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows now, as plain text lines."""
    return "\n".join(strip.text for strip in screen_strips(app))


def flat(text: str) -> str:
    """Screen text with every run of whitespace made one space, so that a
    message wrapped over two lines of the status area still reads as one."""
    return " ".join(text.split())


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = TIMEOUT,
                     what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``predicate()`` holds; generous, not a timing test."""
    await apoll(predicate, timeout, what, sleep=pilot.pause,
                details=lambda: "screen:\n" + screen_text(pilot.app))


async def wait_for_text(pilot, app, text: str, timeout: float = TIMEOUT) -> str:  # type: ignore[no-untyped-def]
    """Wait until ``text`` is on screen; return the screen."""
    await wait_until(pilot, lambda: text in screen_text(app), timeout, what=repr(text))
    return screen_text(app)


async def wait_for_all(pilot, app, *texts: str, timeout: float = TIMEOUT) -> str:  # type: ignore[no-untyped-def]
    """Wait until every one of ``texts`` is on screen at once: a task screen's
    title is drawn a frame before the panes it counts are mounted."""
    await wait_until(pilot, lambda: all(t in screen_text(app) for t in texts), timeout,
                     what=" and ".join(map(repr, texts)))
    return screen_text(app)


async def wait_gone(pilot, app, text: str, timeout: float = TIMEOUT) -> str:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: text not in screen_text(app), timeout, what=f"{text!r} to go")
    return screen_text(app)


async def wait_for(pilot, app, needle: str, timeout: float = 30.0) -> str:  # type: ignore[no-untyped-def]
    """Wait until ``needle`` is on screen (wrapping ignored); return the flat screen."""
    await wait_until(pilot, lambda: needle in flat(screen_text(app)), timeout, what=repr(needle))
    return flat(screen_text(app))


async def one_more_read(pilot, app, force: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Ask the app to read the store again and wait until that read is done
    (applied, or ended in an error the status line shows)."""
    applied, state = app.applied, app.refresh_state
    app.request_refresh(force=force)
    await wait_until(pilot, lambda: app.applied > applied or app.refresh_state is not state,
                     30, "one more read")


def refresher_passes(app) -> list[bool]:  # type: ignore[no-untyped-def]
    """Every pass of the refresher from now on: True for a read that showed
    something, False for a look that found nothing changed (two PRAGMAs)."""
    passes: list[bool] = []
    inner = app._read_for_screen  # noqa: SLF001 - counted, not replaced

    async def counted(force: bool) -> bool:
        changed = await inner(force)
        passes.append(changed)
        return changed

    app._read_for_screen = counted  # type: ignore[method-assign]  # noqa: SLF001
    return passes


async def caught_up(pilot, app, passes: list[bool]) -> None:  # type: ignore[no-untyped-def]
    """Until the start-up work is done (the server's first answers in, the
    usage sums counted) and a look finds nothing more to show."""
    assert await app.store.live.settle(15), "the server's first answers"
    await wait_until(pilot, lambda: not app.store.usage_pending(), what="the usage sums")
    for _ in range(50):
        n = len(passes)
        app.request_refresh()
        await wait_until(pilot, lambda: len(passes) > n, what="a look")
        if passes[-1] is False:
            return
    raise AssertionError(f"every look read the store again: {passes[-10:]}")


# --- the kernel's side of a file watch -------------------------------------------------------


def inotify_watched_inodes(pid: int | str = "self") -> set[int]:
    """The inodes this process has an inotify watch on (Linux: /proc fdinfo),
    so a test can wait until a watcher is really in place before it changes
    the directory, instead of sleeping and hoping."""
    out: set[int] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            if "inotify" not in str(fd.readlink()):
                continue
            info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
        except OSError:
            continue
        for line in info.splitlines():
            if line.startswith("inotify "):
                fields = dict(f.split(":", 1) for f in line.split()[1:] if ":" in f)
                out.add(int(fields["ino"], 16))
    return out


def watched(path: Path) -> bool:
    """True once this process's file watch covers ``path`` (a directory)."""
    return Path(path).stat().st_ino in inotify_watched_inodes()
