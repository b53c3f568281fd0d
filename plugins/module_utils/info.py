# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only views of a node: its domains with state, sizes and tenant metadata."""

from __future__ import annotations

import os

from ansible_collections.cloud1.iaas.plugins.module_utils.libvirt_client import LibvirtClient
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import NotFound, OperationFailed


def node_vms(uri, name=None, owner=None):
    """The domains of the node at ``uri`` (one by ``name``, or those of ``owner``), sorted by name."""
    with LibvirtClient(uri, readonly=True) as client:
        node = client.hostname()
        if name:
            try:
                domains = [client.lookup(name)]
            except NotFound:
                domains = []
        else:
            domains = client.all_domains()
        vms = []
        for dom in domains:
            vm = client.describe(dom)
            if owner and vm["metadata"].get("owner") != owner:
                continue
            vm["node"] = node
            vms.append(vm)
    vms.sort(key=lambda v: v["name"])
    return {"node": node, "uri": uri, "vms": vms}


def node_facts(uri, disk_dir=None):
    """What a node offers: hypervisor, domain types (kvm under hardware virtualization, qemu under
    software emulation), CPUs, memory, what its VMs are allocated, how many domains it holds, and the
    free space where VM disks go (when ``disk_dir`` is given and visible here)."""
    with LibvirtClient(uri, readonly=True) as client:
        facts = client.node_facts()
    facts["uri"] = uri
    facts["disk_free_gib"] = None
    if disk_dir and os.path.isdir(disk_dir):
        st = os.statvfs(disk_dir)
        facts["disk_free_gib"] = round(st.f_bavail * st.f_frsize / 1024.0 ** 3, 2)
    return facts


def job_info(uri, name):
    """The job VM ``name`` runs on the node at ``uri`` (a migration while it goes) and its progress."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.migration import percent_remaining
    with LibvirtClient(uri, readonly=True) as client:
        try:
            dom = client.lookup(name)
        except NotFound:
            return {"changed": False, "exists": False, "active": False, "percent_remaining": None, "stats": {}}
        try:
            stats = client.job_stats(dom)
        except OperationFailed as exc:   # a driver without job statistics (libvirt's test driver)
            return {"changed": False, "exists": True, "active": False, "percent_remaining": None, "stats": {},
                    "supported": False, "msg": exc.message}
    active = stats.get("type", 0) not in (0, 3)   # VIR_DOMAIN_JOB_NONE, VIR_DOMAIN_JOB_COMPLETED
    return {"changed": False, "exists": True, "active": active, "stats": stats, "supported": True,
            "percent_remaining": percent_remaining(stats) if active else None,
            "elapsed_ms": stats.get("time_elapsed")}
