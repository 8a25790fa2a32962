"""Immutable snapshots of the store: what the store layer hands to the screens.

Everything here is a frozen dataclass of plain values, so a snapshot can be
compared with the previous one (to update only what changed) and handed across
tasks without copying. No I/O, no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass

from .hosts import HostStatus

# --- vocabulary (TAU_STORE.md); unknown values are shown as they are ----------

TASK_STATES = (
    "interactive", "planning", "refining", "ready", "active", "review",
    "approved", "merging", "failed", "merged", "done", "closed",
)
TERMINAL_STATES = frozenset({"merged", "done", "closed", "failed"})
#: tau's ``is_inflight`` (TAU.md §4.4): the task picker's "active" bucket.
IN_FLIGHT_STATES = frozenset({"active", "review", "merging", "refining"})
#: A ``depends_on`` target in one of these no longer blocks; done and failed
#: targets still do (TAU.md §4.5, ``get_blocking_dependencies``).
DEPENDENCY_MET_STATES = frozenset({"merged", "closed"})
#: Roles of a person's or an orchestrator's chat that filed or discussed the
#: task (TAU.md §4.6); the other roles are the task's own working sessions.
CHAT_ROLES = frozenset({"creator", "interactive", "contributor"})

PHASES = (
    "idle", "waiting", "preparing", "sending request", "thinking", "working",
    "running tools", "compacting", "rate limited",
)
#: How busy a phase is, for "the busiest live phase" of a task (higher = busier).
PHASE_RANK: dict[str, int] = {
    "running tools": 9, "working": 8, "thinking": 7, "sending request": 6,
    "compacting": 5, "preparing": 4, "rate limited": 3, "waiting": 2, "idle": 0,
}
EXIT_OK = frozenset({"completed", "succeeded"})
EXIT_BAD = frozenset({"error", "panicked"})
EXIT_WARN = frozenset({"cancelled", "max_turns"})

ROLES = ("creator", "interactive", "planner", "refiner", "worker", "reviewer",
         "contributor", "assigned", "log")


def phase_rank(phase: str | None) -> int:
    """Rank of a phase; an unknown, non-idle phase counts as mildly busy."""
    if not phase:
        return -1
    return PHASE_RANK.get(phase, 1)


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """Where liveness comes from now: tau's server, or nowhere (and why)."""

    state: str  # "starting" | "up" | "draining" | "down" | "denied" | "unreachable" | "off"
    detail: str
    socket: str = ""
    watching: int = 0  # open subscriptions
    wanted: int = 0  # sessions the disk says may be live
    capped: bool = False  # more candidates than subscriptions allowed
    problem: str | None = None  # the last thing tau sent that could not be used

    @property
    def up(self) -> bool:
        """The server answers: its word on liveness is the truth."""
        return self.state in ("up", "draining")


#: Before anything is known of the server.
NO_SERVER = ServerStatus("off", "no tau runtime directory: nothing is live")


@dataclass(frozen=True, slots=True)
class UsageWindow:
    """One rate-limit window of tau's ``subscription_usage`` push (its
    ``UsageBucket``): how much of it is used, and when it resets."""

    label: str  # "5h", "7d", "sonnet 7d", "opus 7d"
    utilization: float  # percent, as tau has it (0-100, may pass 100)
    resets_at: float | None = None  # s


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The newest ``subscription_usage`` tau pushed to its subscribers (every
    300 s, OAuth installs only): never asked for, only kept."""

    windows: tuple[UsageWindow, ...]
    received_at: float  # s: when it arrived (its age is what the screen says)
    extra_enabled: bool = False  # extra usage: pay-as-you-go beyond the windows
    extra_limit: float | None = None  # its monthly limit
    extra_used: float | None = None  # credits used of it


# --- the record ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskSessionInfo:
    """tau's ``TaskSessionInfo``: a session recorded against a task.

    The bare row (session_id, role, created_at) always exists; the rest is
    enrichment from tau.db and is None when the session is gone from it.
    ``created_at`` is unix ms, ``last_activity`` unix seconds, as in tau.
    """

    session_id: str
    role: str
    created_at: int
    message_count: int | None
    archived: bool | None
    last_activity: int | None
    last_phase: str | None
    last_exit_status: str | None
    is_live: bool
    #: False when tau cannot read the session's model_json: tau's ``task_get``
    #: then leaves the row out, as for a session gone (TAU.md §6.1).
    tau_loads: bool = True
    #: Messages waiting in ``queued_messages`` for this session's next turn,
    #: and when the oldest was queued (ms).
    queued: int = 0
    queued_since: int | None = None
    #: ``sessions.successor_id`` (or tau's ``session_succeeded`` push): retired for it.
    successor_id: str | None = None

    @property
    def gone(self) -> bool:
        """True for a bare row: the session is no longer in tau.db."""
        return self.message_count is None


# --- messages -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # compact JSON of the arguments, as data


@dataclass(frozen=True, slots=True)
class Message:
    """One row of ``messages``, decoded from its JSON as far as it goes.

    A row whose JSON cannot be read keeps ``role='invalid'`` and the reason in
    ``error``, so it is shown, not dropped.
    """

    id: int
    session_id: str
    created_at: int  # ms
    role: str
    text: str = ""
    thinking: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_name: str = ""
    is_error: bool = False
    duration_ms: int | None = None
    summary: str = ""
    tokens: int = 0
    cost: float = 0.0
    model: str = ""
    stop_reason: str = ""
    error: str = ""
    stamp: int = 0  # message_json's own timestamp (ms): a streamed answer has the same one
    tool_call_id: str = ""  # a tool result's call: what streamed under that id is now stored


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A ``queued_messages`` row: waiting for the session's next turn, not
    delivered yet (tau stores it as a user message ``[from sender] text``
    when it drains the queue, TAU.md §2.1)."""

    id: int
    session_id: str
    sender: str | None
    text: str  # the content (its start, for a long one)
    created_at: int  # ms
    size: int = 0  # the content's length


