# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules every request shares, each written once: whole numbers, choices, the CPU topology, and which
domain states mean what. Pure Python: the request rules (vmspec), the scaling plan, the migration verdict,
the executors and the filters all call these, so a value is accepted or refused the same way wherever it
enters.
"""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

# --------------------------------------------------------------------------------------- domain states

# virDomainState, by number, as libvirt documents it (kept here so the core needs no libvirt)
STATES = {
    0: "nostate",
    1: "running",
    2: "blocked",
    3: "paused",
    4: "shutdown",
    5: "shutoff",
    6: "crashed",
    7: "pmsuspended",
}
# a QEMU process exists for the domain (libvirt's isActive): it has a running view, holds its memory, and
# must be powered off before it is deleted
ACTIVE_STATES = ("running", "blocked", "paused", "pmsuspended")
# the guest executes instructions: commands can run inside it (agent, SSH), its disk can grow online
EXECUTING_STATES = ("running", "blocked")
# powered off: only the definition and the disk exist
INACTIVE_STATES = ("shutoff", "crashed", "nostate", "shutdown")


def is_active(state):
    return state in ACTIVE_STATES


def is_executing(state):
    return state in EXECUTING_STATES


# --------------------------------------------------------------------------------------- values

MAX_VCPUS = 256
TOPOLOGY_KEYS = ("sockets", "cores", "threads")


def shown(value, limit=80):
    """A value for an error message: repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...' (%d characters)" % len(str(value))


def whole(value, key, low=None, high=None, unit=""):
    """``value`` as an int, or None when it is None. A boolean is refused (``True`` is not a count), so is a
    fraction or text that is not a whole number; ``low``/``high`` bound it."""
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput("%s must be a whole number, not %s" % (key, shown(value)))
    if (low is not None and number < low) or (high is not None and number > high):
        raise InvalidInput("%s must be between %s and %s%s (got %d)" % (
            key, low if low is not None else "-inf", high if high is not None else "inf", unit, number))
    return number


def choice(value, key, choices, default=None):
    """``value`` (or ``default`` when empty) when it is one of ``choices``."""
    value = default if value in (None, "") else value
    if value is not None and value not in choices:
        raise InvalidInput("%s must be one of %s (got %s)" % (key, ", ".join(choices), shown(value)))
    return value


def topology(value, max_vcpus=None):
    """A CPU topology {sockets, cores, threads} (each a whole number >= 1; a missing key is 1) whose product is
    the vCPU maximum when ``max_vcpus`` is given. None when no topology is asked for."""
    if not value:
        return None
    if not isinstance(value, dict):
        raise InvalidInput("topology must be a mapping of sockets, cores and threads, not %s" % shown(value))
    unknown = sorted(set(value) - set(TOPOLOGY_KEYS) - {"dies"})
    if unknown:
        raise InvalidInput("topology has unknown keys %s: use sockets, cores and threads" % ", ".join(unknown))
    out = {key: whole(1 if value.get(key) is None else value.get(key), key, 1, MAX_VCPUS) for key in TOPOLOGY_KEYS}
    if max_vcpus is not None and topology_product(out) != int(max_vcpus):
        raise InvalidInput("topology %s = %d vCPUs, but the vCPU maximum is %d: the topology describes the maximum, "
                           "make them equal" % (topology_text(out), topology_product(out), int(max_vcpus)))
    return out


def topology_product(topo):
    return int(topo.get("sockets", 1)) * int(topo.get("dies", 1) or 1) * int(topo.get("cores", 1)) * \
        int(topo.get("threads", 1))


def topology_text(topo):
    return "%s sockets x %s cores x %s threads" % (topo.get("sockets", 1), topo.get("cores", 1), topo.get("threads", 1))
