# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ip_lease`` module: a VM's address lease present (allocated) or absent (released)."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.ops.actions import ActionLog
from ansible_collections.cloud1.iaas.plugins.module_utils.state.leases import POOL_ARGS, pool_from

ARGUMENT_SPEC = dict(POOL_ARGS, vm=dict(type="str", required=True), owner=dict(type="str"),
                     address=dict(type="str"), state=dict(type="str", choices=["present", "absent"], default="present"))
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def ensure(params, check_mode=False):
    pool = pool_from(params)
    vm = params["vm"]
    log = ActionLog(check_mode)
    if params["state"] == "present":
        ip, changed = pool.allocate(vm, owner=params["owner"], requested=params["address"], dry_run=check_mode)
        if changed:
            log.change("lease %s to %s in %s" % (ip, vm, pool.subnet))
        before, after = {}, {"vm": vm, "ip": ip}
    else:
        ip = pool.release(vm, dry_run=check_mode)
        if ip is not None:
            log.change("release %s of %s in %s" % (ip, vm, pool.subnet))
        before, after = {"vm": vm, "ip": ip}, {}
    return log.result(before, after, ip=ip, subnet=pool.subnet, prefix=pool.net.prefixlen)
