#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark: growing a running VM's disk by 1 GiB online (scaleup.yml) against the offline path the seed
took (shut down, resize the image, boot, grow inside), on the same VM in the same run.

  online:   ansible-playbook playbooks/scaleup.yml -e vm=... -e size=1 (survey, block resize, growpart,
            pvresize, lvextend -r through qemu-guest-agent); the guest keeps running
  offline:  libvirt-python directly (no playbook overhead): ACPI shutdown and wait until off, resize the
            volume, start, wait for the guest agent, the same growth script through it

Each round does both, alternating, and checks the root filesystem grew by >= 0.9 GiB each time. Prints
each time and the ratio online / offline. Needs the box up and converged (make demo or the box tier); makes
its own VM (bench-grow) and deletes it.
Usage: .venv/bin/python benchmarks/grow.py [--rounds N] [--node node1]
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "box"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "build", "collections"))
import boxlib  # noqa: E402
import libvirt  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import GROW_ROOT
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import Domain, LibvirtClient  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.guest import GuestAccess  # noqa: E402

VM = "bench-grow"
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)   # the agent polls fail until it starts
GIB = 1024 ** 3


def root_bytes(ip):
    res = boxlib.ssh_guest(ip, "df -B1 --output=size / | tail -1", timeout=60)
    assert res.returncode == 0, res.stderr
    return int(res.stdout.strip())


def online(ip):
    before = root_bytes(ip)
    rc, out, took = boxlib.playbook("scaleup.yml", {"vm": VM, "size": 1})
    assert rc == 0 and "disk online" in out, out[-3000:]
    grew = root_bytes(ip) - before
    assert grew >= 0.9 * GIB, "online: root grew by only %d bytes" % grew
    return took


def offline(node, ip):
    before = root_bytes(ip)
    conn = libvirt.open(boxlib.node_uris()[node])
    try:
        dom = conn.lookupByName(VM)
        t0 = time.monotonic()
        dom.shutdown()
        while dom.isActive():
            assert time.monotonic() - t0 < 300, "the guest did not power off"
            time.sleep(0.5)
        steps = {"shutdown": time.monotonic() - t0}
        capacity = dom.blockInfo("vda")[0]
        path = [line.split("'")[1] for line in dom.XMLDesc(0).splitlines() if "<source file=" in line][0]
        conn.storageVolLookupByPath(path).resize(capacity + GIB, 0)
        steps["resize"] = time.monotonic() - t0 - sum(steps.values())
        dom.create()
        guest = GuestAccess(Domain(LibvirtClient(boxlib.node_uris()[node], conn=conn), dom), method="agent", timeout=120)
        while not guest.agent_available():
            assert time.monotonic() - t0 < 600, "the guest agent never answered"
            time.sleep(1)
        steps["boot"] = time.monotonic() - t0 - sum(steps.values())
        rc, _out, err = guest.script(GROW_ROOT)
        assert rc == 0, err
        steps["grow"] = time.monotonic() - t0 - sum(steps.values())
        total = time.monotonic() - t0
    finally:
        conn.close()
    assert boxlib.wait_ssh(ip), "the guest does not answer SSH after the offline growth"
    grew = root_bytes(ip) - before
    assert grew >= 0.9 * GIB, "offline: root grew by only %d bytes" % grew
    return total, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--node", default="node1")
    args = ap.parse_args()
    rc, out, took = boxlib.playbook("createvm.yml", {"vm": VM, "owner": "bench", "memory": 384, "cpu": 1,
                                                     "disk": 4, "node": args.node})
    assert rc == 0, out[-3000:]
    ip = {vm: a for a, vm in boxlib.leases()}[VM]
    print("%s created on %s at %s in %.1f s" % (VM, args.node, ip, took), flush=True)
    ons, offs = [], []
    try:
        for i in range(args.rounds):
            took = online(ip)
            ons.append(took)
            print("round %d online  %6.1f s  (scaleup.yml; the guest kept running)" % (i + 1, took), flush=True)
            total, steps = offline(args.node, ip)
            offs.append(total)
            print("round %d offline %6.1f s  (%s)" % (i + 1, total, ", ".join("%s %.1f" % kv for kv in steps.items())),
                  flush=True)
    finally:
        boxlib.playbook("deletevm.yml", {"vm": VM})
    on, off = statistics.median(ons), statistics.median(offs)
    print("online growth %.1f s / offline growth %.1f s = ratio %.2f (median of %d round(s), +1 GiB each, node %s, TCG)"
          % (on, off, on / off, args.rounds, args.node))


if __name__ == "__main__":
    main()
