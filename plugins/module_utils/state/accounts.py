# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console's accounts, kept in SQLite on the master (the console's database; WAL, short transactions):
name, role (admin or tenant), the scrypt hash of the password (never the password), disabled, and the login
fields that slow down a login that keeps failing; and their sessions (only each token's SHA-256). A changed
password or role, a disabled or removed account ends the account's sessions. The rules are ``core.accounts``
and ``core.sessions``; this is only the keeping.
Pure Python: sqlite3 from the standard library; no Ansible or libvirt import.
"""

from __future__ import annotations

import os

from ansible_collections.cloud1.iaas.plugins.module_utils.core import accounts as rules
from ansible_collections.cloud1.iaas.plugins.module_utils.core import sessions as session_rules
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput
from ansible_collections.cloud1.iaas.plugins.module_utils.state.db import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name         TEXT PRIMARY KEY,
    role         TEXT NOT NULL,
    password     TEXT NOT NULL,
    disabled     INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    last_login   REAL,
    created      REAL NOT NULL,
    updated      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id        TEXT PRIMARY KEY,
    account   TEXT NOT NULL,
    created   REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account);
"""
FIELDS = ("name", "role", "password", "disabled", "failures", "locked_until", "last_login", "created", "updated")
SHOWN = ("name", "role", "disabled", "failures", "last_login", "created", "updated")   # what a caller may see


class LoginRefused(InvalidInput):
    """A login that is not accepted; its message never says whether the account exists."""


class ConsoleDb(SqliteStore):
    """The console's database (accounts, sessions, jobs): private, 0600."""

    SCHEMA = SCHEMA
    PRIVATE = True


class Accounts(ConsoleDb):
    """The console's accounts and their sessions."""

    def __init__(self, db_path):
        super().__init__(db_path)
        self._dummy = None

    @staticmethod
    def _row(row, secret=False):
        out = dict(zip(FIELDS, row))
        out["disabled"] = bool(out["disabled"])
        return out if secret else {k: out[k] for k in SHOWN}

    def _get(self, conn, name, secret=False):
        row = conn.execute("SELECT %s FROM accounts WHERE name = ?" % ", ".join(FIELDS), (name,)).fetchone()
        return self._row(row, secret) if row else None

    def _fetch(self, name, secret=False):
        if not os.path.exists(self.db_path):
            return None
        conn = self._connect()
        try:
            return self._get(conn, name, secret)
        finally:
            conn.close()

    def get(self, name):
        """The account (without its hash), or None; a database not made yet is not made by reading."""
        return self._fetch(name)

    def list(self):
        if not os.path.exists(self.db_path):
            return []
        conn = self._connect()
        try:
            rows = conn.execute("SELECT %s FROM accounts ORDER BY name" % ", ".join(FIELDS)).fetchall()
            return [self._row(r) for r in rows]
        finally:
            conn.close()

    def plan(self, name, role=None, password=None, update_password="on_create", disabled=None):
        """What ``ensure`` would change: (before or None, after), both without hashes, after None when nothing
        changes. ``role`` and ``disabled`` None keep an existing account's (a new one is a tenant, enabled). A
        password is derived only when it must be compared or stored."""
        rules.check_account_name(name)
        if role is not None:
            rules.check_role(role)
        if password is not None:
            rules.check_password(password, name)
        before = self._fetch(name, secret=True)
        if before is None:
            if password is None:
                raise InvalidInput("account %s does not exist: a password is required to create it" % name)
            return None, {"name": name, "role": role or rules.TENANT, "disabled": bool(disabled), "password": "(set)"}
        role = before["role"] if role is None else role
        disabled = before["disabled"] if disabled is None else disabled
        after = {"name": name, "role": role, "disabled": bool(disabled)}
        changed = before["role"] != role or before["disabled"] != bool(disabled)
        replace = password is not None and update_password == "always"
        if replace and not rules.verify_password(password, before["password"]):
            after["password"] = "(changed)"
            changed = True
        shown = {k: before[k] for k in ("name", "role", "disabled")}
        return shown, (after if changed else None)

    def ensure(self, name, now, role=None, password=None, update_password="on_create", disabled=None):
        """Make the account so; returns (before, after) as ``plan`` (after None: nothing changed)."""
        before, after = self.plan(name, role, password, update_password, disabled)
        if after is None:
            return before, None
        with self._transaction() as conn:
            if before is None:
                conn.execute("INSERT INTO accounts (name, role, password, disabled, created, updated) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (name, after["role"], rules.hash_password(password), int(after["disabled"]), now, now))
            else:
                conn.execute("UPDATE accounts SET role = ?, disabled = ?, updated = ? WHERE name = ?",
                             (after["role"], int(after["disabled"]), now, name))
                conn.execute("DELETE FROM sessions WHERE account = ?", (name,))   # they were granted as before
                if "password" in after:
                    conn.execute("UPDATE accounts SET password = ?, failures = 0, locked_until = 0 WHERE name = ?",
                                 (rules.hash_password(password), name))
        return before, after

    def remove(self, name, check=False):
        """Remove the account; returns it as it was (None: there was none, nothing changed)."""
        rules.check_account_name(name)
        before = self.get(name)
        if before is not None and not check:
            with self._transaction() as conn:
                conn.execute("DELETE FROM accounts WHERE name = ?", (name,))
                conn.execute("DELETE FROM sessions WHERE account = ?", (name,))
        return before

    def login(self, name, password, now):
        """The account when ``password`` is its password and it may log in now; else LoginRefused with one
        message for a wrong name or password, and the wait when failures slowed the account down. An unknown
        name costs a derivation too, so the time taken does not tell whether it exists."""
        refused = "wrong account name or password"
        account = self._fetch(name, secret=True)
        if account is None:
            self._dummy = self._dummy or rules.hash_password("not-an-account-password")
            rules.verify_password(password or "", self._dummy)
            raise LoginRefused(refused)
        allowed, wait = rules.login_allowed(account, now)
        if not allowed:
            raise LoginRefused(refused if wait is None else "too many failed logins: try again in %d s" % (wait + 1))
        ok = rules.verify_password(password or "", account["password"])
        fields = rules.after_login(account, ok, now)
        if ok and rules.needs_rehash(account["password"]):
            fields["password"] = rules.hash_password(password)
        with self._transaction() as conn:
            conn.execute("UPDATE accounts SET %s WHERE name = ?" % ", ".join("%s = ?" % k for k in sorted(fields)),
                         [fields[k] for k in sorted(fields)] + [name])
        if not ok:
            raise LoginRefused(refused)
        return self._row(tuple(dict(account, **fields)[k] for k in FIELDS))

    # -- sessions ------------------------------------------------------------------------------------

    def start_session(self, name, token, now):
        """Record a session of account ``name`` (after its login) under ``token``'s hash."""
        with self._transaction() as conn:
            conn.execute("INSERT INTO sessions (id, account, created, last_seen) VALUES (?, ?, ?, ?)",
                         (session_rules.token_id(token), name, now, now))

    def session(self, token, now, idle=session_rules.IDLE, absolute=session_rules.ABSOLUTE):
        """(account, None) for a live session (its last use set to ``now``), else (None, why); an ended one is
        removed. The account is read afresh: a disabled account's session ends at once."""
        if not token or not os.path.exists(self.db_path):
            return None, "no such session"
        sid = session_rules.token_id(token)
        with self._transaction() as conn:
            row = conn.execute("SELECT account, created, last_seen FROM sessions WHERE id = ?", (sid,)).fetchone()
            found = dict(zip(("account", "created", "last_seen"), row)) if row else None
            ok, why = session_rules.alive(found, now, idle, absolute)
            account = self._get(conn, found["account"]) if ok else None
            if ok and (account is None or account["disabled"]):
                ok, why = False, "the account can no longer log in"
            if not ok:
                conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))
                return None, why
            conn.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, sid))
        return account, None

    def end_session(self, token):
        """Logout: the session is gone (True when there was one)."""
        if not token or not os.path.exists(self.db_path):
            return False
        with self._transaction() as conn:
            return conn.execute("DELETE FROM sessions WHERE id = ?", (session_rules.token_id(token),)).rowcount > 0
