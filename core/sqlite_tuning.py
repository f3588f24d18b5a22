"""SQLite connections tuned as they open: WAL checkpointed every 64 MiB, 16 KiB pages, a
16 MiB page cache, foreign keys, a busy wait, freed space overwritten."""

from __future__ import annotations

# 16 KiB pages made ~2 KB-row upserts about 2.2x faster than 4 KiB here (STACK-NOTES).
SQLITE_PAGE_SIZE = 16384
# SQLite's default cache is 2 MB (125 such pages): a hub writing a page of a pull touches the
# indexes of several tables at random places, and re-read them from the file for each
# record. 16 MiB (a limit, taken as used) cut the writing of a 100,000-record pull from 4.7 s
# to 3.5 s here (docs/performance.md, "Federation sync").
SQLITE_CACHE_KIB = 16384
# The write-ahead log is copied back into the database (a checkpoint, which syncs the disk
# twice) once it holds this many pages: SQLite's default, 1,000, is 16 MiB of ours, and a
# hub's pull of 100,000 records waited about 1.5 s on those syncs; 4,000 raised the sync
# bench's ratio by 0.03-0.04 in two A/B pairs (docs/performance.md). A purge still
# truncates the log at once (core.erasure).
SQLITE_WAL_CHECKPOINT_PAGES = 4000


def tune(dbapi_connection, _record) -> None:
    """The engine's ``connect`` listener for SQLite."""
    cursor = dbapi_connection.cursor()
    # page_size only takes effect before the first table is written, so new files get it.
    cursor.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WAL_CHECKPOINT_PAGES}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    # Freed space is overwritten with zeros, so purged values do not linger in the file
    # (core.erasure truncates the WAL after a purge).
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()
