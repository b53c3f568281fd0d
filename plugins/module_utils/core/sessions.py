# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console's sessions and CSRF tokens, as rules. A session is a random token the browser holds in a
``Secure; HttpOnly; SameSite=Strict`` cookie; the server keeps only its SHA-256 (a stolen database holds no
usable session) with the account, when it began and when it was last used. It ends after ``IDLE`` seconds
unused or ``ABSOLUTE`` seconds after the login, whichever comes first, and at logout. Every request that
changes something carries a CSRF token derived from the session token (HMAC), compared in constant time.
Pure: the time and the random bytes are arguments; ``state.sessions`` keeps them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

IDLE = 30 * 60            # seconds a session may stay unused
ABSOLUTE = 12 * 3600      # seconds a session lasts at most
TOKEN_BYTES = 32
COOKIE = "cloud1_session"


def new_token(random_bytes):
    """A session token from ``random_bytes`` (``os.urandom(TOKEN_BYTES)`` in the console; fixed in tests)."""
    if len(random_bytes) < TOKEN_BYTES:
        raise ValueError("a session token needs %d random bytes" % TOKEN_BYTES)
    return base64.urlsafe_b64encode(random_bytes[:TOKEN_BYTES]).decode("ascii").rstrip("=")


def token_id(token):
    """What the server keeps of a token: its SHA-256, hex."""
    return hashlib.sha256((token or "").encode("ascii", "replace")).hexdigest()


def csrf_token(token):
    """The CSRF token of a session: bound to it, so a page of another session (or none) cannot forge one."""
    return hmac.new((token or "").encode("ascii", "replace"), b"cloud1-console-csrf", hashlib.sha256).hexdigest()


def csrf_ok(token, presented):
    """Whether ``presented`` is the CSRF token of session ``token`` (constant-time; missing is never ok)."""
    if not token or not presented or not isinstance(presented, str):
        return False
    return hmac.compare_digest(csrf_token(token), presented)


def alive(session, now, idle=IDLE, absolute=ABSOLUTE):
    """(True, None) when ``session`` ({created, last_seen}) may still be used at ``now``, else (False, why)."""
    if session is None:
        return False, "no such session"
    if now - float(session["created"]) >= absolute:
        return False, "the session is older than %d h: log in again" % (absolute // 3600)
    if now - float(session["last_seen"]) >= idle:
        return False, "the session was unused for %d min: log in again" % (idle // 60)
    return True, None


def cookie(token, max_age=ABSOLUTE, path="/"):
    """The Set-Cookie value of a session: never readable by scripts, never sent over plain HTTP or from
    another site."""
    return "%s=%s; Max-Age=%d; Path=%s; Secure; HttpOnly; SameSite=Strict" % (COOKIE, token, max_age, path)
