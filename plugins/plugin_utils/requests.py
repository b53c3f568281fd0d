# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request rules as the controller applies them (the check_request action and the filters share them):
the nodes' survey results picked out of hostvars, and the core's rules applied to a request."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import cluster, scaling, vmspec


def per_host(hostvars, hosts, var):
    """{host: the host's ``var``} for the hosts given (None where the host has no such variable)."""
    out = {}
    for host in hosts:
        value = hostvars[host].get(var) if host in hostvars else None
        out[host] = dict(value) if value else None
    return out


def vm_request(request, nodes=()):
    """A VM request checked by the rules; with ``nodes`` (a creation), its name may not be a node's."""
    checked = vmspec.validate(dict(request))
    vmspec.check_not_a_node(checked["name"], nodes)
    return checked


def scale_request(request, hostvars, hosts, var="cloud1_node_vms"):
    """A scaling request resolved against the surveyed VM's sizes, with the node it is on."""
    vms = cluster.cluster_vms(per_host(hostvars, hosts, var))
    name = dict(request).get("name")
    vmspec.check_name(name)
    found = [vm for vm in vms if vm["name"] == name]
    if not found:
        cluster.locate(per_host(hostvars, hosts, var), name)   # raises NotFound naming the silent nodes
    return dict(scaling.scale_request(dict(request), found[0]), node=found[0]["host"])
