#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Tenancy on the box: mallory cannot change, take, copy, snapshot, move or delete alice's web1 through any
playbook; each refusal leaves the cluster as it was (every VM's state, UUID, owner and sizes, the disks and the
leases compared); an admin (no owner given) can give a VM to another owner and back; a request that contradicts
the existing VM (another address) is refused."""

import boxlib

VM = "web1"


def cases(other_node, node_address):
    return [
        ("createvm.yml", {"vm": VM, "cpu": 2}, "is not mallory's"),                 # no re-own, no resize
        ("startvm.yml", {"vm": VM}, "is not mallory's"),
        ("shutdownvm.yml", {"vm": VM}, "is not mallory's"),
        ("destroyvm.yml", {"vm": VM}, "is not mallory's"),
        ("pausevm.yml", {"vm": VM}, "is not mallory's"),
        ("rebootvm.yml", {"vm": VM}, "is not mallory's"),
        ("deletevm.yml", {"vm": VM}, "is not mallory's"),
        ("clonevm.yml", {"vm": "mcopy", "source": VM}, "is not mallory's"),
        ("createexistingvm.yml", {"vm": "mcopy", "source": VM, "job_type": "deleteclone"}, "is not mallory's"),
        ("scaleup.yml", {"vm": VM, "size": 1}, "is not mallory's"),
        ("changecpu.yml", {"vm": VM, "size": 2}, "is not mallory's"),
        ("changememory.yml", {"vm": VM, "size": 512}, "is not mallory's"),
        ("scaledown.yml", {"vm": VM, "memory": 256}, "is not mallory's"),
        ("snapshot.yml", {"vm": VM, "operation": "create", "snapshot": "m1"}, "is not mallory's"),
        ("snapshot.yml", {"vm": VM, "operation": "list"}, "is not mallory's"),
        ("migrate.yml", {"vm": VM, "to": other_node}, "is not mallory's"),
        ("userdetails.yml", {"operation": "modify", "vm": VM, "parameter": "io", "value": "low"}, "not mallory"),
        ("userdetails.yml", {"operation": "add", "vm": VM}, "already has an owner"),
        ("userdetails.yml", {"operation": "chown", "vm": VM, "new_owner": "mallory"}, "not mallory"),
        ("userdetails.yml", {"operation": "delete", "vm": VM}, "not mallory"),
        # alice herself: a request that contradicts her VM is refused, not ignored
        ("createvm.yml", {"vm": VM, "owner": "alice", "ip": node_address}, "contradicts an existing VM"),
        ("createvm.yml", {"vm": "noowner1", "owner": ""}, "owner is required to create a VM"),
    ]


def main():
    node, state = boxlib.vm_state(VM)
    if not boxlib.check(state == "running", "precondition: %s runs (on %s)" % (VM, node)):
        boxlib.finish()
    other = [h for h in sorted(boxlib.node_uris()) if h != node][0]
    master = boxlib.inventory()["all"]["children"]["master"]["hosts"]
    node_address = next(iter(master.values()))["ansible_host"]   # a node's address asked for alice's VM
    boxlib.refusals(cases(other, node_address), extra={"owner": "mallory"},
                    what="every VM's state, owner and sizes, the disks and the leases unchanged")
    # an admin (no owner) gives web1 to bob and back: the explicit change of owner
    for new in ("bob", "alice"):
        rc, out, _took = boxlib.playbook("userdetails.yml", {"operation": "chown", "vm": VM, "new_owner": new})
        owner = boxlib.domains()[node][VM][2]
        boxlib.check(rc == 0 and boxlib.recap_changed(out) == 1 and owner == new,
                     "an admin's chown gives %s to %s (libvirt's metadata says %s)" % (VM, new, owner))
    boxlib.check(boxlib.vm_state(VM)[1] == "running", "%s still runs" % VM)
    boxlib.finish()


if __name__ == "__main__":
    main()
