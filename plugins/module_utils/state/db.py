# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the master's SQLite stores share: a connection in WAL mode that waits for a busy database, its tables
made on first use, and one write transaction at a time (``BEGIN IMMEDIATE``; committed when the block ends,
rolled back on an error). Pure Python: sqlite3 from the standard library."""

from __future__ import annotations

import contextlib
import os
import sqlite3


class SqliteStore:
    """A store in the database at ``db_path`` with the tables of ``SCHEMA``. ``PRIVATE``: the directory is made
    0700 and the file 0600 (it holds secrets' hashes)."""

    SCHEMA = ""
    PRIVATE = False

    def __init__(self, db_path):
        self.db_path = db_path

    def _connect(self):
        parent = os.path.dirname(os.path.abspath(self.db_path))
        if self.PRIVATE:
            os.makedirs(parent, mode=0o700, exist_ok=True)
        else:
            os.makedirs(parent, exist_ok=True)
        fresh = not os.path.exists(self.db_path)
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        if fresh and self.PRIVATE:
            os.chmod(self.db_path, 0o600)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.executescript(self.SCHEMA)
        return conn

    @contextlib.contextmanager
    def _transaction(self):
        """A connection inside one write transaction: committed when the block ends, rolled back on an error."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except Exception:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
