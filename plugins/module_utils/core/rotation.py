# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which snapshots a rotation policy drops: keep the newest N, drop those older than an age. Pure Python
(no libvirt, no Ansible): the vm_snapshot module and the master's rotation timer share it.

Only snapshots whose name starts with the rotation's prefix take part, so a snapshot a user took by hand
is never rotated away.
"""

from __future__ import annotations

import re
import time

from ansible_collections.cloud1.iaas.plugins.module_utils.core import rules
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

DEFAULT_PREFIX = "auto-"   # only snapshots whose name starts with it are rotated
_AGE = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def parse_age(text):
    """'90m', '2h', '7d', '1w' or a number of seconds -> seconds (None stays None)."""
    if text in (None, ""):
        return None
    match = _AGE.match(str(text))
    if not match or int(match.group(1)) <= 0:
        raise InvalidInput("max_age %r is not an age: use a positive number with s, m, h, d or w (e.g. 2h, 7d)"
                           % (text,))
    return int(match.group(1)) * _UNITS[match.group(2)]


def check_snapshot_name(name):
    if not name or not isinstance(name, str) or not _SNAPSHOT_NAME.fullmatch(name):
        raise InvalidInput("snapshot name %r is not valid: 1-64 letters, digits, '-', '_', '.', ':', starting with a "
                           "letter or digit" % (name,))
    return name


def auto_name(prefix, now=None):
    """The name of a snapshot the rotation takes: prefix + UTC time."""
    return "%s%s" % (prefix, time.strftime("%Y%m%d-%H%M%S", time.gmtime(now if now is not None else time.time())))


def select(snapshots, keep=None, max_age=None, prefix="auto-", now=None):
    """Split ``snapshots`` ([{name, created (epoch seconds)}]) into (drop, keep) lists of names, with a reason
    per dropped one: {name: reason}. ``keep``: how many of the newest rotated ones stay; ``max_age``: seconds.
    With neither, nothing is dropped."""
    keep = rules.whole(keep, "keep", 0)
    now = time.time() if now is None else now
    rotated = sorted((s for s in snapshots if s["name"].startswith(prefix or "")),
                     key=lambda s: (s["created"], s["name"]), reverse=True)
    drop = {}
    for index, snap in enumerate(rotated):
        age = now - snap["created"]
        if keep is not None and index >= keep:
            drop[snap["name"]] = "beyond the newest %d" % keep
        elif max_age is not None and age > max_age:
            drop[snap["name"]] = "%d s old, older than %d s" % (age, max_age)
    kept = [s["name"] for s in snapshots if s["name"] not in drop]
    return drop, kept
