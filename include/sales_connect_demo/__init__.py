"""`make run`: the sync end to end on the embedded defaults (emulator + SQLite), with a readable report."""
