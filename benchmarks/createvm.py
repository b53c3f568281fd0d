#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark: createvm.yml against the same steps done by hand with the raw tools, in the same run.

  raw:      qemu-img create (linked clone) on the node, virt-sysprep (hostname, root key, static address),
            libvirt define + start (libvirt-python), wait for SSH
  createvm: ansible-playbook playbooks/createvm.yml (survey, placement, lease, check, the same steps, SSH)

Both on the same node of the cluster-in-a-box, alternating, --rounds times; prints each time and the
ratio createvm / raw (the playbook's overhead). Needs the box up and converged (make demo or the box tier).
Usage: .venv/bin/python benchmarks/createvm.py [--rounds N] [--node node1]
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
from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import build_domain  # noqa: E402

RAW_IP = "10.77.0.199"   # the top of the box's guest range; checked free before use


def raw(node, name, memory):
    v = boxlib.box_vars()
    disk = "%s/%s.qcow2" % (v["cloud1_disk_dir"], name)
    base = os.path.realpath(os.path.join(v["cloud1_image_dir"], v["cloud1_base_image"]))
    key = open(v["cloud1_ssh_public_key_file"]).read().strip()
    net = "[Match]\\nName=eth0\\n\\n[Network]\\nAddress=%s/24\\nGateway=%s\\n" % (RAW_IP, v["cloud1_gateway"])
    t0 = time.monotonic()
    steps = {}
    res = boxlib.ssh_node(node, "qemu-img create -q -f qcow2 -F qcow2 -b %s %s" % (base, disk))
    assert res.returncode == 0, res.stderr
    steps["qemu-img"] = time.monotonic() - t0
    res = boxlib.ssh_node(node, "LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg virt-sysprep -q "
                          "--format qcow2 -a %s --operations machine-id,ssh-hostkeys,customize --hostname %s "
                          "--ssh-inject 'root:string:%s' --write $'/etc/systemd/network/10-eth0.network:%s'"
                          % (disk, name, key, net))
    assert res.returncode == 0, res.stderr
    steps["virt-sysprep"] = time.monotonic() - t0 - sum(steps.values())
    conn = libvirt.open(boxlib.node_uris()[node])
    dom = conn.defineXML(build_domain({"name": name, "domain_type": "qemu", "vcpus": 1, "memory_mib": memory,
                                       "disk": disk, "bridge": "br0"}))
    dom.create()
    steps["define+start"] = time.monotonic() - t0 - sum(steps.values())
    assert boxlib.wait_ssh(RAW_IP, timeout=600), "raw guest never answered SSH"
    steps["ssh"] = time.monotonic() - t0 - sum(steps.values())
    total = time.monotonic() - t0
    dom.destroy()
    dom.undefine()
    conn.close()
    boxlib.ssh_node(node, "rm -f %s" % disk)
    return total, steps


def playbook(node, name, memory):
    rc, out, took = boxlib.playbook("createvm.yml", {"vm": name, "owner": "bench", "memory": memory, "cpu": 1,
                                                     "node": node})
    assert rc == 0, out[-3000:]
    rc, out, _took = boxlib.playbook("deletevm.yml", {"vm": name})
    assert rc == 0, out[-3000:]
    return took


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--node", default="node1")
    ap.add_argument("--memory", type=int, default=384)
    args = ap.parse_args()
    assert RAW_IP not in [ip for ip, _vm in boxlib.leases()], "%s is leased: pick another raw address" % RAW_IP
    raws, books = [], []
    for i in range(args.rounds):
        total, steps = raw(args.node, "bench-raw%d" % i, args.memory)
        raws.append(total)
        print("round %d raw      %6.1f s  (%s)" % (i + 1, total, ", ".join("%s %.1f" % kv for kv in steps.items())),
              flush=True)
        took = playbook(args.node, "bench-pb%d" % i, args.memory)
        books.append(took)
        print("round %d createvm %6.1f s" % (i + 1, took), flush=True)
    r, b = statistics.median(raws), statistics.median(books)
    print("createvm.yml %.1f s / raw tools %.1f s = ratio %.2f (median of %d round(s), node %s, %d MiB, TCG)"
          % (b, r, b / r, args.rounds, args.node, args.memory))


if __name__ == "__main__":
    main()
