"""A run tau starts itself is live on screen as soon as tau lets a reader see it.

tau's order (TAU.md §5.2a, agent_runner.rs): the session enters live_sessions
first, with no phase (a subscribe answers Idle); history and plugins load; the
prompt is stored (when the run has one); only then Connecting, which persists
``sending request``, over the same stale value when a crash left one. The
stand-in server (tui.demo) takes those steps on its real Unix socket, the store
is written through its own connection, and the real app is driven by Pilot.
Each test stops tau between two steps, where the dashboard could lose the run,
and states what tau holds: live, and the title's count equal to live_sessions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import screen_text, wait_for_all, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import StoreKit, user
from tui.demo import RunStarts
from tui.ui.app import SessionTopApp

SIZE = (130, 40)
#: Generous: tau's target is 1 s, measured in the benchmark, not here.
SEEN = 10.0


@pytest.fixture
def starts(kit: StoreKit) -> Iterator[RunStarts]:
    s = RunStarts(kit.server, kit.tau_path)
    yield s
    s.close()


def live_sessions(app: SessionTopApp) -> int | None:
    """The title's count of live sessions, as the screen says it."""
    m = re.search(r"· (\d+) live sessions", screen_text(app))
    return int(m.group(1)) if m else None


def taus_live(kit: StoreKit, *sids: str) -> int:
    return sum(kit.server.is_live(s) for s in sids)


def worker_with_a_stale_phase(kit: StoreKit) -> None:
    """Task 1's worker s1, its last turn cut by a crash: the disk still says
    `sending request` (TAU.md §5.1), its last message an answer."""
    kit.add_task(1, "A task tau works on", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", phase="sending request", tagline="the worker")
    kit.add_messages("s1", [user("start"), {"role": "assistant", "content": [{"type": "text", "text": "Done."}],
                                            "provider": "anthropic", "model": "m", "usage": {},
                                            "stop_reason": "stop", "timestamp": 0}])


async def test_a_restart_resume_writing_the_same_stale_phase_shows_live(
        kit: StoreKit, starts: RunStarts) -> None:
    """tau crashes mid-turn; the new server stores "Resumed after server restart."
    and makes the session live before it serves (mod.rs:254, :703), answers our
    subscribe Idle while plugins start, then persists `sending request` over the
    same value: only a commit, no row changes."""
    worker_with_a_stale_phase(kit)
    kit.live("s1", "Thinking")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "· 1 live sessions")
        kit.server.crash()
        await wait_for_text(pilot, app, "tau server not running")

        def startup() -> None:  # before the new server serves
            starts.info("s1", "Resumed after server restart.")
            starts.live("s1")

        kit.server.start(before_serving=startup)
        app.open_session("s1")
        # The app has read the info line and tau has told it Idle (plugins
        # still starting): the moment a resume is lost if the app lets go.
        await wait_for_text(pilot, app, "Resumed after server restart.")
        await wait_until(pilot, lambda: "Idle" in kit.server.answers("s1")
                         and app.store.live.said_idle("s1"), what="tau's Idle for the resuming session")
        starts.connecting("s1")  # the same `sending request` the crash left
        await pilot.press("escape")
        await wait_until(pilot, lambda: live_sessions(app) == 1, SEEN, what="the resume live")
        assert live_sessions(app) == taus_live(kit, "s1") == 1
        app.open_task(1)
        await wait_for_all(pilot, app, "Sessions (1, 1 live)", "sending request")


async def test_a_prompted_run_over_a_stale_phase_shows_live(kit: StoreKit, starts: RunStarts) -> None:
    """A task session tau starts again with a prompt (run_child_chat) on a row
    whose `sending request` a crash left: the prompt is stored while tau's
    phase is still unset, then Connecting rewrites the same value."""
    worker_with_a_stale_phase(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        app.open_session("s1")
        await wait_for_text(pilot, app, "Done.")
        await wait_until(pilot, lambda: kit.server.subscriber_count("s1") == 0, SEEN,
                         what="the stale phase asked about and let go")
        starts.live("s1")
        starts.prompt("s1", "Changes requested: add a test for the retry.")
        await wait_for_text(pilot, app, "add a test for the retry")
        await wait_until(pilot, lambda: kit.server.answers("s1")[-1:] == ["Idle"] and len(kit.server.answers("s1")) >= 2
                         and app.store.live.said_idle("s1"), what="tau's Idle after the prompt")
        starts.connecting("s1")
        await pilot.press("escape")
        await wait_until(pilot, lambda: live_sessions(app) == 1, SEEN, what="the run live")
        assert live_sessions(app) == taus_live(kit, "s1") == 1
        starts.end("s1")
        await wait_until(pilot, lambda: live_sessions(app) == 0, SEEN, what="the run over")


async def test_runs_tau_starts_on_sessions_no_screen_followed_show_live(
        kit: StoreKit, starts: RunStarts) -> None:
    """Runs on sessions the app had no reason to ask about: a worker the
    scheduler records on a task, a child a chat spawns (new rows, NULL phase:
    their Connecting moves the column), and the parent's resume when the child
    completes (resume_child_session on a chat no kept task names: live,
    Connecting persists `sending request`, then the engine stores the message
    it drained, agent.rs drain_queued). In each, tau's own subscribe answers
    Idle until Connecting; from then on the title's count is tau's."""
    kit.add_task(1, "A task to dispatch", "ready")
    kit.add_session("p1", tagline="an orchestrator chat")
    kit.add_messages("p1", [user("spawn a helper")])
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "A task to dispatch")
        await wait_until(pilot, lambda: live_sessions(app) == 0, what="nothing live")
        kit.add_session("w1", phase=None, tagline="the worker")
        kit.link(1, "w1", "worker")
        kit.set_state(1, "active")
        starts.live("w1")
        await wait_for_text(pilot, app, "active")
        starts.prompt("w1", "Implement: A task to dispatch")
        starts.connecting("w1")
        await wait_until(pilot, lambda: live_sessions(app) == 1, SEEN, what="the worker live")
        await wait_for_all(pilot, app, "1 (1 live)", "sending")
        starts.end("w1")
        await wait_until(pilot, lambda: live_sessions(app) == 0, SEEN, what="the worker done")
        kit.add_session("c1", phase=None, tagline="the helper")  # spawned by p1
        starts.live("c1")
        starts.prompt("c1", "Look at the flaky test.")
        starts.connecting("c1")
        await wait_until(pilot, lambda: live_sessions(app) == 1, SEEN, what="the child live")
        starts.end("c1")
        await wait_until(pilot, lambda: live_sessions(app) == 0, SEEN, what="the child done")
        starts.live("p1")
        starts.connecting("p1")
        starts.prompt("p1", "[from child:c1] Child session c1 completed. Summary: fixed")
        await wait_until(pilot, lambda: live_sessions(app) == 1, SEEN, what="the parent's resume live")
        assert live_sessions(app) == taus_live(kit, "p1", "c1", "w1") == 1
