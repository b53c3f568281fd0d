#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Hostile requests against the box: each must fail with a message that says what to fix and leave every
node's domains (state, UUID), the disk directory and the lease database exactly as they were.

Usage: python tests/box/hostile.py   (the box up and converged, a VM `web1` running, as the lifecycle
scenario leaves it)"""

import os

import boxlib

TOUCHED = "/tmp/cloud1-hostile-pwned"
CASES = [
    # (playbook, extra vars, what the message must say)
    ("createvm.yml", {"vm": "a/b"}, "VM name 'a/b' is not valid"),
    ("createvm.yml", {"vm": ".."}, "VM name '..' is not valid"),
    ("createvm.yml", {"vm": "web 1"}, "VM name 'web 1' is not valid"),
    ("createvm.yml", {"vm": "<vm name='x'/>&"}, "is not valid"),
    ("createvm.yml", {"vm": "$(touch %s)" % TOUCHED}, "is not valid"),
    ("createvm.yml", {"vm": "a" * 300}, "(300 characters)"),
    ("createvm.yml", {"vm": "h1", "memory": 0}, "memory_mib must be between 128"),
    ("createvm.yml", {"vm": "h1", "memory": -512}, "memory_mib must be between 128"),
    ("createvm.yml", {"vm": "h1", "cpu": 0}, "vcpus must be between 1"),
    ("createvm.yml", {"vm": "h1", "cpu": -4}, "vcpus must be between 1"),
    ("createvm.yml", {"vm": "h1", "memory": 200000}, "no node can take"),
    ("createvm.yml", {"vm": "h1", "cpu": 64}, "no node can take"),
    ("createvm.yml", {"vm": "h1", "ip": "10.88.0.5"}, "outside the subnet 10.77.0.0/24"),
    ("createvm.yml", {"vm": "h1", "ip": "10.77.0.0"}, "network address"),
    ("createvm.yml", {"vm": "h1", "ip": "10.77.0.255"}, "broadcast address"),
    ("createvm.yml", {"vm": "h1", "ip": "WEB1_IP"}, "already in use"),
    ("createvm.yml", {"vm": "h1", "image": "/etc/passwd"}, "outside the image directory"),
    ("createvm.yml", {"vm": "h1", "image": "../../../etc/shadow"}, "must not contain '..'"),
    ("createvm.yml", {"vm": "h1", "image": "missing.qcow2"}, "does not exist"),
    ("createvm.yml", {"vm": "h1", "disk": 1}, "smaller than the base image"),
    ("createvm.yml", {"vm": "h1", "node": "node9"}, "node node9 is not a hypervisor"),
    # Ganglia would keep its metrics under the node's name: placement would read the VM's load as node1's
    ("createvm.yml", {"vm": "node1"}, "VM name 'node1' is the name of a node of the cluster"),
    ("createvm.yml", {"vm": "h1", "owner": "bad owner"}, "owner 'bad owner' is not valid"),
    ("clonevm.yml", {"vm": "h1", "source": "web1", "owner": "alice"}, "shut it down first"),
    ("clonevm.yml", {"vm": "h1", "source": "ghost"}, "no VM named ghost"),
    ("deletevm.yml", {"vm": "ghost"}, "no VM named ghost"),
    ("vm_state.yml", {"vm": "web1", "operation": "explode"}, "operation must be one of"),
    # createexistingvm's img= is an image of the image directory, never a VM's disk; an image VMs need stays
    ("createexistingvm.yml", {"vm": "h1", "img": "/var/lib/cloud1/images/web1.qcow2"}, "outside the image directory"),
    ("createexistingvm.yml", {"vm": "h1", "img": "../web1.qcow2"}, "must not contain '..'"),
    ("createexistingvm.yml", {"vm": "h1", "img": "web1.qcow2"}, "does not exist"),
    ("createexistingvm.yml", {"vm": "h1", "img": "debian12.qcow2", "job_type": "create"},
     "job_type=create would delete the image debian12.qcow2, which web1"),
    ("getips.yml", {"count": 0}, "count must be at least 1"),
]


def main():
    web1_node, web1_state = boxlib.vm_state("web1")
    if not boxlib.check(web1_state == "running", "precondition: web1 runs (on %s)" % web1_node):
        boxlib.finish()
    web1_ip = [ip for ip, vm in boxlib.leases() if vm == "web1"][0]
    cases = [(book, {k: (web1_ip if v == "WEB1_IP" else v) for k, v in extra.items()}, message)
             for book, extra, message in CASES]
    boxlib.refusals(cases, extra={"owner": "mallory"})
    boxlib.check(not os.path.exists(TOUCHED), "no shell ran the name")
    boxlib.finish()


if __name__ == "__main__":
    main()
