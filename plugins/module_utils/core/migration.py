# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a live migration may go, and what its job statistics say. Pure Python (no libvirt, no Ansible):
the vm_migrate executor and vm_job_info share it (the balancer, when it lands, is to decide with it too).

A migration goes only when every check passes; each check gives its reason, so check mode can answer
"would it go, and why (not)".
"""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import placement, rules
from ansible_collections.cloud1.iaas.plugins.module_utils.core.vmspec import check_name
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

TIMEOUT_ACTIONS = ("abort", "force")
DEFAULT_TIMEOUT_ACTION = "abort"
# how the VM's memory travels: inside the source libvirtd's connection to the destination's (qemu+ssh: the nodes'
# SSH encrypts it), or as QEMU's own plain stream (only on a dedicated migration network)
ENCRYPTIONS = ("tunnel", "none")
DEFAULT_ENCRYPTION = "tunnel"
MAX_BANDWIDTH_MIB = 100000


def _whole(params, key, low, high):
    return rules.whole(params.get(key), key, low, high)


def validate(params):
    """The request, checked before any node is touched."""
    req = {
        "name": check_name(params.get("name")),
        "dest": params.get("dest"),
        "bandwidth_mib": _whole(params, "bandwidth_mib", 1, MAX_BANDWIDTH_MIB),
        "max_downtime_ms": _whole(params, "max_downtime_ms", 1, 60000),
        "timeout": _whole(params, "timeout", 1, 86400),
        "timeout_action": rules.choice(params.get("timeout_action"), "timeout_action", TIMEOUT_ACTIONS, DEFAULT_TIMEOUT_ACTION),
        "auto_converge": bool(params.get("auto_converge")),
        "postcopy": bool(params.get("postcopy")),
        "encryption": rules.choice(params.get("encryption"), "encryption", ENCRYPTIONS, DEFAULT_ENCRYPTION),
        "migrate_uri": params.get("migrate_uri") or None,
    }
    if not req["dest"]:
        raise InvalidInput("dest (the destination node's libvirt URI, e.g. qemu+ssh://root@node2/system) is required")
    if req["timeout_action"] == "force" and not req["timeout"]:
        raise InvalidInput("timeout_action=force needs timeout (seconds before forcing completion)")
    if req["encryption"] == "tunnel" and req["postcopy"]:
        raise InvalidInput("postcopy cannot travel through the encrypted tunnel (libvirt tunnels pre-copy only): "
                           "drop postcopy, or give encryption=none on a dedicated migration network; nothing was "
                           "changed")
    if req["encryption"] == "tunnel" and req["migrate_uri"]:
        raise InvalidInput("migrate_uri sends the VM's memory straight to that address, outside the encrypted "
                           "tunnel: give encryption=none with it (a dedicated migration network); nothing was changed")
    return req


def kind(name, state):
    """How a VM in ``state`` moves: ``live`` (a QEMU process runs: its memory is copied while it runs) or
    ``offline`` (only the definition moves). A suspended-to-RAM guest cannot be copied live: refused."""
    if state == "pmsuspended":
        raise InvalidInput("%s is suspended to RAM (pmsuspended): wake it (startvm.yml) or shut it down before "
                           "moving it; nothing was changed" % name)
    return "live" if rules.is_active(state) else "offline"


def capacity(dest_name, dest_facts, vm, policy=None):
    """None when the destination can hold the VM (its vCPU and memory maxima), else why not."""
    node = placement.node_from_facts(dest_name, dest_facts)
    request = placement.Request(vcpus=int(vm["max_vcpus"]), memory_mib=int(vm["max_memory_mib"]), arch=node.arch)
    return placement.fits(node, request, placement.Policy(**(policy or {})))


def decide(checks):
    """``checks``: [(name, ok, reason)] in the order they ran. The move goes when all are ok."""
    failed = [(name, reason) for name, ok, reason in checks if not ok]
    return {
        "go": not failed,
        "checks": [{"check": name, "ok": bool(ok), "reason": reason} for name, ok, reason in checks],
        "why_not": "; ".join(reason for _name, reason in failed),
    }


def percent_remaining(stats):
    """Percent of the migration's data still to send (memory, and disks when they are copied), or None."""
    total = stats.get("data_total") or stats.get("memory_total")
    remaining = stats.get("data_remaining", stats.get("memory_remaining"))
    if not total or remaining is None:
        return None
    return round(100.0 * remaining / total, 1)


def report(stats, elapsed_s=None):
    """The figures a finished migration reports: total time, downtime, data transferred."""
    return {
        "total_time_ms": stats.get("time_elapsed") or (int(elapsed_s * 1000) if elapsed_s is not None else None),
        "downtime_ms": stats.get("downtime"),
        "data_transferred_bytes": stats.get("data_processed", stats.get("memory_processed")),
        "memory_total_bytes": stats.get("memory_total"),
        "dirty_rate_pages_s": stats.get("memory_dirty_rate"),
        "iterations": stats.get("memory_iteration"),
    }
