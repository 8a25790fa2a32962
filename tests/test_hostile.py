"""Bad rows and hostile text: every screen renders them, literally and harmlessly.

The rows are what tau never writes but a store can hold: NULLs, wrong types,
unknown words, absurd times, broken JSON, megabytes of text, and text built
to drive the terminal or the UI (escape sequences, markup, bidi overrides,
invalid UTF-8). The dashboard must show all of it as data: no markup
interpreted, no escape reaching the terminal, no link or action attached.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faultkit import StoreGuard, reads_change_nothing
from tests.harness import make_app, screen_strips, screen_text, wait_for, wait_until
from tests.ptykit import PtyApp
from tests.storekit import BASE_MS, StoreKit, assistant, tool_result, user
from tui.ui.app import SessionTopApp
from tui.ui.screens.session import TranscriptScreen
from tui.ui.screens.task import TaskScreen
from tui.ui.screens.tasks import TaskListScreen
from tui.tau.store import Store, decode_message
from tui.tau.ddl import TASKS_DDL, TAU_DDL, connect_writer
from tui.model.text import literal
from tui.ui.widgets.message_view import MessageView

SIZE = (160, 50)


def loose(ddl: str) -> str:
    """tau's DDL without its constraints: a store that can hold NULLs and
    values of any type where tau never writes them."""
    ddl = re.sub(r",\s*PRIMARY KEY \([^)]*\)", "", ddl)
    ddl = re.sub(r" REFERENCES \w+\(\w+\)( ON DELETE CASCADE)?", "", ddl)
    ddl = re.sub(r" NOT NULL| DEFAULT '?\w+'?| PRIMARY KEY", "", ddl)
    return re.sub(r"CREATE INDEX[^;]*;", "", ddl)


def loose_store(data_dir: Path) -> tuple[sqlite3.Connection, sqlite3.Connection]:
    data_dir.mkdir(parents=True, exist_ok=True)
    tasks = connect_writer(data_dir / "tasks.db")
    tasks.executescript(loose(TASKS_DDL))
    tau = connect_writer(data_dir / "tau.db")
    tau.executescript(loose(TAU_DDL))
    return tasks, tau


def insert(conn: sqlite3.Connection, table: str, **values: object) -> None:
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(values.values()))


def bad_text(conn: sqlite3.Connection, table: str, column: str, raw: bytes, where: str) -> None:
    """Store bytes that are not UTF-8 as TEXT (tau's columns are TEXT)."""
    conn.execute(f"UPDATE {table} SET {column} = CAST(? AS TEXT) WHERE {where}", (raw,))


SCROLLBAR_ACTIONS = {"grab", "scroll_up", "scroll_down", "scroll_left", "scroll_right"}


def segments_with_actions(app: SessionTopApp) -> list[str]:
    """Segments on screen that carry a link or a click action."""
    out = []
    for strip in screen_strips(app):
        for seg in strip:
            style = seg.style
            if style is None:
                continue
            meta = dict(style.meta or {})
            if meta.get("@mouse.down") in SCROLLBAR_ACTIONS:  # Textual's own scrollbar
                del meta["@mouse.down"]
            if style.link or any(k.startswith("@") for k in meta):
                out.append(seg.text)
    return out


RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def assert_harmless(app: SessionTopApp) -> str:
    text = screen_text(app)
    bad = RAW_CONTROLS.findall(text)
    assert not bad, f"raw control characters on screen: {bad!r}"
    assert not segments_with_actions(app), segments_with_actions(app)
    return text


# --- bad rows ------------------------------------------------------------------------------------


@pytest.fixture
def bad_rows(tmp_path: Path):  # type: ignore[no-untyped-def]
    d = tmp_path / "tau"
    tasks, tau = loose_store(d)
    far = 4_102_444_800_000 * 1000  # ms, the year 2100 read as ms of ms
    insert(tasks, "tasks", id=1)  # every column NULL but the id
    insert(tasks, "tasks", id=2, project_name="p", title="Unknown state", state="exploding",
           priority="high", held="yes", created_at=-5, updated_at=far, tags="{not a list",
           branch=b"\xff\xfe", dispatch_failure_count=float("inf"))
    insert(tasks, "tasks", id=3, project_name=7, title=12345, state="active",
           created_at="yesterday", updated_at=float("inf"), tags='[1, {"a": 2}, null]')
    insert(tasks, "tasks", id=2, project_name="p", title="Duplicate id", state="ready",
           updated_at=0)  # no primary key: the same id twice
    insert(tasks, "tasks", id="abc", title="Id that is not a number", state="ready", updated_at=0)
    insert(tasks, "tasks", id=-7, title="Negative id", state="closed", updated_at=-1)
    for task_id, sid, role, created in [
        (1, None, None, None), (2, "s-odd", "overlord", -1), (2, 42, "worker", "soon"),
        (2, b"\xffblob", "worker", 0), ("abc", "s3", "worker", 0), (999, "s4", "worker", 0),
        (2, "s-null", None, None),
    ]:
        insert(tasks, "task_sessions", task_id=task_id, session_id=sid, role=role,
               created_at=created)
    insert(tasks, "task_history", task_id=2, field="state", old_value=None, new_value=None,
           created_at=None)
    insert(tasks, "task_relations", from_task=2, to_task=999, relation="depends_on")
    insert(tasks, "task_relations", from_task="x", to_task=None, relation=None)
    insert(tau, "sessions", id="s-odd", model_json="not json", last_phase="levitating",
           last_exit_status="exploded", archived="maybe", created_at=None, tagline=None)
    insert(tau, "sessions", id="42", model_json='{"name": ["a list"]}', last_phase=None,
           archived=2, created_at=far)
    insert(tau, "sessions", id="s-null")  # every column NULL
    msgs = [
        "this is not JSON {", "[1, 2, 3]", '"a string"', "42", "null", '{"role": null}',
        '{"role": "wizard", "spell": "fireball"}', None, b"\x00\x01binary",
        json.dumps({"role": "assistant", "content": "not a list",
                    "usage": {"total_tokens": 1e308, "cost": {"total": "free"}}}),
        '{"role": "assistant", "usage": {"total_tokens": Infinity, "cost": NaN}}',
        '{"role": "tool_result", "duration_ms": Infinity, "content": [{"type": "text", "text": 5}]}',
        '{"role": "user", "content": ' + "[" * 5000 + "]" * 5000 + "}",
        json.dumps({"role": "compaction_summary", "summary": None, "tokens_before": "many"}),
        json.dumps({"role": "info", "text": {"nested": True}}),
    ]
    for i, raw in enumerate(msgs):
        insert(tau, "messages", id=i + 1, session_id="s-odd", message_json=raw,
               created_at=[None, -1, far, "now"][i % 4])
    insert(tau, "messages", id=-5, session_id="s-odd", message_json=json.dumps(user("negative id")),
           created_at=BASE_MS)
    insert(tau, "messages", id=100, session_id=None, message_json=json.dumps(user("orphan")))
    yield d
    tasks.close()
    tau.close()


async def test_bad_rows_read_by_the_store(bad_rows: Path) -> None:
    store = Store(bad_rows)
    await store.open()
    try:
        snap = await store.read_task_list()
        by_id = {t.id: t for t in snap.tasks}
        assert set(by_id) == {1, 2, 3, 0, -7}  # 'abc' reads as 0; id 2 once
        assert by_id[2].state == "exploding" and by_id[2].priority == 0
        assert by_id[1].title == "" and by_id[3].title == "12345"
        assert by_id[3].updated_at == 0  # an infinite time reads as none
        detail = await store.read_task(2)
        assert detail is not None
        roles = {p.info.session_id: p.info.role for p in detail.sessions}
        assert roles["s-odd"] == "overlord" and roles["42"] == "worker"
        assert roles["s-null"] == "worker"  # NULL role: tau's default
        assert "\ufffdblob" in roles
        odd = next(p for p in detail.sessions if p.info.session_id == "s-odd")
        assert odd.info.last_phase == "levitating" and odd.info.last_exit_status == "exploded"
        assert detail.branch == "\ufffd\ufffd"
        transcript = await store.read_transcript("s-odd")
        kinds = [(m.role, m.error) for m in transcript.messages]
        assert len(kinds) == 16
        assert ("invalid", "JSON list, not an object") in kinds
        assert any(e.startswith("not JSON") for _, e in kinds)
        assert any(r == "wizard" and "unknown message role" in e for r, e in kinds)
        assert all(m.tokens >= 0 and m.cost == m.cost for m in transcript.messages)  # no NaN
    finally:
        await store.close()


async def test_bad_rows_on_every_screen(bad_rows: Path) -> None:
    guard = StoreGuard(bad_rows)
    app = make_app(bad_rows)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, app, "Unknown state")
        for bit in ("exploding", "Id that is not a number", "Negative id", "12345"):
            assert bit in text, bit
        assert "Duplicate id" not in text  # the first row of id 2 wins
        assert_harmless(app)
        app.open_task(2)
        text = await wait_for(pilot, app, "overlord")
        for bit in ("levitating", "last turn exploded", "s-null", "42"):
            assert bit in text, bit
        assert_harmless(app)
        app.open_session("s-odd")
        await wait_for(pilot, app, "unknown message role 'wizard'")
        assert_harmless(app)
        # The transcript follows its end, so where the view sits once the tall rows
        # are laid out depends on timing: read the oldest rows from the top.
        await pilot.press("home")
        for bit in ("not JSON", "JSON list, not an object", "negative id"):
            await wait_for(pilot, app, bit)
        assert_harmless(app)
        assert app.is_running and app.refresh_state.error is None
        app.pop_screen()
        app.open_task(0)  # the task whose id was 'abc'
        await wait_for(pilot, app, "not in the store")
        app.pop_screen()
        app.open_task(1)
        await wait_for(pilot, app, "Sessions (0 + 1 gone)")
        assert_harmless(app)
        await reads_change_nothing(pilot, app, bad_rows)
    guard.check()


