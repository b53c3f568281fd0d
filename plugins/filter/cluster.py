# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters place, place_batch, vm_request, scale_request, cluster_vms, vm_node, vms_by_owner, vms_by_node,
addresses_in_use, image_users, pending_allocations, node_uris (documented in their .yml
files): the placement core and the request rules exposed to playbooks. Each is one call into module_utils."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.cloud1.iaas.plugins.module_utils.core import cluster, placement
from ansible_collections.cloud1.iaas.plugins.plugin_utils import requests
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error


def _guard(fn):
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Cloud1Error as exc:
            raise AnsibleFilterError(exc.message)
    return run


def place(hostvars, hosts, var="cloud1_node", **request):
    return placement.decide(requests.per_host(hostvars, hosts, var), **request)


def place_batch(hostvars, hosts, vms, var="cloud1_node", **options):
    """``vms`` under createvm.yml's names (vm, cpu, memory, disk, io), as the admin writes them."""
    seed = {"vm": "name", "cpu": "vcpus", "memory": "memory_mib", "disk": "disk_gib", "io": "io"}
    defaults = {"cpu": 1, "memory": 512, "io": "medium"}   # createvm.yml's (playbooks/vars/request.yml)
    batch = [{ours: vm.get(theirs, defaults.get(theirs)) for theirs, ours in seed.items()} if isinstance(vm, dict)
             else vm for vm in vms]
    try:
        return placement.decide_batch(requests.per_host(hostvars, hosts, var), batch, **options)
    except ValueError as exc:
        raise AnsibleFilterError("the batch cannot be placed: %s" % exc) from None


vm_request = requests.vm_request
scale_request = requests.scale_request


def cluster_vms(hostvars, hosts, var="cloud1_node_vms"):
    return cluster.cluster_vms(requests.per_host(hostvars, hosts, var))


def vm_node(hostvars, hosts, name, var="cloud1_node_vms", required=True):
    return cluster.locate(requests.per_host(hostvars, hosts, var), name, required=required)


def vms_by_owner(hostvars, hosts, var="cloud1_node_vms"):
    return cluster.by_owner(requests.per_host(hostvars, hosts, var))


def vms_by_node(hostvars, hosts, var="cloud1_node_vms"):
    return cluster.by_node(requests.per_host(hostvars, hosts, var))


def addresses_in_use(hostvars, hosts, var="cloud1_node_vms"):
    return cluster.addresses_in_use(requests.per_host(hostvars, hosts, var))


def pending_allocations(leases, hostvars, hosts, now, me=None, var="cloud1_node_vms"):
    existing = [vm["name"] for vm in cluster.cluster_vms(requests.per_host(hostvars, hosts, var))]
    return cluster.pending_allocations(leases, existing, float(now), me=me)


def image_users(hostvars, hosts, image, exclude=(), var="cloud1_node_vms"):
    return cluster.image_users(requests.per_host(hostvars, hosts, var), image, exclude=exclude)


def node_uris(nodes, here=None):
    return cluster.node_uris(nodes, here)


class FilterModule:
    def filters(self):
        return {name: _guard(fn) for name, fn in (
            ("place", place), ("place_batch", place_batch), ("vm_request", vm_request), ("scale_request", scale_request),
            ("cluster_vms", cluster_vms), ("vm_node", vm_node),
            ("vms_by_owner", vms_by_owner), ("vms_by_node", vms_by_node),
            ("addresses_in_use", addresses_in_use), ("image_users", image_users),
            ("pending_allocations", pending_allocations), ("node_uris", node_uris))}
