# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``node_info`` module: what a node offers (read-only)."""

from __future__ import annotations

import os

from ansible_collections.cloud1.iaas.plugins.module_utils.ops.vm_info import read_vms
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient

ARGUMENT_SPEC = dict(uri=dict(type="str", default="qemu:///system"), disk_dir=dict(type="path"),
                     vms=dict(type="bool", default=False))
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def node_facts(uri, disk_dir=None, vms=False):
    """Hypervisor, domain types (kvm under hardware virtualization, qemu under software emulation), CPUs,
    memory, what its VMs are allocated, how many domains it holds, and the free space where VM disks go (when
    ``disk_dir`` is given and visible here). With ``vms``, also its VMs as vm_info describes them (``vms``,
    ``node``), each domain read once for both: the survey's one call per node."""
    with LibvirtClient(uri, readonly=True) as client:
        if vms:
            node, described = read_vms(client)
            facts = client.node_facts(vms=described)
            facts.update(vms=described, node=node)
        else:
            facts = client.node_facts()
    facts.update(changed=False, uri=uri, disk_free_gib=disk_free_gib(disk_dir))
    return facts


def disk_free_gib(disk_dir):
    """Free space in GiB where ``disk_dir`` is, as seen here; None when it is not given or not a directory here."""
    if not disk_dir or not os.path.isdir(disk_dir):
        return None
    st = os.statvfs(disk_dir)
    return round(st.f_bavail * st.f_frsize / 1024.0 ** 3, 2)


def ensure(params, check_mode=False):
    return node_facts(params["uri"], disk_dir=params.get("disk_dir"), vms=params.get("vms"))