async def test_odd_table_names_do_not_break_a_file(kit: StoreKit) -> None:
    kit.add_task(1, "Beside odd tables", "active")
    kit.tasks.execute('CREATE TABLE "we""ird" (x)')
    kit.tasks.execute('CREATE TABLE "[bold]\x1b" ("a""b")')
    kit.tau.execute('CREATE TABLE "x]" (y)')
    store = Store(kit.data_dir)
    await store.open()
    try:
        snap = await store.read_task_list()
        assert [t.title for t in snap.tasks] == ["Beside odd tables"]
        assert snap.status.error is None and snap.status.notices == ()
    finally:
        await store.close()


# --- enormous rows -----------------------------------------------------------------------------


async def test_enormous_message_title_and_lines(kit: StoreKit) -> None:
    long_title = "T" * 100_000
    kit.add_task(1, long_title, "active")
    kit.link(1, "s1")
    kit.add_session("s1", tagline="L" * 100_000)
    kit.run("s1", "working")
    big = "x" * 10_000_000  # 10 MB, no line break
    kit.add_message("s1", user(big))
    kit.add_message("s1", assistant("ok " * 50_000, thinking="th" * 100_000,
                                    calls=(("bash", {"command": "y" * 200_000}),)))
    kit.add_message("s1", tool_result("bash", "z" * 3_000_000))
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, "TTTTTTTTTT", timeout=60)
        assert_harmless(app)
        app.open_task(1)
        await wait_for(pilot, app, "3 msgs", timeout=60)
        app.open_session("s1")
        await wait_until(pilot, lambda: len(app.screen.query(MessageView)) == 3, 60, "3 messages")
        await pilot.press("t")  # unfold 200k characters of thinking: cut for display

        def shown() -> list[str]:
            return [v.render_message().plain for v in app.screen.query(MessageView)]

        await wait_until(pilot, lambda: "th" * 50 in shown()[1], 60, "the thinking unfolded")
        shown = shown()
        assert "more characters)" in shown[0]  # cut by the store, then by the view
        assert "⚒ bash" in shown[1] and "more characters" in shown[1]
        assert "more characters" in shown[2]
        assert max(len(s) for s in shown) < 100_000
        await pilot.press("home", "end")
        assert app.is_running and app.refresh_state.error is None
        await reads_change_nothing(pilot, app, kit.data_dir)