# --- tasks ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One task as the task list shows it."""

    id: int
    title: str
    state: str
    priority: int
    project: str
    parent_id: int | None
    held: bool
    created_at: int  # ms
    updated_at: int  # ms
    session_count: int
    live_count: int  # live working sessions (worker, planner, refiner, reviewer, …)
    busiest_phase: str | None  # the busiest phase among live working sessions
    last_activity: int | None  # s, newest of its sessions
    blocked_by: tuple[int, ...] = ()  # depends_on targets not merged or closed
    waits: tuple[str, ...] = ()  # why it waits, in tau's scheduler's words (task_overview)
    chat_live: int = 0  # live chat sessions (creator, interactive, contributor)
    chat_phase: str | None = None  # the busiest phase among live chats
    owner: str | None = None  # tasks.session_id: the task's current owner session
    queued: int = 0  # messages queued for its sessions, not delivered yet
    queued_since: int | None = None  # ms: the oldest of them
    #: The task's host ("": this machine alone; with hosts every row names its
    #: own, ids being per host: tui.model.hosts).
    host: str = ""

    @property
    def has_live_session(self) -> bool:
        """tau's ``has_live_session``: any of its sessions live, any role (TAU.md §6.2)."""
        return self.live_count > 0 or self.chat_live > 0


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    field: str
    old_value: str | None
    new_value: str | None
    session_id: str | None
    created_at: int  # ms


@dataclass(frozen=True, slots=True)
class Relation:
    from_task: int
    to_task: int
    relation: str
    from_state: str | None = None  # the tasks' states, None if not in the store
    to_state: str | None = None


