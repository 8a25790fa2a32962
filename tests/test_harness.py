"""The suite's one wait keeps waiting through a condition that raises (a frame
half-way through its redraw lacks the row a condition looks for), and still
fails, saying why, when the condition never holds."""

from __future__ import annotations

import pytest

from tests.harness import apoll, poll


def flaky_then_true(fails: int):  # type: ignore[no-untyped-def]
    """A condition that raises ``fails`` times (a row not drawn yet), then holds."""
    calls = [0]

    def condition() -> bool:
        calls[0] += 1
        if calls[0] <= fails:
            raise LookupError("'Add retry to the dispatcher' not on screen")
        return True

    return condition, calls


def test_a_condition_that_raises_is_not_yet() -> None:
    condition, calls = flaky_then_true(3)
    poll(condition, 5, "the row drawn", step=0.001)
    assert calls[0] == 4


async def test_the_same_on_an_event_loop() -> None:
    condition, calls = flaky_then_true(3)
    await apoll(condition, 5, "the row drawn", step=0.001)
    assert calls[0] == 4


def test_a_condition_that_never_holds_fails_with_what_it_last_raised() -> None:
    def never() -> bool:
        raise LookupError("still not drawn")

    with pytest.raises(AssertionError, match=r"the row drawn .*still not drawn"):
        poll(never, 0.05, "the row drawn", step=0.01)


def test_a_process_that_ended_ends_the_wait_at_once() -> None:
    with pytest.raises(AssertionError, match="the process ended"):
        poll(lambda: False, 60, "a screen", step=0.01, ended=lambda: True)
