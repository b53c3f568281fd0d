# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ip_lease`` module: a VM's address lease present (allocated, or the name reserved for a creation run),
bound (the creation finished) or absent (released)."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import cluster, placement
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.actions import ActionLog
from ansible_collections.cloud1.iaas.plugins.module_utils.state.leases import (
    DEFAULT_RESERVATION_TTL,
    POOL_ARGS,
    pool_from,
)

ARGUMENT_SPEC = dict(POOL_ARGS, vm=dict(type="str", required=True), owner=dict(type="str"),
                     address=dict(type="str"), node=dict(type="str"), holder=dict(type="str"),
                     takeover=dict(type="str"), ttl=dict(type="int", default=DEFAULT_RESERVATION_TTL),
                     vcpus=dict(type="int"), memory_mib=dict(type="int"),
                     older_than=dict(type="float"), place=dict(type="dict"),
                     state=dict(type="str", choices=["present", "bound", "absent"], default="present"))
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def _node_chooser(place, holder, decision):
    """choose_node for Pool.allocate: placement (core.placement) of ``place``'s request on its surveyed nodes,
    with every other run's reservation still creating counted on its node; the decision lands in ``decision``."""
    for key in ("nodes", "request"):
        if not isinstance(place.get(key), dict):
            raise InvalidInput("place needs %s (a dict); nothing was changed" % key)

    def choose(leases, now):
        pending = cluster.pending_allocations(leases, place.get("existing") or [], now, me=holder)
        decision.update(placement.decide(place["nodes"], pending=pending, live=place.get("live"),
                                         policy=place.get("policy"), **place["request"]))
        if not decision.get("node"):
            raise InvalidInput("no node can take the VM now (with the creations under way counted): %s; nothing "
                               "was changed" % decision.get("reasons"))
        return decision["node"]
    return choose


def ensure(params, check_mode=False):
    pool = pool_from(params)
    vm = params["vm"]
    log = ActionLog(check_mode)
    before = pool.lease(vm)
    taken_over = None
    decision = {}
    if params["state"] == "present":
        chooser = _node_chooser(params["place"], params["holder"], decision) if params.get("place") else None
        ip, changed = pool.allocate(vm, owner=params["owner"], requested=params["address"], dry_run=check_mode,
                                    node=params["node"], holder=params["holder"], takeover=params["takeover"],
                                    ttl=params["ttl"], sizes={"vcpus": params.get("vcpus"),
                                                              "memory_mib": params.get("memory_mib")},
                                    choose_node=chooser)
        if changed and before is not None:
            taken_over = before["holder"]
            log.change("reserve %s (%s) for this run, inherited from %s (%s)" % (
                vm, ip, taken_over, "found dead" if params["takeover"] == taken_over else "expired"))
        elif changed:
            held = " (reserved for this run while it creates the VM)" if params["holder"] else ""
            log.change("lease %s to %s in %s%s" % (ip, vm, pool.subnet, held))
    elif params["state"] == "bound":
        ip, changed = pool.bind(vm, holder=params["holder"], dry_run=check_mode)
        if changed:
            log.change("%s's reservation ends: %s is the VM's lease" % (vm, ip))
    else:
        ip = pool.release(vm, dry_run=check_mode, older_than=params["older_than"])
        if ip is not None:
            log.change("release %s of %s in %s" % (ip, vm, pool.subnet))
    after = pool.lease(vm) if not check_mode else None
    node = decision.get("node") or (after or before or {}).get("node") or params.get("node")
    return log.result(_view(before), _view(after) if not check_mode else _predicted(params, ip),
                      ip=ip, subnet=pool.subnet, prefix=pool.net.prefixlen, taken_over=taken_over, node=node,
                      placement=decision or None)


def _view(lease):
    return {"vm": lease["vm"], "ip": lease["ip"], "state": lease["state"]} if lease else {}


def _predicted(params, ip):
    if params["state"] == "absent" or ip is None:
        return {}
    state = "bound" if params["state"] == "bound" or not params["holder"] else "creating"
    return {"vm": params["vm"], "ip": ip, "state": state}
