# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console's accounts: the rules (core.accounts) and their keeping in SQLite (state.accounts)."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import accounts as rules
from ansible_collections.cloud1.iaas.plugins.module_utils.core import sessions
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput
from ansible_collections.cloud1.iaas.plugins.module_utils.state.accounts import Accounts, LoginRefused

PW = "correct horse battery"
CHEAP = {"n": 2 ** 10}


def test_a_password_is_kept_as_a_salted_scrypt_hash_and_verified_in_full():
    stored = rules.hash_password(PW)
    assert stored.startswith("scrypt$32768$8$1$") and PW not in stored
    assert rules.verify_password(PW, stored)
    assert not rules.verify_password(PW + " ", stored) and not rules.verify_password(PW[:-1], stored)
    assert rules.hash_password(PW) != stored                          # a fresh salt each time
    assert rules.hash_password(PW, salt=b"s" * 16) == rules.hash_password(PW, salt=b"s" * 16)
    assert not rules.needs_rehash(stored)


@pytest.mark.parametrize("stored", [None, "", "plain", "md5$x$y", "scrypt$1$2$3", "scrypt$x$8$1$AAAA$AAAA",
                                    "scrypt$1024$8$1$!!$??"])
def test_a_stored_value_that_is_not_ours_never_verifies(stored):
    assert rules.verify_password(PW, stored) is False


def test_a_hash_made_with_another_cost_is_renewed():
    assert rules.needs_rehash(rules.hash_password(PW, cost=CHEAP)) and rules.needs_rehash("md5$x")


@pytest.mark.parametrize("password,message", [
    ("", "a password is required"), (None, "a password is required"), ("tiny1", "too short: at least 12"),
    ("x" * 1025, "too long"), ("alicealice12", None),
])
def test_password_rules_say_what_is_wrong_never_the_password(password, message):
    if message is None:
        assert rules.check_password(password, "alice") == password
        return
    with pytest.raises(InvalidInput, match=message) as err:
        rules.check_password(password, "alice")
    assert (password or "@@") not in err.value.message


def test_the_name_is_not_a_password_and_names_follow_the_owner_rules():
    with pytest.raises(InvalidInput, match="may not be the account's name"):
        rules.check_password("Administrator", "administrator")
    for bad in ("", None, "al ice", "alice\n", "1alice", "a" * 33):
        with pytest.raises(InvalidInput):
            rules.check_account_name(bad)
    with pytest.raises(InvalidInput, match="role 'root' is not one of admin, tenant"):
        rules.check_role("root")


def test_failed_logins_are_slowed_down_doubling_up_to_a_cap_and_a_success_resets():
    assert [rules.backoff(n) for n in range(0, 7)] == [0.0, 0.0, 0.0, 2.0, 4.0, 8.0, 16.0]
    assert rules.backoff(100) == rules.BACKOFF_MAX
    account = {"failures": 0, "locked_until": 0.0}
    for _attempt in range(4):
        account.update(rules.after_login(account, False, 1000.0))
    assert account["failures"] == 4 and account["locked_until"] == 1004.0
    assert rules.login_allowed(account, 1003.0) == (False, 1.0) and rules.login_allowed(account, 1004.0)[0]
    assert rules.after_login(account, True, 1010.0) == {"failures": 0, "locked_until": 0.0, "last_login": 1010.0}
    assert rules.login_allowed({"disabled": True}, 0.0) == (False, None)


def test_an_admin_sees_every_vm_a_tenant_only_its_own():
    admin, alice = {"name": "root_admin", "role": "admin"}, {"name": "alice", "role": "tenant"}
    vms = [{"name": "a1", "owner": "alice"}, {"name": "b1", "owner": "bob"}, {"name": "x", "owner": None}]
    assert [v["name"] for v in vms if rules.visible(admin, v)] == ["a1", "b1", "x"]
    assert [v["name"] for v in vms if rules.visible(alice, v)] == ["a1"]
    assert rules.owner_filter(admin) is None and rules.owner_filter(alice) == "alice"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(rules, "SCRYPT", dict(rules.SCRYPT, **CHEAP))   # the stored cost: cheap for tests
    return Accounts(str(tmp_path / "state" / "console.db"))


def test_an_account_is_made_once_with_its_hash_in_a_private_file(store):
    before, after = store.ensure("alice", 10.0, password=PW)
    assert before is None and after == {"name": "alice", "role": "tenant", "disabled": False, "password": "(set)"}
    assert stat.S_IMODE(os.stat(store.db_path).st_mode) == 0o600
    assert store.ensure("alice", 11.0, password=PW) == ({"name": "alice", "role": "tenant", "disabled": False}, None)
    # on_create: another password does not replace it
    assert store.ensure("alice", 12.0, password="another password 1")[1] is None
    assert store.login("alice", PW, 13.0)["last_login"] == 13.0
    got = store.get("alice")
    assert "password" not in got and got["created"] == 10.0 and got["updated"] == 10.0
    with open(store.db_path, "rb") as handle:
        assert PW.encode() not in handle.read()