# --- text that tries to drive the terminal or the UI ---------------------------------------------

#: (raw, how it must look on screen)
HOSTILE = {
    "csi": ("\x1b[31mRED", "\\x1b[31mRED"),
    "osc title": ("\x1b]0;PWNED\x07", "\\x1b]0;PWNED\\x07"),
    "osc link": ("\x1b]8;;http://evil.example/\x07LINK", "\\x1b]8;;http://evil.example/\\x07LINK"),
    "cr": ("CR\rOVER", "CR\\x0dOVER"),
    "markup": ("[bold red]BOLD[/]", "[bold red]BOLD[/]"),
    "click": ("[@click=app.quit]QUIT[/]", "[@click=app.quit]QUIT[/]"),
    "link markup": ("[link=http://evil.example]L[/link]", "[link=http://evil.example]L[/link]"),
    "bidi": ("\u202eRLO\u202c", "\\u202eRLO\\u202c"),
    "zero width": ("Z\u200bW\u2060J", "Z\\u200bW\\u2060J"),
    "nul": ("N\x00UL", "N\\x00UL"),
}


def hostile_store(kit: StoreKit) -> None:
    """Every hostile string in every text field a screen shows."""
    for i, (name, (raw, _)) in enumerate(HOSTILE.items(), start=1):
        kit.add_task(i, raw, raw if i % 2 else "active", project=raw[:8], branch=raw, tags=[raw])
        sid = f"h{i}"
        kit.link(i, sid, role=raw)
        kit.add_session(sid, phase=raw if i % 3 else "sending request", exit_status=raw, tagline=raw,
                        model=raw)
        kit.add_messages(sid, [
            user(raw),
            assistant(raw, thinking=raw, calls=((raw, {"arg": raw}),), stop="error"),
            tool_result(raw, raw, summary=raw, is_error=True),
            {"role": "info", "text": raw},
            {"role": "assistant", "content": [], "error_message": raw, "stop_reason": "error"},
        ])
        with kit._tx(kit.tasks) as c:
            c.execute("INSERT INTO task_history (task_id, field, old_value, new_value, created_at)"
                      " VALUES (?,?,?,?,?)", (i, "state", raw, raw, BASE_MS))
        if not i % 3:
            kit.run(sid, "thinking")
    # A bare row (session gone) whose id is hostile: opening it makes a notification.
    kit.link(1, "[@click=app.quit]GONE[/]\x1b]0;PWNED\x07", role="worker")
    # Bytes that are not UTF-8, in TEXT columns.
    kit.add_task(50, "placeholder", "active")
    bad_text(kit.tasks, "tasks", "title", b"BAD\xff\xfeUTF8\xc3", "id = 50")
    kit.link(50, "h50")
    kit.add_session("h50")
    kit.run("h50", "working")
    bad_text(kit.tau, "sessions", "tagline", b"TAG\xff\x80", "id = 'h50'")
    kit.add_message("h50", user("x"))
    bad_text(kit.tau, "messages", "message_json",
             b'{"role": "user", "content": [{"type": "text", "text": "MSG\xff\xfe"}]}',
             "session_id = 'h50'")


