"""The fleet model: immutable snapshots and the rules over them (no I/O, no Textual).

- snapshots: the frozen records the data layer hands to the screens
- queries: what a screen shows, said as a query the app runs against a source
- groups, task_order: the task list's groups, filter and sort, as tau's picker
- text: store text made safe to show (data, never markup or escapes)
"""
