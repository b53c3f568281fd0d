# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The balancer's memory, kept in SQLite on the master: the policy's state (watch timers, cool-downs), so a
restart of the master or of the balancer loses nothing and does not restart a wait; and the proposals with
their decisions and outcomes.

A proposal is ``pending`` (waiting for its VM's owner or an admin), ``approved`` (to be carried out),
``running`` (claimed by the one run that carries it out: the balancer's cycle or the approval itself, never
both), ``declined``, ``done``, ``failed`` (with the message) or ``expired`` (no answer in time); a ``forced``
one is carried out without consent and recorded as such. Only the VM's owner or an admin may answer one: a tenant
asking about another tenant's proposal is told there is none (no hint that it exists).
Pure Python: sqlite3 from the standard library; no Ansible or libvirt import.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, NotFound
from ansible_collections.cloud1.iaas.plugins.module_utils.state.db import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS policy_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    state   TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS proposals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    node       TEXT,
    dimension  TEXT,
    owner      TEXT,
    forced     INTEGER NOT NULL DEFAULT 0,
    action     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    status     TEXT NOT NULL,
    created    REAL NOT NULL,
    decided    REAL,
    decided_by TEXT,
    outcome    TEXT,
    updated    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS proposals_status ON proposals (status);
"""
PENDING, APPROVED, DECLINED, DONE, FAILED, EXPIRED, FORCED, RUNNING = (
    "pending", "approved", "declined", "done", "failed", "expired", "forced", "running")
STATUSES = (PENDING, APPROVED, RUNNING, DECLINED, DONE, FAILED, EXPIRED, FORCED)
OPEN = (PENDING, APPROVED, FORCED, RUNNING)
READY = (APPROVED, FORCED)      # waiting for a run to claim and carry them out
FIELDS = ("id", "key", "kind", "subject", "node", "dimension", "owner", "forced", "action", "reason", "status",
          "created", "decided", "decided_by", "outcome", "updated")


class Store(SqliteStore):
    """The balancer's database at ``db_path``."""

    SCHEMA = SCHEMA

    @staticmethod
    def _row(row):
        out = dict(zip(FIELDS, row))
        out["action"] = json.loads(out["action"])
        out["forced"] = bool(out["forced"])
        return out

    @contextlib.contextmanager
    def cycle_lock(self):
        """Held for one whole cycle (read the state, judge, record): two cycles at once (the master's timer and
        an admin's rebalance.yml) would both judge the same state and raise the same proposal twice."""
        os.makedirs(os.path.dirname(os.path.abspath(self.db_path)), exist_ok=True)
        with open(self.db_path + ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- the policy's state ----------------------------------------------------------------------

    def load(self):
        """(policy state or None, keys of the open proposals); a database not made yet is not made by reading."""
        if not os.path.exists(self.db_path):
            return None, []
        conn = self._connect()
        try:
            row = conn.execute("SELECT state FROM policy_state WHERE id = 1").fetchone()
            marks = ", ".join("?" * len(OPEN))
            keys = [r[0] for r in conn.execute("SELECT key FROM proposals WHERE status IN (%s)" % marks, OPEN)]
        finally:
            conn.close()
        return (json.loads(row[0]) if row else None), sorted(set(keys))

    def record_cycle(self, state, proposals, now, expire_after=None, stale_after=None, seen=None):
        """Keep the cycle's new policy state and its proposals in one transaction; pending proposals older
        than ``expire_after`` seconds expire; a proposal claimed longer than ``stale_after`` seconds ago with no
        outcome recorded failed (the run carrying it out stopped). ``seen``: {"nodes": the nodes whose VMs the
        survey read, "vms": the names of the VMs it found on them}: a proposal not yet carried out (pending,
        approved or forced) whose VM is on none of them while its node answered was made for a VM since deleted,
        and expires saying so (a node that did not answer keeps its VMs' proposals: they may still be there).
        Returns the stored proposals of this cycle."""
        stored = []
        with self._transaction() as conn:
            if seen is not None:
                self._withdraw_gone(conn, set(seen.get("nodes") or ()), set(seen.get("vms") or ()), now)
            conn.execute("INSERT INTO policy_state (id, state, updated) VALUES (1, ?, ?) "
                         "ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated = excluded.updated",
                         (json.dumps(state, sort_keys=True), now))
            if expire_after is not None:
                conn.execute("UPDATE proposals SET status = ?, outcome = ?, updated = ? WHERE status = ? AND created < ?",
                             (EXPIRED, "no answer within %d s" % expire_after, now, PENDING, now - expire_after))
            if stale_after is not None:
                conn.execute("UPDATE proposals SET status = ?, outcome = ?, updated = ? WHERE status = ? AND updated < ?",
                             (FAILED, "no outcome recorded within %d s of being claimed: the run carrying it out "
                              "stopped; the VM is as that run left it" % stale_after, now, RUNNING, now - stale_after))
            for p in proposals:
                cur = conn.execute(
                    "INSERT INTO proposals (key, kind, subject, node, dimension, owner, forced, action, reason, status, "
                    "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (p["key"], p["kind"], p["subject"], p.get("node"), p.get("dimension"), p.get("owner"),
                     int(bool(p.get("forced"))), json.dumps(p["action"], sort_keys=True), p["reason"],
                     FORCED if p.get("forced") else PENDING, now, now))
                stored.append(cur.lastrowid)
        return [self.get(i) for i in stored]

    @staticmethod
    def _withdraw_gone(conn, nodes, vms, now):
        marks = ", ".join("?" * 3)
        rows = conn.execute("SELECT id, subject, node FROM proposals WHERE status IN (%s)" % marks,
                            (PENDING, APPROVED, FORCED)).fetchall()
        for pid, subject, node in rows:
            if subject not in vms and node in nodes:
                conn.execute("UPDATE proposals SET status = ?, outcome = ?, updated = ? WHERE id = ?",
                             (EXPIRED, "withdrawn: %s is no longer on %s nor on any node that answered (deleted)"
                              % (subject, node), now, pid))

    # -- proposals -------------------------------------------------------------------------------

    def get(self, proposal_id, owner=None):
        """One proposal; NotFound when there is none, or when ``owner`` is given and it is another owner's."""
        conn = self._connect()
        try:
            row = conn.execute("SELECT %s FROM proposals WHERE id = ?" % ", ".join(FIELDS), (int(proposal_id),)).fetchone()
        finally:
            conn.close()
        if row is None or (owner and self._row(row)["owner"] != owner):
            raise NotFound("there is no proposal %s%s" % (proposal_id, " for %s" % owner if owner else ""))
        return self._row(row)

    def list(self, owner=None, status=None, limit=50):
        conn = self._connect()
        try:
            sql = "SELECT %s FROM proposals" % ", ".join(FIELDS)
            where, args = [], []
            if owner:
                where.append("owner = ?")
                args.append(owner)
            if status:
                where.append("status = ?")
                args.append(status)
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += " ORDER BY id DESC LIMIT ?"
            rows = conn.execute(sql, args + [int(limit)]).fetchall()
        finally:
            conn.close()
        return [self._row(r) for r in rows]

    def answer(self, proposal_id, approve, by, now, owner=None, limit=None):
        """Approve or decline a pending proposal for its owner (``owner``) or an admin (no owner). ``limit``:
        the owner's limit for a growth (vCPUs, MiB or GiB, whichever the proposal grows). Returns the proposal
        as it now stands."""
        p = self.get(proposal_id, owner)
        if p["status"] != PENDING:
            raise InvalidInput("proposal %s is %s, not pending: it cannot be answered now" % (proposal_id, p["status"]))
        action = dict(p["action"])
        if limit is not None:
            if not approve:
                raise InvalidInput("a limit goes with an approval, not a decline")
            action = with_limit(p, limit)
        with self._transaction() as conn:
            cur = conn.execute("UPDATE proposals SET status = ?, decided = ?, decided_by = ?, action = ?, updated = ? "
                               "WHERE id = ? AND status = ?",
                               (APPROVED if approve else DECLINED, now, by, json.dumps(action, sort_keys=True), now,
                                int(proposal_id), PENDING))
        if cur.rowcount != 1:
            raise InvalidInput("proposal %s was answered by someone else a moment ago" % proposal_id)
        return self.get(proposal_id)

    def claim(self, now, proposal_id=None):
        """Take the approved and forced proposals (or just ``proposal_id``) for carrying out: each becomes
        ``running`` in one transaction, so two runs never carry out the same one. Returns those claimed."""
        with self._transaction() as conn:
            sql, args = "SELECT id FROM proposals WHERE status IN (?, ?)", list(READY)
            if proposal_id is not None:
                sql += " AND id = ?"
                args.append(int(proposal_id))
            ids = [r[0] for r in conn.execute(sql + " ORDER BY id", args)]
            for i in ids:
                conn.execute("UPDATE proposals SET status = ?, updated = ? WHERE id = ?", (RUNNING, now, i))
        return [self.get(i) for i in ids]

    def outcome(self, proposal_id, ok, message, now):
        """Record what carrying out a claimed (or approved or forced) proposal gave."""
        conn = self._connect()
        try:
            cur = conn.execute("UPDATE proposals SET status = ?, outcome = ?, updated = ? WHERE id = ? AND status IN (?, ?, ?)",
                               (DONE if ok else FAILED, message, now, int(proposal_id), RUNNING, APPROVED, FORCED))
        finally:
            conn.close()
        if cur.rowcount != 1:
            raise InvalidInput("proposal %s is not being carried out: nothing to record" % proposal_id)
        return self.get(proposal_id)


def with_limit(proposal, limit):
    """The proposal's action with the owner's limit for a growth: the size it grows to becomes ``limit`` (the
    seed asks the user for it); carrying it out refuses a limit below the VM's current size (vm_scale)."""
    action = dict(proposal["action"])
    sizes = [k for k in ("vcpus", "memory_mib", "disk_gib") if k in action]
    if proposal["kind"] not in ("grow", "move_and_grow") or len(sizes) != 1:
        raise InvalidInput("proposal %s (%s) has no size to limit" % (proposal["id"], proposal["kind"]))
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise InvalidInput("limit %r is not a whole number of %s" % (limit, sizes[0]))
    if value <= 0:
        raise InvalidInput("limit %d must be positive" % value)
    action[sizes[0]] = value
    return action