async def test_hostile_text_is_shown_literally_everywhere(kit: StoreKit) -> None:
    hostile_store(kit)
    guard = StoreGuard(kit.data_dir)
    app = make_app(kit)
    async with app.run_test(size=(220, 60), notifications=True) as pilot:
        await wait_for(pilot, app, "BAD\ufffd\ufffdUTF8\ufffd")
        text = assert_harmless(app)
        for name, (_, shown) in HOSTILE.items():
            assert shown[:14] in text, (name, shown)  # the title column, cut to fit
        # Every task screen and every transcript.
        for i, (name, (raw, shown)) in enumerate(HOSTILE.items(), start=1):
            app.open_task(i)
            await wait_until(pilot, lambda i=i: isinstance(app.screen, TaskScreen)
                             and app.screen.detail is not None and app.screen.detail.task.id == i,
                             30, f"task {i}")
            await wait_until(pilot, lambda s=shown: s in screen_text(app), 30, f"task {i} drawn")
            text = assert_harmless(app)
            app.open_session(f"h{i}")
            await wait_until(pilot, lambda: isinstance(app.screen, TranscriptScreen)
                             and app.screen.last_id is not None, 30, "transcript")
            await pilot.press("t")  # thinking unfolded too
            await wait_until(pilot, lambda s=shown: screen_text(app).count(s) >= 4, 30,
                             f"{name}: the transcript drawn, thinking unfolded")
            assert_harmless(app)
            app.pop_screen()
            app.pop_screen()
        app.open_task(50)
        text = await wait_for(pilot, app, "TAG\ufffd\ufffd")
        app.open_session("h50")
        await wait_for(pilot, app, "MSG\ufffd\ufffd")
        app.pop_screen()
        app.pop_screen()
        assert isinstance(app.screen, TaskListScreen)
        # The notification about a bare row whose id is markup.
        app.open_task(1)
        await wait_for(pilot, app, "session gone")
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        screen.cursor = next(n for n, p in enumerate(screen._visible) if p.info.gone)
        screen._mark_cursor()
        await pilot.press("enter")
        text = await wait_for(pilot, app, "no transcript to show")
        assert "[@click=app.quit]GONE[/]\\x1b]0;PWNED\\x07" in text
        assert_harmless(app)
        await pilot.press("escape")
        # The command palette lists task titles.
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette", 15,
                         "the palette")
        await pilot.press(*"click")
        text = await wait_for(pilot, app, "[@click=app.quit]QUIT[/]")
        assert_harmless(app)
        await pilot.press(*"  markup bold")
        await wait_for(pilot, app, "click markup bold")  # the query, as typed, in the box
        assert_harmless(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ != "CommandPalette", 15,
                         "the palette closed")
        assert app.is_running  # no [@click=app.quit] ever ran
        await reads_change_nothing(pilot, app, kit.data_dir)
    guard.check()


