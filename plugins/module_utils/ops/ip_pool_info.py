# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ip_pool_info`` module: free addresses and current leases (the seed's getips; read-only)."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.state.leases import POOL_ARGS, pool_from

ARGUMENT_SPEC = dict(POOL_ARGS, count=dict(type="int", default=10))
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def ensure(params, check_mode=False):
    pool = pool_from(params)
    return {"changed": False, "subnet": pool.subnet, "free": pool.free(params["count"]), "leases": pool.leases()}
