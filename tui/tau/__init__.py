"""Reading tau's store, in parts; `tui.tau.store.Store` composes them.

- errors: what went wrong with a file, worded for the operator
- decode: row values and message JSON to plain values, never raising
- schema: which tables and columns a file has
- db: the two read-only connections and the state of each file
- records: what the fleet model keeps of a session, and the dirty marks
- fleet_tasks, fleet_sessions, fleet: the incremental in-memory fleet model
- usage: token and cost sums, counted a chunk at a time
- merge: snapshots from the disk's record plus the liveness source (`Liveness`)
- task_read, transcript_read: one task's screen, one session's messages
- client, live, events, stream, paths: tau's server socket (the live truth)
- store: the facade composing all of the above; watcher: when the files changed
- ddl: tau's own DDL, for the writers this project owns (demo, tests, bench); never run by a reader
"""
