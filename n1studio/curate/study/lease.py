"""The writer lease: one bulk writer of a study at a time (`Study.writer`).

Why a lease row in the study rather than a lock file beside it: the study stays one file
(plus SQLite's own -wal/-shm), taking the lease is one SQLite transaction (BEGIN IMMEDIATE
serialises two takers), and the holder's pid and start time are right there for the
refusal. A lease left by a killed process is taken over: its pid no longer runs (or runs a
different process, by start time). WAL needs every writer on one host anyway, so the pid
can be checked.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import time

import psutil

from n1studio.errors import StudyBusyError, StudyError

log = logging.getLogger(__name__)

#: How long a second bulk writer waits for the first before it refuses (seconds).
WRITER_WAIT_S = 5.0

Holder = tuple[int, str, str]  # pid, host, process start token


def process_start_of(pid: int) -> str:
    """A token of when process `pid` started (psutil's create time, to the millisecond),
    "" where unknown. It tells a live holder from a new process that reused a dead
    holder's pid."""
    try:
        return f"{psutil.Process(pid).create_time():.3f}"
    except (psutil.Error, OSError, ValueError):
        return ""


def holder_alive(pid: int, host: str, process_start: str) -> bool:
    """Whether the lease holder still runs. On another host it cannot be told: assume so.
    A lease written by an older N-1 Studio holds a /proc tick count, not a create time:
    then only the pid is checked."""
    if host != socket.gethostname():
        return True
    if not psutil.pid_exists(pid):
        return False
    now = process_start_of(pid)
    if process_start and now and "." in process_start:
        return now == process_start
    return True


def me() -> Holder:
    """This process as a lease holder."""
    return os.getpid(), socket.gethostname(), process_start_of(os.getpid())


def take(study, purpose: str, wait: float) -> Holder:
    """Take the lease of `study` for `purpose`, waiting up to `wait` seconds for a live
    holder; then StudyBusyError with one line naming it. Returns the holder written."""
    holder = me()
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        with study.transaction() as c:
            row = c.execute("SELECT pid, host, process_start, purpose, since FROM writer "
                            "WHERE id = 1").fetchone()
            if row is None or not holder_alive(row["pid"], row["host"], row["process_start"]):
                if row is not None:
                    log.info("%s: taking over the lease of pid %s, which has ended",
                             study.path.name, row["pid"])
                c.execute("INSERT INTO writer (id, pid, host, process_start, purpose, since) "
                          "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                          "pid = excluded.pid, host = excluded.host, "
                          "process_start = excluded.process_start, "
                          "purpose = excluded.purpose, since = excluded.since",
                          (*holder, purpose, time.time()))
                return holder
        if time.monotonic() >= deadline:
            since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(row["since"]))
            where = "" if row["host"] == holder[1] else f" on {row['host']}"
            raise StudyBusyError(
                f"study {study.path.name} is being written by pid {row['pid']}{where} "
                f"({row['purpose']}) since {since}; run this again when it has finished")
        time.sleep(0.2)


def release(study, holder: Holder) -> None:
    """Give the lease back (a lease that cannot be released is taken over later)."""
    try:
        with study.transaction() as c:
            c.execute("DELETE FROM writer WHERE id = 1 AND pid = ? AND host = ?", holder[:2])
    except (StudyError, sqlite3.Error) as exc:
        log.warning("%s: cannot release the writer lease: %s", study.path.name, exc)


def current(study) -> dict | None:
    """Who holds the lease now ({pid, host, purpose, since}), None when free."""
    row = study.conn.execute("SELECT pid, host, process_start, purpose, since FROM writer "
                             "WHERE id = 1").fetchone()
    if row is None or not holder_alive(row["pid"], row["host"], row["process_start"]):
        return None
    return {k: row[k] for k in ("pid", "host", "purpose", "since")}
