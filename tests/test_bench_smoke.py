"""Smoke test of the benchmark (bench/): it builds a store and produces numbers.

No timing thresholds here: BENCHMARKS.md and ``python -m bench`` hold those.
"""

from __future__ import annotations

import math
import sqlite3

import pytest

from bench import gen
from bench.common import WriterProc
from bench.inapp import latency_run

pytestmark = pytest.mark.timeout(60)


def test_generator_builds_a_tau_store(tmp_path):
    meta = gen.build(gen.SIZES["T"], tmp_path / "data")
    assert meta["counts"]["tasks"] == gen.SIZES["T"].tasks
    assert meta["counts"]["sessions"] == gen.SIZES["T"].sessions
    for name in ("tasks.db", "tau.db"):
        conn = sqlite3.connect(tmp_path / "data" / name)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    conn = sqlite3.connect(tmp_path / "data" / "tau.db")
    phases = {r[0] for r in conn.execute("SELECT DISTINCT last_phase FROM sessions")}
    # only what tau persists (TAU.md §5.1); the running sessions' real phases are the server's
    assert phases <= {None, "idle", "waiting", "preparing", "sending request", "rate limited", "compacting"}
    assert "sending request" in phases and meta["live_phases"]
    assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] >= gen.SIZES["T"].messages
    conn.close()


def _numbers(res: dict, n: int) -> None:
    assert res["all"]["n"] + res["all"]["timeouts"] == n
    assert res["all"]["n"] == n, res  # every change reached the screen
    assert not res["all"].get("invalid")
    for key in ("p50", "p95", "p99", "max"):
        assert isinstance(res["all"][key], float) and math.isfinite(res["all"][key])
        assert res["all"][key] > 0


async def test_in_app_latency_produces_numbers(tmp_path):
    """The disk path: commits (title, session; message, turn end, turn start, session)."""
    data, run = tmp_path / "data", tmp_path / "run"
    meta = gen.build(gen.SIZES["T"], data)
    writer = await WriterProc(data, run, meta["live_phases"]).start()
    try:
        res = await latency_run(meta, data, run, writer, poll=None, n_list=2, n_task=4,
                                sid_base=50_000_000, timeout=10.0, log=lambda _m: None)
    finally:
        await writer.close()
    _numbers(res, 6)
    assert set(res["by_kind"]) == {"list/title", "list/session", "task/message", "task/exit",
                                   "task/start", "task/session"}


async def test_socket_path_latency_and_tau_cost(tmp_path):
    """The socket path: phase changes in the server's memory, pushed to the
    app's subscription; and what the app asked of tau meanwhile."""
    data, run = tmp_path / "data", tmp_path / "run"
    meta = gen.build(gen.SIZES["T"], data)
    writer = await WriterProc(data, run, meta["live_phases"]).start()
    try:
        before = await writer.requests()
        res = await latency_run(meta, data, run, writer, poll=None, n_list=3, n_task=3,
                                sid_base=50_000_000, path="socket", timeout=10.0, log=lambda _m: None)
        after = await writer.requests()
    finally:
        await writer.close()
    _numbers(res, 6)
    assert res["path"] == "socket" and set(res["by_kind"]) == {"list/phase", "task/phase"}
    asked = {k: v - before["by_type"].get(k, 0) for k, v in after["by_type"].items()}
    assert asked.get("subscribe", 0) >= 1  # the running sessions were asked about
    assert not {"list_sessions", "get_session_info", "task_get", "get_messages"} & set(asked)
