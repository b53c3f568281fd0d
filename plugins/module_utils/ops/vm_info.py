# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``vm_info`` module: the domains of a node with state, sizes and tenant metadata (read-only)."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient

ARGUMENT_SPEC = dict(uri=dict(type="str", default="qemu:///system"), name=dict(type="str"), owner=dict(type="str"))
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def read_vms(client, name=None, owner=None):
    """(the node's host name, its domains described: one by ``name``, or those of ``owner``, sorted by name)
    through an open client."""
    node = client.hostname()
    if name:
        found = client.find(name)
        described = [(found, found.describe())] if found is not None else []
    else:
        described = client.describe_all()
    vms = []
    for _dom, vm in described:
        if owner and vm["metadata"].get("owner") != owner:
            continue
        vm["node"] = node
        vms.append(vm)
    vms.sort(key=lambda v: v["name"])
    return node, vms


def node_vms(uri, name=None, owner=None):
    """The domains of the node at ``uri`` (one by ``name``, or those of ``owner``), sorted by name."""
    with LibvirtClient(uri, readonly=True) as client:
        node, vms = read_vms(client, name=name, owner=owner)
    return {"changed": False, "node": node, "uri": uri, "vms": vms}


def ensure(params, check_mode=False):
    return node_vms(params["uri"], name=params.get("name"), owner=params.get("owner"))
