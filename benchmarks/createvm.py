#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark: createvm.yml against the same steps done by hand with the raw tools, in the same run.

  raw sysprep:  qemu-img create (linked clone) on the node, virt-sysprep (fresh identity, hostname, root key,
                static address), libvirt define + start (libvirt-python), wait for SSH: the seed's path
  raw guestfs:  the same with the collection's injection instead of virt-sysprep (one libguestfs session, host
                keys made on the node), called by hand on the node
  raw smbios:   the same settings as the domain's SMBIOS strings, applied by the image's first boot (no
                appliance; the guest makes its own host keys)
  createvm:     ansible-playbook playbooks/createvm.yml with the default injection (auto: smbios for the
                collection's image) and -e inject=guestfs, -e inject=sysprep (survey, placement, lease,
                check, the same steps, SSH, the host keys recorded)

All on the same node of the cluster-in-a-box, one after the other, --rounds times; prints each time, its
steps, and the ratios against the raw virt-sysprep path (request to SSH). Needs the box up and converged.
Usage: .venv/bin/python benchmarks/createvm.py [--rounds N] [--node node1]
"""

import argparse
import json
import os
import shlex
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "box"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "build", "collections"))
import boxlib  # noqa: E402
import libvirt  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.core import guestprep  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import build_domain  # noqa: E402

RAW_IP = "10.77.0.199"   # the top of the box's guest range; checked free before use


# the collection's injection, called by hand on the node (the ganglia role installs module_utils there)
BY_HAND = """
import json, sys
sys.path.insert(0, "/usr/local/lib/cloud1-iaas")
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import inject
a = json.loads(sys.argv[1])
keys = inject.make_host_keys("root@" + a["name"])
print(json.dumps(inject.inject(a["disk"], software_emulation=True, hostname=a["name"], ssh_key=a["key"],
                               address=a["address"], host_keys=keys)["seconds"]))
"""


def raw(node, name, memory, method):
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
    if method == "sysprep":
        res = boxlib.ssh_node(node, "LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg virt-sysprep -q "
                              "--format qcow2 -a %s --operations machine-id,ssh-hostkeys,customize --hostname %s "
                              "--ssh-inject 'root:string:%s' --write $'/etc/systemd/network/10-eth0.network:%s'"
                              % (disk, name, key, net))
    elif method == "smbios":
        res = None
    else:
        request = {"name": name, "disk": disk, "key": key,
                   "address": {"ip": RAW_IP, "prefix": 24, "gateway": v["cloud1_gateway"], "dns": []}}
        res = boxlib.ssh_node(node, "/usr/bin/python3 -c %s %s" % (shlex.quote(BY_HAND), shlex.quote(json.dumps(request))))
    assert res is None or res.returncode == 0, res.stderr
    steps[method] = time.monotonic() - t0 - sum(steps.values())
    oem = None
    if method == "smbios":
        oem = guestprep.smbios_strings("bench-%s-%d" % (name, time.time()), hostname=name, ssh_key=key,
                                       address={"ip": RAW_IP, "prefix": 24, "gateway": v["cloud1_gateway"], "dns": []})
    conn = libvirt.open(boxlib.node_uris()[node])
    dom = conn.defineXML(build_domain({"name": name, "domain_type": "qemu", "vcpus": 1, "memory_mib": memory,
                                       "disk": disk, "bridge": "br0", "oem_strings": oem}))
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


def playbook(node, name, memory, inject):
    extra = {"vm": name, "owner": "bench", "memory": memory, "cpu": 1, "node": node}
    if inject != "default":
        extra["inject"] = inject
    rc, out, took = boxlib.playbook("createvm.yml", extra)
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
    times = {"raw sysprep": [], "raw guestfs": [], "raw smbios": [], "createvm default": [], "createvm guestfs": [],
             "createvm sysprep": []}
    for i in range(args.rounds):
        for method in ("sysprep", "guestfs", "smbios"):
            total, steps = raw(args.node, "bench-raw%d" % i, args.memory, method)
            times["raw " + method].append(total)
            detail = ", ".join("%s %.1f" % kv for kv in steps.items())
            print("round %d raw %-8s %6.1f s  (%s)" % (i + 1, method, total, detail), flush=True)
        for inject in ("default", "guestfs", "sysprep"):
            took = playbook(args.node, "bench-pb%d" % i, args.memory, inject)
            times["createvm " + inject].append(took)
            print("round %d createvm inject=%-8s %6.1f s" % (i + 1, inject, took), flush=True)
    med = {what: statistics.median(values) for what, values in times.items()}
    base = med["raw sysprep"]
    print("median of %d round(s), node %s, %d MiB, 1 vCPU, TCG; ratio against the raw virt-sysprep path:"
          % (args.rounds, args.node, args.memory))
    for what, value in med.items():
        print("  %-18s %6.1f s  ratio %.2f" % (what, value, value / base))
    print("target: createvm (default injection) <= 0.60 x raw sysprep: %.2f" % (med["createvm default"] / base))


if __name__ == "__main__":
    main()
