# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ip_pool_info`` module: free addresses, current leases, one name's reservation and the stale leases
(the seed's getips; read-only)."""

from __future__ import annotations

import time

from ansible_collections.cloud1.iaas.plugins.module_utils.state.leases import POOL_ARGS, pool_from

ARGUMENT_SPEC = dict(POOL_ARGS, count=dict(type="int", default=10), vm=dict(type="str"),
                     vms=dict(type="list", elements="str"))
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def ensure(params, check_mode=False):
    pool = pool_from(params)
    now = time.time()
    leases = pool.leases()   # one reading of the database serves every answer
    out = {"changed": False, "subnet": pool.subnet, "free": pool.free(params["count"], leases=leases),
           "asked": params["count"], "available": pool.free_count(leases=leases), "leases": leases, "now": now}
    if params["vm"]:
        out["lease"] = pool.lease(params["vm"], leases=leases)
    if params["vms"] is not None:
        out["stale"] = pool.stale(params["vms"], now=now, leases=leases)
    return out
