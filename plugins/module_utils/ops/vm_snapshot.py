# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots of a VM through libvirt: create, list, current, revert, delete, rotate.

Snapshots are internal qcow2 snapshots. Of a running VM they hold its memory too (a full checkpoint:
reverting returns the VM running where it was); of a stopped VM, its disk. They live inside the VM's
disk file, so they follow it on shared storage and go with it when the VM is deleted.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

from ansible_collections.cloud1.iaas.plugins.module_utils.core import rotation, rules, tenancy
from ansible_collections.cloud1.iaas.plugins.module_utils.core.vmspec import check_name
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error, InvalidInput, NotFound
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.actions import ActionLog
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import vm_argument_spec
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient

STATES = ("present", "absent", "reverted", "listed", "rotated")

ARGUMENT_SPEC = vm_argument_spec(
    state=dict(type="str", default="present", choices=list(STATES)),
    snapshot=dict(type="str"),
    description=dict(type="str"),
    keep=dict(type="int", no_log=False),
    max_age=dict(type="str"),
    prefix=dict(type="str", default=rotation.DEFAULT_PREFIX),
    create=dict(type="bool", default=False),
)
REQUIRED_IF = [["state", "present", ["snapshot"]], ["state", "absent", ["snapshot"]],
               ["state", "reverted", ["snapshot"]], ["state", "rotated", ["keep", "max_age"], True]]
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, required_if=REQUIRED_IF)


def describe(xml):
    root = ET.fromstring(xml)
    created = int(root.findtext("creationTime") or 0)
    return {
        "name": root.findtext("name"),
        "description": root.findtext("description") or "",
        "created": created,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)),
        "state": root.findtext("state"),
        "parent": root.findtext("parent/name"),
        "memory": root.findtext("state") in ("running", "paused") or root.find("memory[@snapshot='internal']") is not None,
    }


def listing(dom):
    out = sorted((describe(xml) for _name, xml in dom.snapshots()), key=lambda s: (s["created"], s["name"]))
    return out, dom.current_snapshot()


def snapshot_xml(name, description=None):
    root = ET.Element("domainsnapshot")
    ET.SubElement(root, "name").text = name
    if description:
        ET.SubElement(root, "description").text = description
    return ET.tostring(root, encoding="unicode")


class SnapshotExecutor:
    """Snapshot operations on one VM, recorded in an action log (carried out unless in check mode)."""

    def __init__(self, dom, check_mode):
        self.dom = dom
        self.log = ActionLog(check_mode)
        self.snapshots, self.current = listing(dom)

    def names(self):
        return [s["name"] for s in self.snapshots]

    def create(self, name, description=None):
        if name in self.names():
            return
        kind = "disk and memory" if rules.is_active(self.dom.state()) else "disk"
        self.log.change("take snapshot %s of %s (%s)" % (name, self.dom.name, kind), self.dom.create_snapshot,
                        snapshot_xml(name, description))

    def require(self, name):
        if name not in self.names():
            raise NotFound("VM %s has no snapshot %s (it has: %s)"
                           % (self.dom.name, name, ", ".join(self.names()) or "none"))

    def revert(self, name):
        self.require(name)
        self.log.change("revert %s to snapshot %s" % (self.dom.name, name), self.dom.revert_snapshot, name)

    def delete(self, name, why=None):
        if name not in self.names():
            return
        self.log.change("delete snapshot %s of %s%s" % (name, self.dom.name, " (%s)" % why if why else ""),
                        self.dom.delete_snapshot, name)

    def rotate(self, keep, max_age, prefix, now=None):
        drop, _kept = rotation.select(self.snapshots, keep=keep, max_age=max_age, prefix=prefix, now=now)
        created = {s["name"]: s["created"] for s in self.snapshots}
        for name in sorted(drop, key=lambda n: created[n]):
            self.delete(name, drop[name])
        return sorted(drop)

    def rotate_round(self, keep, max_age, prefix, take=False, description=None):
        """One round of the rotation: a new snapshot (``take``), then the policy; returns the dropped names."""
        if take:
            name = rotation.auto_name(prefix)
            self.create(name, description or "taken by the rotation")
            if not self.log.check:
                self.snapshots, self.current = listing(self.dom)
            else:
                self.snapshots = self.snapshots + [{"name": name, "created": int(time.time())}]
        return self.rotate(keep, max_age, prefix)