def test_no_escape_reaches_the_real_terminal(kit: StoreKit) -> None:
    """The real CLI on a pseudo-terminal: the bytes it writes hold the escaped
    forms, never the hostile sequences themselves."""
    hostile_store(kit)
    kit.close()
    guard = StoreGuard(kit.data_dir)
    app = PtyApp("--data-dir", str(kit.data_dir), "--runtime-dir", str(kit.runtime_dir),
                 cols=200, rows=50)
    try:
        app.wait_for("PWNED")
        app.quiet()  # the list drawn whole, the table ready for keys
        app.send(b"\r")  # open the task under the cursor
        app.wait_for("Sessions (")
        app.quiet()  # the task screen drawn whole
        raw = bytes(app.output)
        for bad in (b"\x1b]0;PWNED", b"\x1b]8;;http://evil", b"\xe2\x80\xae", b"\xe2\x80\x8b",
                    b"\x1b[31mRED", b"CR\rOVER"):
            assert bad not in raw, bad
        assert b"\\x1b]0;PWNED\\x07" in raw
        app.send(b"q")
        assert app.wait_exit() == 0
    finally:
        app.close()
    assert "Traceback" not in app.written()
    guard.check()


@pytest.mark.parametrize("content", [str(os.getpid()).encode(), b"-1", b"", b"\xff\xfe", b"x" * 100_000],
                         ids=["a living pid", "negative", "empty", "binary", "100 kB"])
