"""A store whose tasks have no sessions yet (tau filed them; none was dispatched):
a task's change is shown whatever its updated_at says.

tau stamps updated_at with its clock; a clock stepped back (NTP, a VM restored)
writes an older stamp than the newest seen. The reader then finds the change by
reading the table whole, except that with task_sessions empty every commit looked
like a change of the links, and the whole read never came: the task stayed
'active' on screen. Real store and app: StoreKit writes as tau does, Pilot reads.
"""

from __future__ import annotations

from tests.harness import make_app, screen_text, wait_for_text, wait_until
from tests.storekit import BASE_MS, StoreKit


async def test_a_change_stamped_with_an_older_clock_is_shown(kit: StoreKit) -> None:
    for i in range(1, 5):
        kit.add_task(i, f"filed task {i:02d}", "active", updated_at=BASE_MS - i * 60_000)
    app = make_app(kit)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_text(pilot, app, "filed task 01")
        kit.set_state(1, "merged", at=BASE_MS - 100 * 60_000)  # the clock stepped back
        await wait_until(pilot, lambda: "merged" in screen_text(app) and "Active (3)" in screen_text(app),
                         what="task 1 merged, three left active")
