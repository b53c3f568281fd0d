# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``balancer_cycle`` module: one cycle of the balancer on the master: gmetad's live view, the survey's VMs
and allocations, the stored state in; the cycle's proposals recorded (pending, or forced) and the proposals
to carry out now (approved and forced, claimed by this run) out. Check mode computes and stores nothing."""

from __future__ import annotations

import time

from ansible_collections.cloud1.iaas.plugins.module_utils.core import balancer, metrics
from ansible_collections.cloud1.iaas.plugins.module_utils.state.proposals import Store
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import ganglia

ARGUMENT_SPEC = dict(
    db=dict(type="path", default="/var/lib/cloud1/balancer.db"),
    allocations=dict(type="dict", required=True),
    vms=dict(type="list", elements="dict", required=True),
    settings=dict(type="dict", default={}),
    expire_after=dict(type="int", default=3600),
    stale_after=dict(type="int", default=7200),
    host=dict(type="str", default="localhost"),
    port=dict(type="int", default=ganglia.XML_PORT),
    cluster=dict(type="str", default="cloud1"),
    timeout=dict(type="float", default=5.0),
)
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def ensure(params, check_mode=False, now=None):
    settings = balancer.Settings.from_dict(params["settings"])   # bad settings refused before anything is read
    now = time.time() if now is None else now
    live = metrics.live_view(ganglia.read(params["host"], params["port"], params["timeout"]), params["cluster"])
    view = balancer.merge_view(live, params["vms"])
    allocations = {n: f for n, f in params["allocations"].items() if f and not f.get("failed") and "cpus" in f}
    store = Store(params["db"])
    with store.cycle_lock():   # one cycle at a time: the master's timer and an admin's rebalance.yml
        state, pending = store.load()
        result = balancer.cycle(view, allocations, now, state, settings, pending=pending)
        if check_mode:
            return {"changed": bool(result["proposals"]), "proposals": result["proposals"], "to_carry_out": [],
                    "pending": pending, "judged": sorted(view["vms"])}
        # the VMs the survey found, on the nodes that answered it: proposals for VMs deleted since are withdrawn
        seen = {"nodes": sorted(allocations), "vms": sorted({vm["name"] for vm in params["vms"]})}
        stored = store.record_cycle(result["state"], result["proposals"], now, params["expire_after"],
                                    params["stale_after"], seen=seen)
        to_carry_out = store.claim(now)   # this run carries them out; no other run will
    return {"changed": bool(stored or to_carry_out), "proposals": stored, "pending": pending,
            "judged": sorted(view["vms"]), "to_carry_out": to_carry_out}