async def test_a_pid_file_proves_nothing(tmp_path: Path, content: bytes) -> None:
    """tau never reads tau.pid and neither does sessiontop: with no socket to
    connect to, the server is not running, whatever tau.pid says (even the pid
    of a living process, this one)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "tau.pid").write_bytes(content)
    store = Store(tmp_path / "tau", run)
    await store.open()
    try:
        await store.read_task_list()
        assert await store.live.settle(5)
        assert store.status().server.state == "down"
    finally:
        await store.close()


def test_literal_escapes_what_the_screens_need() -> None:
    for name, (raw, shown) in HOSTILE.items():
        assert literal(raw) == shown, name
    assert literal("a\ud800b") == "a\ufffdb"  # a lone surrogate
    assert literal("x" * 50, limit=10) == "x" * 10 + " … (40 more characters)"
    m = decode_message(1, "s", 0, b'{"role":"user","content":"\xff"}'.decode("utf-8", "replace"))
    assert m.role == "user"


# --- arbitrary rows ----------------------------------------------------------------------------

TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from([raw for raw, _ in HOSTILE.values()]),
    st.text(alphabet=string.printable + "\x1b\x07\r\u202e\u200b[]@=/", max_size=60),
)
VALUES = st.one_of(
    st.none(), st.integers(min_value=-2**63, max_value=2**63 - 1), TEXTS,
    st.floats(allow_nan=False), st.binary(max_size=20),
)
JSONS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXTS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXTS, children, max_size=4),
    max_leaves=12,
)
ROLES = st.sampled_from(["user", "assistant", "tool_result", "compaction_summary", "info", "??"])
MESSAGE = st.one_of(
    TEXTS,
    st.builds(lambda role, body: json.dumps({"role": role, **body}),
              ROLES, st.dictionaries(st.sampled_from(
                  ["content", "text", "usage", "summary", "tool_name", "is_error", "duration_ms",
                   "stop_reason", "error_message", "tokens_before", "thinking"]), JSONS,
                  max_size=5)),
    JSONS.map(json.dumps),
)
TASK = st.fixed_dictionaries({
    "id": st.integers(min_value=-5, max_value=30), "title": VALUES, "state": VALUES,
    "project_name": VALUES, "priority": VALUES, "held": VALUES, "updated_at": VALUES,
    "created_at": VALUES, "tags": VALUES, "branch": VALUES, "parent_id": VALUES,
})
LINK = st.fixed_dictionaries({
    "task_id": st.integers(min_value=-5, max_value=30), "session_id": st.sampled_from(
        ["a", "b", "c", "d", None, 7]), "role": VALUES, "created_at": VALUES})
SESSION = st.fixed_dictionaries({
    "id": st.sampled_from(["a", "b", "c", "d", "e"]), "model_json": VALUES, "last_phase": VALUES,
    "last_exit_status": VALUES, "archived": VALUES, "created_at": VALUES, "tagline": VALUES})
MSG = st.fixed_dictionaries({"session_id": st.sampled_from(["a", "b", "c", "z"]),
                             "message_json": MESSAGE, "created_at": VALUES})


def fill(d: Path, tasks: list, links: list, sessions: list, msgs: list) -> None:
    t, s = loose_store(d)
    for table, rows, conn in (("tasks", tasks, t), ("task_sessions", links, t),
                              ("sessions", sessions, s), ("messages", msgs, s)):
        for row in rows:
            insert(conn, table, **row)
    t.close()
    s.close()


async def render_everything(d: Path) -> None:
    app = make_app(d)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.applied >= 1, 30, "the task list")
        assert_harmless(app)
        snap = app.screen.snapshot  # type: ignore[attr-defined]
        for task in snap.tasks[:3]:
            applied = app.applied
            app.open_task(task.id)
            await wait_until(pilot, lambda a=applied: app.applied > a, 30, f"task {task.id}")
            assert_harmless(app)
            detail = app.screen.detail  # type: ignore[attr-defined]
            for pane in (detail.sessions if detail else ())[:2]:
                applied = app.applied
                app.open_session(pane.info.session_id)
                await wait_until(pilot, lambda a=applied: app.applied > a, 30, "a transcript")
                await pilot.press("t")
                assert_harmless(app)
                app.pop_screen()
            app.pop_screen()
        assert app.refresh_state.error is None, app.refresh_state.error


#: Examples per run: 30 by default (seconds); SESSIONTOP_EXAMPLES=500 for a long hunt.
EXAMPLES = int(os.environ.get("SESSIONTOP_EXAMPLES", "30"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 30,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(tasks=st.lists(TASK, max_size=6), links=st.lists(LINK, max_size=8),
       sessions=st.lists(SESSION, max_size=5), msgs=st.lists(MSG, max_size=10))
def test_arbitrary_rows_render_on_every_screen(tmp_path_factory, tasks, links, sessions,
                                               msgs) -> None:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("arb")
    fill(d, tasks, links, sessions, msgs)
    guard = StoreGuard(d)
    asyncio.run(render_everything(d))
    guard.check()
