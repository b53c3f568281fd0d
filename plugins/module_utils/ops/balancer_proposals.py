# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``balancer_proposals`` module: the balancer's proposals on the master: list them, approve (with the
owner's limit for a growth) or decline one, record what carrying one out gave. With ``owner`` (a tenant) only
that owner's proposals exist; without, the caller is an admin."""

from __future__ import annotations

import time

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput
from ansible_collections.cloud1.iaas.plugins.module_utils.state.proposals import OPEN, STATUSES, Store

ARGUMENT_SPEC = dict(
    db=dict(type="path", default="/var/lib/cloud1/balancer.db"),
    operation=dict(type="str", default="list", choices=["list", "approve", "decline", "outcome"]),
    id=dict(type="int"),
    owner=dict(type="str"),
    by=dict(type="str"),
    limit=dict(type="int"),
    status=dict(type="str", choices=list(STATUSES)),
    count=dict(type="int", default=50),
    ok=dict(type="bool"),
    outcome=dict(type="str"),
)
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                   required_if=[("operation", "approve", ("id",)), ("operation", "decline", ("id",)),
                                ("operation", "outcome", ("id", "ok", "outcome"))])


def ensure(params, check_mode=False):
    store = Store(params["db"])
    op, owner = params["operation"], params.get("owner") or None
    if op == "list":
        found = store.list(owner=owner, status=params.get("status"), limit=params["count"])
        return {"changed": False, "proposals": found}
    if op != "outcome" and params.get("limit") is not None and op != "approve":
        raise InvalidInput("limit goes with operation=approve")
    current = store.get(params["id"], owner)   # another owner's proposal does not exist for this caller
    if check_mode:
        return {"changed": current["status"] in OPEN, "proposal": current, "carry_out": False}
    now = time.time()
    if op == "outcome":
        return {"changed": True, "proposal": store.outcome(params["id"], params["ok"], params["outcome"], now)}
    by = params.get("by") or owner or "admin"
    answered = store.answer(params["id"], op == "approve", by, now, owner=owner, limit=params.get("limit"))
    claimed = store.claim(now, answered["id"]) if op == "approve" else []
    # an approval is carried out by this run unless the balancer's cycle claimed it a moment before
    return {"changed": True, "proposal": claimed[0] if claimed else store.get(answered["id"]),
            "carry_out": bool(claimed)}