@dataclass(frozen=True, slots=True)
class TokenUse:
    """A session's tokens by kind, as tau shows them (TAU.md §3: its
    ``total_tokens`` includes the cache reads and writes)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    context: int | None = None  # tokens the model was last given


@dataclass(frozen=True, slots=True)
class SessionPane:
    """A TaskSessionInfo plus what its pane shows beyond the record."""

    info: TaskSessionInfo
    tagline: str = ""
    model: str = ""
    parent_id: str | None = None
    tokens: int = 0
    cost: float = 0.0
    usage_complete: bool = True  # False: tokens and cost are still being summed
    phase_since: float | None = None  # s: when the current phase began
    recent: tuple[Message, ...] = ()
    turn_since: float | None = None  # s: when the running turn began (live only)
    #: Where the phase shown comes from: "server" (tau's memory), "disk" (the
    #: last persisted value: no server), "pending" (asked, no answer yet).
    phase_source: str = "disk"
    activity: str = ""  # the newest streamed line (a tool running, its output)
    use: TokenUse | None = None
    context_pct: float | None = None  # context use over the model's window
    #: Message rows tau cannot parse, as far as summed (`usage_complete`):
    #: with one, tau reads the history as empty and says 0 messages.
    unreadable: int = 0
    rows: int = 0  # message rows in tau.db (``info.message_count`` is tau's figure)
    #: LLM calls tau's stream showed while watching and tau never stores, so
    #: no cost counts them: (compactions, loop reviews).
    unpriced: tuple[int, int] = (0, 0)


@dataclass(frozen=True, slots=True)
class TaskDetail:
    """One task with its fields, history, relations and session panes."""

    task: TaskRow
    branch: str | None
    tags: tuple[str, ...]
    worktree_path: str | None
    extra: tuple[tuple[str, str], ...]  # other columns, as (name, value)
    history: tuple[HistoryEntry, ...]
    relations: tuple[Relation, ...]
    sessions: tuple[SessionPane, ...]


@dataclass(frozen=True, slots=True)
class SessionHeader:
    id: str
    tagline: str
    model: str
    archived: bool
    last_phase: str | None
    last_exit_status: str | None
    is_live: bool
    created_at: int  # ms
    message_count: int
    tokens: int
    cost: float
    usage_complete: bool = True  # False: tokens and cost are still being summed
    gone: bool = False
    phase_since: float | None = None  # s
    turn_since: float | None = None  # s
    phase_source: str = "disk"  # as SessionPane.phase_source
    activity: str = ""
    use: TokenUse | None = None
    context_pct: float | None = None
    unreadable: int = 0  # as SessionPane.unreadable (``message_count`` counts rows here)
    tau_loads: bool = True  # as TaskSessionInfo.tau_loads
    epoch: int = 0  # moves when the session's messages must be read afresh (see SessionTable.epoch)
    queued: int = 0  # as TaskSessionInfo.queued
    queued_since: int | None = None
    successor_id: str | None = None  # as TaskSessionInfo.successor_id
    unpriced: tuple[int, int] = (0, 0)  # as SessionPane.unpriced


@dataclass(frozen=True, slots=True)
class LiveAnswer:
    """An assistant message as it streams (TAU.md §7.4): not stored yet."""

    stamp: int  # its timestamp, the stored message's too
    text: str = ""
    thinking: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    forming: str = ""  # the arguments of the tool call being written, as they arrive
    done: bool = False  # the stream finished it: tau stores it next


@dataclass(frozen=True, slots=True)
class LiveTool:
    """A tool call running or just run: its streamed output, then its result."""

    call_id: str
    name: str
    output: str = ""  # the tail of what it printed so far
    cut: int = 0  # characters of output no longer kept (older than the tail)
    result: str | None = None  # None: still running
    is_error: bool = False
    summary: str = ""


@dataclass(frozen=True, slots=True)
class LiveSteer:
    """A message tau fed into the running turn (its queue drained mid-turn:
    ``user_message`` on the stream, TAU.md §7.4), before its stored copy is read."""

    text: str


@dataclass(frozen=True, slots=True)
class LiveTurn:
    """What the open transcript's session streams now and tau has not stored."""

    parts: tuple[LiveAnswer | LiveTool | LiveSteer, ...]
    notices: tuple[str, ...] = ()  # status lines: retries, compaction, tool-use limit
    running: bool = True  # False: the turn ended; what is left is being stored
    seq: int = 0  # moves with every event shown


@dataclass(frozen=True, slots=True)
class Transcript:
    """A window on one session's messages: the newest page, plus older pages
    as the operator scrolls back; and the turn streaming now, if any."""

    header: SessionHeader
    messages: tuple[Message, ...]
    has_older: bool
    live: LiveTurn | None = None
    #: Messages waiting for the session's next turn (after the stored ones).
    queued: tuple[QueuedMessage, ...] = ()
    #: Stored user messages that reached the running turn as steering (ids).
    steered: tuple[int, ...] = ()


# --- the whole picture -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """What the screen says about the store itself: liveness and problems."""

    data_dir: str
    server: ServerStatus = NO_SERVER
    notices: tuple[str, ...] = ()  # things the operator should know, one line each
    error: str | None = None       # the last read failed: data on screen is stale
    stale_since: float | None = None
    limits: RateLimits | None = None  # tau's newest subscription_usage push, if any
    #: With hosts: each one's link, server and the age of its rows (else empty).
    hosts: tuple[HostStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskDelta:
    """What one task list differs by from the list before it: the rows built
    again (new tasks among them) and the tasks gone. Every other row is the
    same object as before."""

    rows: tuple[TaskRow, ...] = ()
    removed: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class TaskListSnapshot:
    tasks: tuple[TaskRow, ...]
    status: StoreStatus
    taken_at: float = 0.0
    #: Distinct sessions live now (the server's word), on a task or not: one
    #: session linked to ten tasks counts once.
    live_sessions: int = 0
    #: The list's number from its store (0: not from a chain of lists), and
    #: what it differs by from list ``seq - 1`` (None: anything may), so a
    #: screen that applied that one does the work of the change only.
    seq: int = 0
    delta: TaskDelta | None = None