def test_role_disabled_and_password_change_only_when_asked_and_different(store):
    store.ensure("bob", 1.0, role="admin", password=PW)
    assert store.ensure("bob", 2.0)[1] is None                      # role and disabled kept when not given
    assert store.ensure("bob", 3.0, password=PW, update_password="always")[1] is None     # the same password
    before, after = store.ensure("bob", 4.0, role="tenant", disabled=True)
    assert before["role"] == "admin" and after == {"name": "bob", "role": "tenant", "disabled": True}
    with pytest.raises(LoginRefused, match="wrong account name or password"):
        store.login("bob", PW, 5.0)                                 # disabled: the same message as a wrong password
    _b, after = store.ensure("bob", 6.0, password="new password 12", update_password="always", disabled=False)
    assert after["password"] == "(changed)" and store.login("bob", "new password 12", 7.0)["name"] == "bob"


def test_check_mode_plans_and_writes_nothing(store):
    assert store.plan("carol", password=PW)[0] is None and not os.path.exists(store.db_path)
    with pytest.raises(InvalidInput, match="account dave does not exist: a password is required"):
        store.plan("dave")
    assert store.remove("carol", check=True) is None


def test_a_login_that_keeps_failing_waits_and_says_how_long_and_an_unknown_name_reads_the_same(store):
    store.ensure("erin", 0.0, password=PW)
    for t in (1.0, 2.0, 3.0, 10.0):   # the third failure makes the next wait 2 s, the fourth 4 s
        with pytest.raises(LoginRefused, match="^wrong account name or password$"):
            store.login("erin", "wrong password!!", t)
    with pytest.raises(LoginRefused, match="too many failed logins: try again in 3 s"):
        store.login("erin", PW, 11.5)                               # judged not even with the right password
    assert store.get("erin")["failures"] == 4
    assert store.login("erin", PW, 14.0)["failures"] == 0
    with pytest.raises(LoginRefused, match="^wrong account name or password$"):
        store.login("nobody", PW, 7.0)


def test_an_old_hash_is_renewed_at_the_next_login(store, monkeypatch):
    store.ensure("frank", 0.0, password=PW)
    monkeypatch.setattr(rules, "SCRYPT", dict(rules.SCRYPT, n=2 ** 11))
    store.login("frank", PW, 1.0)
    import sqlite3
    stored = sqlite3.connect(store.db_path).execute("SELECT password FROM accounts").fetchone()[0]
    assert stored.startswith("scrypt$2048$") and rules.verify_password(PW, stored)


def test_remove_and_list(store):
    store.ensure("gina", 0.0, password=PW)
    store.ensure("hal", 0.0, role="admin", password=PW)
    assert [(a["name"], a["role"]) for a in store.list()] == [("gina", "tenant"), ("hal", "admin")]
    assert store.remove("gina")["name"] == "gina" and store.remove("gina") is None
    assert [a["name"] for a in store.list()] == ["hal"]


# ---------------------------------------------------------------------------------------- sessions

def test_a_session_token_is_random_kept_only_as_its_hash_and_its_csrf_token_is_bound_to_it():
    token = sessions.new_token(b"\x01" * 32)
    other = sessions.new_token(b"\x02" * 32)
    assert len(token) == 43 and token != other and sessions.token_id(token) != token
    assert sessions.csrf_ok(token, sessions.csrf_token(token))
    for bad in (None, "", sessions.csrf_token(other), sessions.csrf_token(token)[:-1], 12):
        assert not sessions.csrf_ok(token, bad)
    assert not sessions.csrf_ok(None, sessions.csrf_token(""))
    with pytest.raises(ValueError):
        sessions.new_token(b"short")
    assert sessions.cookie(token).endswith("; Secure; HttpOnly; SameSite=Strict")


def test_a_session_ends_when_idle_or_old_whichever_comes_first():
    assert sessions.alive({"created": 0, "last_seen": 0}, sessions.IDLE - 1) == (True, None)
    assert not sessions.alive({"created": 0, "last_seen": 0}, sessions.IDLE)[0]
    old = {"created": 0, "last_seen": sessions.ABSOLUTE - 10}
    assert sessions.alive(old, sessions.ABSOLUTE)[1] == "the session is older than 12 h: log in again"
    assert sessions.alive(None, 0) == (False, "no such session")


def test_sessions_in_the_store_follow_the_account(store):
    store.ensure("ivy", 0.0, password=PW)
    store.ensure("jon", 0.0, password=PW)
    ivy, jon = sessions.new_token(b"i" * 32), sessions.new_token(b"j" * 32)
    store.start_session("ivy", ivy, 100.0)
    store.start_session("jon", jon, 100.0)
    with open(store.db_path, "rb") as handle:
        assert ivy.encode() not in handle.read()                         # only its hash is kept
    assert store.session(ivy, 200.0)[0]["name"] == "ivy"
    assert store.session(ivy, 200.0 + sessions.IDLE)[0] is None          # idle since 200
    assert store.session(ivy, 300.0) == (None, "no such session")         # and removed
    assert store.session("forged", 300.0) == (None, "no such session")
    store.ensure("jon", 400.0, disabled=True)                             # a change ends its sessions
    assert store.session(jon, 401.0) == (None, "no such session")
    store.start_session("ivy", ivy, 500.0)
    assert store.end_session(ivy) and not store.end_session(ivy) and store.session(ivy, 501.0)[0] is None
