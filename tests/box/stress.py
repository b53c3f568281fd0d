#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""`make stress`: N concurrent createvm.yml runs on the box (default 20, distinct names), then what they left.

Prints each run's outcome (address, or the failure's message), the distinct addresses, address clashes
(two VMs or leases with one address), orphans (a disk without a domain, a lease without a VM, a
reservation still held) and the time; deletes the VMs afterwards (--keep keeps them). Not a CI step: 20 TCG
guests saturate this machine's two cores for a while. Exit status 0 only for N VMs, 0 clashes, 0 orphans.
Usage: .venv/bin/python tests/box/stress.py [--count N] [--memory MiB] [--ssh-timeout S] [--keep]
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

import boxlib


def createvm(name, memory, ssh_timeout):
    return subprocess.Popen([boxlib.ANSIBLE_PLAYBOOK, "-i", boxlib.INVENTORY,
                             os.path.join(boxlib.REPO, "playbooks", "createvm.yml"), "-e", "owner=stress",
                             "-e", "memory=%d" % memory, "-e", "cpu=1", "-e", "vm=%s" % name,
                             "-e", "ssh_timeout=%d" % ssh_timeout],
                            cwd=boxlib.REPO, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def failure(out):
    """The last task message of a failed run (its reason), or the output's end."""
    found = re.findall(r"msg: '?(.*)", out)
    return (found[-1] if found else out.strip()[-300:])[:300]


def serial_tail(node, name, lines=40):
    """The end of a VM's serial console log on ``node`` (kernel panics, systemd's last words) and QEMU's
    shutdown reason from libvirt's log of it."""
    log = "/var/log/libvirt/qemu/%s" % name
    res = boxlib.ssh_node(node, "tail -n %d %s-serial.log 2>&1; grep -h 'reason=' %s.log 2>/dev/null | tail -n 3"
                          % (lines, log, log))
    return "---- %s on %s: serial console (last %d lines), QEMU's reasons\n%s" % (name, node, lines, res.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--memory", type=int, default=256)
    ap.add_argument("--ssh-timeout", type=int, default=1800,
                    help="seconds each guest has to answer SSH (20 TCG boots share two cores)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    names = ["stress%02d" % i for i in range(1, args.count + 1)]
    before_disks = set(boxlib.disks())
    t0 = time.monotonic()
    procs = {name: createvm(name, args.memory, args.ssh_timeout) for name in names}
    outs = {name: proc.communicate(timeout=7200)[0] for name, proc in procs.items()}
    took = time.monotonic() - t0
    leases = boxlib.leases()
    lease_of = {vm: ip for ip, vm in leases}
    domains = boxlib.domains()
    defined = collections.Counter(vm for doms in domains.values() for vm in doms)
    ok = [n for n in names if procs[n].returncode == 0]
    for name in names:
        print("%s: %s" % (name, ("running at %s" % lease_of.get(name)) if procs[name].returncode == 0
                          else "FAILED: %s" % failure(outs[name])), flush=True)
    for name in names:   # a guest that crashed or never answered: what its serial console and QEMU said
        if procs[name].returncode != 0:
            for node in [node for node, doms in domains.items() if name in doms]:
                print(serial_tail(node, name), flush=True)
    ips = [lease_of.get(n) for n in ok]
    by_ip = collections.Counter(ip for ip, _vm in leases)
    clashes = sorted(ip for ip, n in by_ip.items() if n > 1) + sorted(n for n in names if defined[n] > 1)
    disks = set(boxlib.disks()) - before_disks
    orphans = sorted("disk %s (no domain)" % d for d in disks if d[:-len(".qcow2")] not in defined)
    orphans += sorted("lease %s of %s (no VM)" % (ip, vm) for ip, vm in leases if vm in names and not defined[vm])
    orphans += sorted("reservation of %s still held" % n for n in names if boxlib.lease_state(n) == "creating")
    print(json.dumps({"asked": args.count, "created": len(ok), "distinct_addresses": len(set(ips)),
                      "clashes": clashes, "orphans": orphans, "failures": len(names) - len(ok),
                      "seconds": round(took, 1)}, indent=2))
    print("%d/%d VMs, %d distinct addresses, %d clashes, %d orphans in %.0f s" % (
        len(ok), args.count, len(set(ips)), len(clashes), len(orphans), took))
    if not args.keep:
        for name in [n for n in names if defined[n]]:
            boxlib.playbook("deletevm.yml", {"vm": name})
    sys.exit(0 if len(ok) == args.count and not clashes and not orphans else 1)


if __name__ == "__main__":
    main()
