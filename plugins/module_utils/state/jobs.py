# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console's jobs, kept in SQLite on the master beside its accounts: each is one run of one of the
collection's playbooks for one account (``core.jobs`` says which and with what), ``queued`` -> ``running`` ->
``successful`` or ``failed`` (or ``lost`` when the console stopped while it ran), with its events (one line
each: the task, the host, ok/changed/failed and the message) and its result. A tenant sees only its own jobs:
another's does not exist for it. Pure Python: sqlite3 from the standard library.
"""

from __future__ import annotations

import json
import os

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import NotFound
from ansible_collections.cloud1.iaas.plugins.module_utils.state.accounts import ConsoleDb

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    account   TEXT NOT NULL,
    operation TEXT NOT NULL,
    playbook  TEXT NOT NULL,
    extravars TEXT NOT NULL,
    status    TEXT NOT NULL,
    rc        INTEGER,
    result    TEXT,
    created   REAL NOT NULL,
    started   REAL,
    ended     REAL
);
CREATE TABLE IF NOT EXISTS job_events (
    job     INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    task    TEXT,
    host    TEXT,
    line    TEXT NOT NULL,
    PRIMARY KEY (job, seq)
);
"""
QUEUED, RUNNING, SUCCESSFUL, FAILED, LOST = "queued", "running", "successful", "failed", "lost"
FIELDS = ("id", "account", "operation", "playbook", "extravars", "status", "rc", "result", "created", "started",
          "ended")


class Jobs(ConsoleDb):
    """The jobs in the console's database at ``db_path`` (the accounts' file)."""

    SCHEMA = SCHEMA

    @staticmethod
    def _job(row):
        out = dict(zip(FIELDS, row))
        out["extravars"] = json.loads(out["extravars"])
        out["result"] = json.loads(out["result"]) if out["result"] else None
        return out

    def create(self, account, operation, playbook, extravars, now):
        """A queued job; returns it."""
        with self._transaction() as conn:
            cur = conn.execute("INSERT INTO jobs (account, operation, playbook, extravars, status, created) "
                               "VALUES (?, ?, ?, ?, ?, ?)",
                               (account, operation, playbook, json.dumps(extravars, sort_keys=True), QUEUED, now))
            job_id = cur.lastrowid
        return self.get(job_id)

    def get(self, job_id, account=None):
        """The job; with ``account`` (a tenant's name) only that account's: another's is NotFound."""
        if os.path.exists(self.db_path):
            conn = self._connect()
            try:
                row = conn.execute("SELECT %s FROM jobs WHERE id = ?" % ", ".join(FIELDS), (job_id,)).fetchone()
            finally:
                conn.close()
            if row and (account is None or row[1] == account):
                return self._job(row)
        raise NotFound("there is no job %s" % job_id)

    def list(self, account=None, limit=50):
        if not os.path.exists(self.db_path):
            return []
        conn = self._connect()
        try:
            sql = "SELECT %s FROM jobs%s ORDER BY id DESC LIMIT ?" % (", ".join(FIELDS),
                                                                      " WHERE account = ?" if account else "")
            return [self._job(r) for r in conn.execute(sql, ((account, limit) if account else (limit,)))]
        finally:
            conn.close()

    def start(self, job_id, now):
        with self._transaction() as conn:
            conn.execute("UPDATE jobs SET status = ?, started = ? WHERE id = ? AND status = ?",
                         (RUNNING, now, job_id, QUEUED))

    def event(self, job_id, seq, kind, line, task=None, host=None):
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO job_events (job, seq, kind, task, host, line) VALUES (?, ?, ?, ?, ?, ?)",
                         (job_id, seq, kind, task, host, line))

    def events(self, job_id, account=None, after=0):
        """The job's events after ``after`` (seq), in order; the same NotFound as ``get`` for another's job."""
        self.get(job_id, account)
        conn = self._connect()
        try:
            rows = conn.execute("SELECT seq, kind, task, host, line FROM job_events WHERE job = ? AND seq > ? "
                                "ORDER BY seq", (job_id, after)).fetchall()
        finally:
            conn.close()
        return [dict(zip(("seq", "kind", "task", "host", "line"), r)) for r in rows]

    def finish(self, job_id, ok, rc, result, now):
        with self._transaction() as conn:
            conn.execute("UPDATE jobs SET status = ?, rc = ?, result = ?, ended = ? WHERE id = ?",
                         (SUCCESSFUL if ok else FAILED, rc, json.dumps(result, sort_keys=True), now, job_id))

    def lose_running(self, now):
        """At the console's start: the jobs it ran when it stopped are ``lost`` (their playbooks say what they
        left: a rerun of a creation or migration converges); returns their ids."""
        if not os.path.exists(self.db_path):
            return []
        with self._transaction() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM jobs WHERE status IN (?, ?)", (QUEUED, RUNNING))]
            conn.execute("UPDATE jobs SET status = ?, ended = ? WHERE status IN (?, ?)", (LOST, now, QUEUED, RUNNING))
        return ids
