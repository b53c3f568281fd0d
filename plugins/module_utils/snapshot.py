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

from ansible_collections.cloud1.iaas.plugins.module_utils import rotation
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, NotFound
from ansible_collections.cloud1.iaas.plugins.module_utils.libvirt_client import LibvirtClient, libvirt
from ansible_collections.cloud1.iaas.plugins.module_utils.vmspec import check_name

STATES = ("present", "absent", "reverted", "listed", "rotated")


def describe(snap):
    root = ET.fromstring(snap.getXMLDesc(0))
    return {
        "name": root.findtext("name"),
        "description": root.findtext("description") or "",
        "created": int(root.findtext("creationTime") or 0),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(root.findtext("creationTime") or 0))),
        "state": root.findtext("state"),
        "parent": root.findtext("parent/name"),
        "memory": root.findtext("state") in ("running", "paused") or root.find("memory[@snapshot='internal']") is not None,
    }


def listing(client, dom):
    snaps = client._call("list the snapshots of %s" % dom.name(), dom.listAllSnapshots, 0)
    out = sorted((describe(s) for s in snaps), key=lambda s: (s["created"], s["name"]))
    current = None
    if client._call("ask for the current snapshot of %s" % dom.name(), dom.hasCurrentSnapshot, 0):
        current = client._call("read the current snapshot of %s" % dom.name(), dom.snapshotCurrent, 0).getName()
    return out, current


def snapshot_xml(name, description=None):
    root = ET.Element("domainsnapshot")
    ET.SubElement(root, "name").text = name
    if description:
        ET.SubElement(root, "description").text = description
    return ET.tostring(root, encoding="unicode")


class Snapshots:
    """Plans and (unless in check mode) carries out snapshot operations on one VM."""

    def __init__(self, client, dom, check_mode):
        self.c, self.dom, self.check = client, dom, check_mode
        self.actions, self.changed = [], False
        self.snapshots, self.current = listing(client, dom)

    def names(self):
        return [s["name"] for s in self.snapshots]

    def act(self, text, fn, *args):
        self.actions.append(text)
        self.changed = True
        if not self.check:
            return self.c._call(text, fn, *args)
        return None

    def create(self, name, description=None):
        if name in self.names():
            return
        state = self.c.state(self.dom)
        kind = "disk and memory" if state in ("running", "paused") else "disk"
        self.act("take snapshot %s of %s (%s)" % (name, self.dom.name(), kind), self.dom.snapshotCreateXML,
                 snapshot_xml(name, description), libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)

    def lookup(self, name):
        if name not in self.names():
            raise NotFound("VM %s has no snapshot %s (it has: %s)"
                           % (self.dom.name(), name, ", ".join(self.names()) or "none"))
        return self.c._call("look up snapshot %s" % name, self.dom.snapshotLookupByName, name, 0)

    def revert(self, name):
        snap = self.lookup(name)
        self.act("revert %s to snapshot %s" % (self.dom.name(), name), self.dom.revertToSnapshot, snap, 0)

    def delete(self, name):
        if name not in self.names():
            return
        snap = self.lookup(name)
        self.act("delete snapshot %s of %s" % (name, self.dom.name()), snap.delete, 0)

    def rotate(self, keep, max_age, prefix, now=None):
        drop, _kept = rotation.select(self.snapshots, keep=keep, max_age=max_age, prefix=prefix, now=now)
        for name in sorted(drop, key=lambda n: [s["created"] for s in self.snapshots if s["name"] == n][0]):
            self.delete(name)
            self.actions[-1] += " (%s)" % drop[name]
        return sorted(drop)

    def rotate_round(self, keep, max_age, prefix, take=False, description=None):
        """One round of the rotation: a new snapshot (``take``), then the policy; returns the dropped names."""
        if take:
            self.create(rotation.auto_name(prefix), description or "taken by the rotation")
            if not self.check:
                self.snapshots, self.current = listing(self.c, self.dom)
            else:
                self.snapshots = self.snapshots + [{"name": rotation.auto_name(prefix), "created": int(time.time())}]
        return self.rotate(keep, max_age, prefix)


def rotate_node(uri, keep=None, max_age=None, prefix="auto-", take=True, vms=None, check_mode=False):
    """The rotation timer's round on one node: for each of the collection's VMs there (or ``vms``), a
    snapshot when it runs (``take``), then the policy. Yields one report per VM; a VM that fails is reported
    and the others still go."""
    max_age = rotation.parse_age(max_age)
    with LibvirtClient(uri) as client:
        for dom in sorted(client.all_domains(), key=lambda d: d.name()):
            info = client.describe(dom, config=True)
            if vms is not None and dom.name() not in vms:
                continue
            if vms is None and not (info["metadata"].get("owner") or info["metadata"].get("ip")):
                continue
            try:
                plan = Snapshots(client, dom, check_mode)
                dropped = plan.rotate_round(keep, max_age, prefix, take=take and info["state"] == "running")
                yield {"vm": dom.name(), "actions": plan.actions, "dropped": dropped,
                       "snapshots": [s["name"] for s in plan.snapshots if s["name"] not in dropped]}
            except Exception as exc:   # one VM's failure (libvirt or ours) must not stop the round
                yield {"vm": dom.name(), "error": getattr(exc, "message", str(exc))}


def ensure(params, check_mode=False, conn=None):
    """The ``vm_snapshot`` module."""
    name = check_name(params.get("name"))
    state = params.get("state") or "present"
    if state not in STATES:
        raise InvalidInput("state must be one of %s, not %r" % (", ".join(STATES), state))
    snap_name = params.get("snapshot")
    if state in ("present", "absent", "reverted"):
        if not snap_name:
            raise InvalidInput("state=%s needs snapshot (the snapshot's name)" % state)
        rotation.check_snapshot_name(snap_name)
    max_age = rotation.parse_age(params.get("max_age"))
    keep = params.get("keep")
    if state == "rotated" and keep is None and max_age is None:
        raise InvalidInput("state=rotated needs keep (how many to keep) and/or max_age (e.g. 2h, 7d)")
    prefix = params.get("prefix") if params.get("prefix") is not None else "auto-"
    with LibvirtClient(params.get("uri") or "qemu:///system", conn=conn) as client:
        try:
            dom = client.lookup(name)
        except NotFound:
            raise NotFound("VM %s does not exist on %s" % (name, client.uri), name=name)
        plan = Snapshots(client, dom, check_mode)
        before = {"snapshots": plan.names(), "current": plan.current}
        dropped = []
        if state == "present":
            plan.create(snap_name, params.get("description"))
        elif state == "absent":
            plan.delete(snap_name)
        elif state == "reverted":
            plan.revert(snap_name)
        elif state == "rotated":
            dropped = plan.rotate_round(keep, max_age, prefix, take=params.get("create"),
                                        description=params.get("description"))
        if check_mode or not plan.changed:
            after_list, current = plan.snapshots, plan.current
            names = [n for n in plan.names() if n not in dropped and not (state == "absent" and n == snap_name)]
            if state == "present" and snap_name not in names:
                names.append(snap_name)
            after = {"snapshots": names, "current": snap_name if state in ("present", "reverted") else current}
        else:
            after_list, current = listing(client, dom)
            after = {"snapshots": [s["name"] for s in after_list], "current": current}
    result = {"changed": plan.changed, "name": name, "actions": plan.actions, "snapshots": after_list,
              "current": after["current"], "dropped": dropped}
    if plan.changed:
        result["diff"] = {"before": before, "after": after}
    return result