def rotate_node(uri, keep=None, max_age=None, prefix=rotation.DEFAULT_PREFIX, take=True, vms=None, check_mode=False):
    """The rotation timer's round on one node: for each of the collection's VMs there (or ``vms``), a
    snapshot when it runs (``take``), then the policy. Yields one report per VM; a VM that fails is reported
    and the others still go."""
    max_age = rotation.parse_age(max_age)
    with LibvirtClient(uri) as client:
        for dom in sorted(client.domains(), key=lambda d: d.name):
            if vms is not None and dom.name not in vms:
                continue
            try:
                info = dom.describe(config=True)
                if vms is None and not (info["metadata"].get("owner") or info["metadata"].get("ip")):
                    continue
                ex = SnapshotExecutor(dom, check_mode)
                dropped = ex.rotate_round(keep, max_age, prefix, take=take and rules.is_executing(info["state"]))
                yield {"vm": dom.name, "actions": ex.log.actions, "dropped": dropped,
                       "snapshots": [s["name"] for s in ex.snapshots if s["name"] not in dropped]}
            except Exception as exc:  # noqa: BLE001 - one VM's failure (libvirt's or ours) must not stop the round
                yield {"vm": dom.name, "error": exc.message if isinstance(exc, Cloud1Error)
                       else "%s: %s" % (type(exc).__name__, exc)}


def ensure(params, check_mode=False, conn=None):
    """The ``vm_snapshot`` module."""
    name = check_name(params.get("name"))
    state = rules.choice(params.get("state"), "state", STATES, "present")
    snap_name = params.get("snapshot")
    if state in ("present", "absent", "reverted"):
        if not snap_name:
            raise InvalidInput("state=%s needs snapshot (the snapshot's name)" % state)
        rotation.check_snapshot_name(snap_name)
    max_age = rotation.parse_age(params.get("max_age"))
    keep = rules.whole(params.get("keep"), "keep", 0)
    if state == "rotated" and keep is None and max_age is None:
        raise InvalidInput("state=rotated needs keep (how many to keep) and/or max_age (e.g. 2h, 7d)")
    prefix = params.get("prefix") if params.get("prefix") is not None else rotation.DEFAULT_PREFIX
    with LibvirtClient(params.get("uri") or "qemu:///system", conn=conn) as client:
        dom = client.find(name)
        if dom is None:
            raise NotFound("VM %s does not exist on %s" % (name, client.uri), name=name)
        tenancy.check_access(name, dom.describe(config=True)["metadata"].get("owner"), params.get("owner"))
        ex = SnapshotExecutor(dom, check_mode)
        before = {"snapshots": ex.names(), "current": ex.current}
        dropped = []
        if state == "present":
            ex.create(snap_name, params.get("description"))
        elif state == "absent":
            ex.delete(snap_name)
        elif state == "reverted":
            ex.revert(snap_name)
        elif state == "rotated":
            dropped = ex.rotate_round(keep, max_age, prefix, take=params.get("create"),
                                      description=params.get("description"))
        if check_mode or not ex.log.changed:
            after_list, current = ex.snapshots, ex.current
            names = [n for n in ex.names() if n not in dropped and not (state == "absent" and n == snap_name)]
            if state == "present" and snap_name not in names:
                names.append(snap_name)
            after = {"snapshots": names, "current": snap_name if state in ("present", "reverted") else current}
        else:
            after_list, current = listing(dom)
            after = {"snapshots": [s["name"] for s in after_list], "current": current}
    return ex.log.result(before, after, name=name, snapshots=after_list, current=after["current"], dropped=dropped)
