# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which steps take a VM from its state to the one asked for (the seed's start, shutdown, destroy, pause,
reboot). Pure: the ``vm`` executor carries the steps out, ``vm_scale`` uses the same plan to power-cycle.

Steps: ``start``, ``start_paused``, ``resume``, ``wake`` (out of suspend-to-RAM), ``pause``, ``reboot``
(ACPI), ``shutdown`` (ACPI, then wait until it is off), ``destroy`` (power off at once).
"""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import rules
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

WANTED = ("present", "running", "stopped", "paused", "restarted")

DESCRIPTIONS = {
    "start": "start %s",
    "start_paused": "start %s paused",
    "resume": "resume %s",
    "wake": "wake %s",
    "pause": "pause %s",
    "reboot": "reboot %s (ACPI)",
    "shutdown": "shut down %s (ACPI) and wait until it is off",
    "destroy": "power off %s (destroy)",
}


def _executing(state):
    """Steps that make an active domain execute again (a paused or suspended guest cannot react to ACPI)."""
    return {"paused": ["resume"], "pmsuspended": ["wake"]}.get(state, [])


def plan(state, wanted, force=False):
    """(steps, resulting state) from ``state`` to ``wanted``; ``force`` powers off instead of asking."""
    active = rules.is_active(state)
    if wanted == "present":
        return [], state
    if wanted == "running":
        return (_executing(state) if active else ["start"]), "running"
    if wanted == "paused":
        if state == "paused":
            return [], "paused"
        return (_executing(state) + ["pause"] if active else ["start_paused"]), "paused"
    if wanted == "restarted":
        return (_executing(state) + ["reboot"] if active else ["start"]), "running"
    if wanted == "stopped":
        if not active:
            return [], state
        if force:
            return ["destroy"], "shutoff"
        return _executing(state) + ["shutdown"], "shutoff"
    raise InvalidInput("state must be one of %s, not %r" % (", ".join(WANTED + ("absent",)), wanted))


def describe(step, name):
    return DESCRIPTIONS[step] % name
