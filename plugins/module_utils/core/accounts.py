# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console's accounts, as rules: who an account is (an admin, or a tenant whose name is the ``owner`` in
its VMs' libvirt metadata), what a password must be, how it is kept (scrypt, a memory-hard key-derivation
function from the standard library, with a random salt per password), how a login that keeps failing is
slowed down, and what an account may see and do. Pure: no Ansible, no libvirt, no process, no clock (the
time is an argument); the store that keeps accounts is ``state.accounts``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from ansible_collections.cloud1.iaas.plugins.module_utils.core.vmspec import check_owner
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

ADMIN, TENANT = "admin", "tenant"
ROLES = (ADMIN, TENANT)
PASSWORD_MIN = 12
PASSWORD_MAX = 1024

# scrypt's cost: n=2**15, r=8 is 32 MiB and about 0.1 s per derivation here, which is the point (a stolen
# database is slow to attack); OpenSSL refuses more than 32 MiB unless maxmem is raised, as it is below
SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1}
_SCHEME = "scrypt"


def check_account_name(name):
    """An account's name follows the owner rules (a tenant's name is the owner its VMs carry)."""
    if name in (None, ""):
        raise InvalidInput("an account name is required")
    return check_owner(name)


def check_role(role):
    if role not in ROLES:
        raise InvalidInput("role %r is not one of %s" % (role, ", ".join(ROLES)))
    return role


def check_password(password, name):
    """Refuse a password that is too short, too long, or the account's name; say which (never the password)."""
    if not isinstance(password, str) or not password:
        raise InvalidInput("a password is required for account %s" % name)
    if len(password) < PASSWORD_MIN:
        raise InvalidInput("the password of %s is too short: at least %d characters" % (name, PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise InvalidInput("the password of %s is too long: at most %d characters" % (name, PASSWORD_MAX))
    if password.lower() == (name or "").lower():
        raise InvalidInput("the password of %s may not be the account's name" % name)
    return password


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def _derive(password, salt, n, r, p):
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def hash_password(password, salt=None, cost=None):
    """The stored form ``scrypt$n$r$p$salt$key`` (base64 salt and key); ``salt`` and ``cost`` for tests."""
    cost = dict(SCRYPT, **(cost or {}))
    salt = os.urandom(16) if salt is None else salt
    key = _derive(password, salt, cost["n"], cost["r"], cost["p"])
    return "%s$%d$%d$%d$%s$%s" % (_SCHEME, cost["n"], cost["r"], cost["p"], _b64(salt), _b64(key))


def verify_password(password, stored):
    """True when ``password`` derives to ``stored``; False for a wrong password or a stored value that is not
    one of ours (compared in constant time)."""
    try:
        scheme, n, r, p, salt, key = (stored or "").split("$")
        if scheme != _SCHEME:
            return False
        got = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(got, base64.b64decode(key))
    except (ValueError, TypeError):
        return False


def needs_rehash(stored):
    """True when ``stored`` was made with another cost than today's (the next login re-derives it)."""
    try:
        scheme, n, r, p, _salt, _key = stored.split("$")
    except (AttributeError, ValueError):
        return True
    return scheme != _SCHEME or (int(n), int(r), int(p)) != (SCRYPT["n"], SCRYPT["r"], SCRYPT["p"])


# ---------------------------------------------------------------------------------------- logins

BACKOFF_FREE = 3          # failures before logins of the account are slowed down
BACKOFF_BASE = 2.0        # seconds after the first failure past the free ones, doubling
BACKOFF_MAX = 900.0       # at most 15 minutes


def backoff(failures):
    """Seconds an account waits before its next login attempt is judged, after ``failures`` in a row."""
    over = int(failures or 0) - BACKOFF_FREE
    if over < 0:
        return 0.0
    return min(BACKOFF_MAX, BACKOFF_BASE * (2 ** min(over, 20)))


def login_allowed(account, now):
    """(True, 0) when a login of ``account`` ({failures, locked_until, disabled}) may be judged now, else
    (False, seconds to wait); a disabled account never logs in."""
    if account.get("disabled"):
        return False, None
    wait = float(account.get("locked_until") or 0) - now
    return (True, 0.0) if wait <= 0 else (False, wait)


def after_login(account, ok, now):
    """The account's login fields after an attempt: reset by a success; a failure counts and sets the wait."""
    if ok:
        return {"failures": 0, "locked_until": 0.0, "last_login": now}
    failures = int(account.get("failures") or 0) + 1
    return {"failures": failures, "locked_until": now + backoff(failures)}


# ---------------------------------------------------------------------------------------- access

def owner_filter(account):
    """The owner every operation of ``account`` ({name, role}) is made for: None for an admin (every VM), the
    tenant's own name otherwise (the playbooks then refuse another owner's VM: core.tenancy)."""
    if account.get("role") == ADMIN:
        return None
    return check_owner(account["name"])


def visible(account, vm):
    """Whether ``account`` may see ``vm`` (a dict with ``owner``): an admin every VM, a tenant its own."""
    asking = owner_filter(account)
    return asking is None or (vm.get("owner") or None) == asking
