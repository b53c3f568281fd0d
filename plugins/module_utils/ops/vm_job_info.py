# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``vm_job_info`` module: the job a VM runs (a migration while it goes) and its progress (read-only)."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import tenancy
from ansible_collections.cloud1.iaas.plugins.module_utils.core.migration import percent_remaining
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import vm_argument_spec
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient

ARGUMENT_SPEC = vm_argument_spec()
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def job_info(uri, name, owner=None):
    with LibvirtClient(uri, readonly=True) as client:
        dom = client.find(name)
        if dom is None:
            return {"changed": False, "exists": False, "active": False, "percent_remaining": None, "stats": {}}
        tenancy.check_access(name, dom.describe()["metadata"].get("owner"), owner)
        try:
            stats = dom.job_stats()
        except OperationFailed as exc:   # a driver without job statistics (libvirt's test driver)
            return {"changed": False, "exists": True, "active": False, "percent_remaining": None, "stats": {},
                    "supported": False, "msg": exc.message}
        active = dom.job_active(stats)
    return {"changed": False, "exists": True, "active": active, "stats": stats, "supported": True,
            "percent_remaining": percent_remaining(stats) if active else None, "elapsed_ms": stats.get("time_elapsed")}


def ensure(params, check_mode=False):
    return job_info(params["uri"], params["name"], owner=params.get("owner"))
