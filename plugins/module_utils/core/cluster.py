# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster-wide views built from what every node reported (vm_info results per node). Pure Python.

libvirt on each node is the registry; these functions only join the nodes' answers: which VM is where,
whose it is, which addresses are in use (the seed's getuserdetails, getnodedetails, getvmdetails).
"""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, NotFound


def cluster_vms(results_by_node):
    """Every VM of every node that answered, each with ``host`` (the inventory name of its node),
    sorted by name. Nodes that failed or were unreachable contribute nothing."""
    out = []
    for host, result in sorted((results_by_node or {}).items()):
        if not result or result.get("failed") or result.get("unreachable"):
            continue
        for vm in result.get("vms") or []:
            out.append(dict(vm, host=host))
    return sorted(out, key=lambda v: (v["name"], v["host"]))


def locate(results_by_node, name, required=True):
    """The inventory name of the node holding VM ``name`` (None when absent and not ``required``)."""
    copies = [vm for vm in cluster_vms(results_by_node) if vm["name"] == name]
    hosts = [vm["host"] for vm in copies]
    if len(hosts) > 1:
        kept = [vm["host"] for vm in copies if vm.get("persistent", True)]
        incoming = [vm["host"] for vm in copies if not vm.get("persistent", True)]
        if len(kept) == 1 and incoming:   # the destination holds a transient copy while the memory moves
            raise InvalidInput("VM %s is being migrated from %s to %s (a migration under way, perhaps an earlier "
                               "run's): wait until it has finished, then run again; nothing was changed"
                               % (name, kept[0], ", ".join(incoming)))
        raise InvalidInput("VM %s is defined on several nodes (%s): undefine the stale copy first"
                           % (name, ", ".join(hosts)))
    if not hosts:
        missing = sorted(h for h, r in (results_by_node or {}).items()
                         if not r or r.get("failed") or r.get("unreachable"))
        if required:
            raise NotFound("no VM named %s on any node%s" % (
                name, " that answered (no answer from %s)" % ", ".join(missing) if missing else ""))
        return None
    return hosts[0]


def summary(vm):
    """One VM in a line of the seed's user details: name, node, owner, address, state, sizes (disk in GiB), io, os."""
    meta = vm.get("metadata") or {}
    disks = [d for d in vm.get("disks") or [] if d.get("device") == "disk" and d.get("capacity")]
    return {"name": vm["name"], "node": vm["host"], "owner": meta.get("owner"), "ip": meta.get("ip"),
            "state": vm["state"], "vcpus": vm["vcpus"], "memory_mib": vm["memory_mib"],
            "disk_gib": round(disks[0]["capacity"] / 1024 ** 3, 2) if disks else None, "io": meta.get("io"),
            "os": meta.get("os")}


def by_owner(results_by_node):
    """{owner: [summary]} (the seed's getuserdetails)."""
    out = {}
    for vm in cluster_vms(results_by_node):
        out.setdefault((vm.get("metadata") or {}).get("owner") or "(none)", []).append(summary(vm))
    return out


def by_node(results_by_node):
    """{node: [summary]} for every node that answered, empty ones included (the seed's getnodedetails)."""
    out = {host: [] for host, r in (results_by_node or {}).items() if r and not r.get("failed") and not r.get("unreachable")}
    for vm in cluster_vms(results_by_node):
        out[vm["host"]].append(summary(vm))
    return out


def addresses_in_use(results_by_node):
    """Static addresses the VMs hold according to their metadata."""
    return sorted({(vm.get("metadata") or {}).get("ip") for vm in cluster_vms(results_by_node)} - {None, ""})


def image_users(results_by_node, image, exclude=()):
    """The VMs (names) that need the image file ``image`` (a path): made from it (their metadata names it; a
    linked copy backs onto it) or running it as their disk. A VM in ``exclude`` (a full copy just made of it)
    does not count. Deleting the image is safe only when this is empty."""
    base = str(image).rstrip("/")
    name = base.rsplit("/", 1)[-1]
    users = set()
    for vm in cluster_vms(results_by_node):
        if vm["name"] in exclude:
            continue
        made_from = str((vm.get("metadata") or {}).get("image") or "")
        if made_from == base or (made_from.rsplit("/", 1)[-1] == name and not made_from.startswith("vm:")):
            users.add(vm["name"])
        if any((d.get("source") or "") == base for d in vm.get("disks") or []):
            users.add(vm["name"])
    return sorted(users)


def pending_allocations(leases, existing, now, me=None):
    """{node: {vcpus, memory_mib}} of the creations under way: reservations (lease rows ``creating``, not
    expired, of another run than ``me``) whose VM no node reports yet (``existing``: the names surveyed), so
    concurrent runs place with each other in view."""
    names = set(existing)
    out = {}
    for lease in leases or []:
        if (lease.get("state") != "creating" or not lease.get("node") or lease.get("vm") in names
                or (lease.get("expires") or 0) <= now or (me and lease.get("holder") == me)):
            continue
        slot = out.setdefault(lease["node"], {"vcpus": 0, "memory_mib": 0})
        slot["vcpus"] += int(lease.get("vcpus") or 0)
        slot["memory_mib"] += int(lease.get("memory_mib") or 0)
    return out


def node_uris(nodes, here=None):
    """{node: the libvirt URI that reaches it from ``here``}: qemu:///system for ``here`` itself,
    qemu+ssh://root@NODE/system for the others (the inventory names resolve through the /etc/hosts that
    cluster_access writes, and the nodes' root keys and known hosts let one node reach another)."""
    return {node: "qemu:///system" if node == here else "qemu+ssh://root@%s/system" % node for node in nodes or ()}
