#!/usr/bin/env python
"""The balancer on the box: real gmond/gmetad, the collector, real guests, rebalance.yml and proposals.yml.
Not a molecule scenario yet (the `balancer` role and its loop are still to come): run by hand with the box up
and converged and VM bal1 (2 vCPUs) on node1:

  createvm.yml -e vm=bal1 -e owner=erin -e memory=256 -e cpu=2 -e node=node1
  cd tests/box && ../../.venv/bin/python balancing.py forced disk decline

Phases:
  forced   levels set so that node1 is above the forced level while a burner runs in bal1: rebalance.yml moves
           bal1 without consent (a counter inside keeps counting), the proposal is recorded as forced and done
  disk     bal1's root filled past 90 %: a pending disk proposal for erin; mallory cannot approve it (no such
           proposal, nothing changed); erin approves with a limit: the disk grows online to the limit, same
           boot, a file's sha256 unchanged
  decline  a burner held in bal1 with a short wait: a pending CPU proposal; declined: nothing changes and the
           same proposal is not raised again while the load stays
"""

import json
import os
import subprocess
import sys
import time

import boxlib

VM = "bal1"
OWNER = "erin"
FAST = {"wait": 30, "cooldown": 60}


def vm_ip():
    return {v: ip for ip, v in boxlib.leases()}.get(VM)


def rebalance(settings, check=False):
    return boxlib.playbook("rebalance.yml", {"cloud1_balancer_settings": settings}, check_mode=check)


def listed(status=None):
    """The proposals on the master, read with the collection's module through an ad-hoc call."""
    args = {"operation": "list"}
    if status:
        args["status"] = status
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible"), "-i", boxlib.INVENTORY, "master[0]", "-m",
           "cloud1.iaas.balancer_proposals", "-a", json.dumps(args), "-o"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=boxlib.REPO)
    text = res.stdout.split("=>", 1)[1] if "=>" in res.stdout else "{}"
    return json.loads(text).get("proposals", [])


def burner(ip, seconds, loops=2):
    boxlib.ssh_guest(ip, "nohup sh -c 'for i in %s; do timeout %d sh -c \"while :; do :; done\" & done; wait' "
                         ">/dev/null 2>&1 &" % (" ".join(str(i) for i in range(loops)), seconds))


def counter(ip):
    boxlib.ssh_guest(ip, "nohup sh -c 'i=0; while :; do i=$((i+1)); echo $i > /run/counter; sleep 1; done' "
                         ">/dev/null 2>&1 &")


def forced():
    ip = vm_ip()
    node, state = boxlib.vm_state(VM)
    boxlib.check(ip is not None and state == "running", "%s runs on %s at %s" % (VM, node, ip))
    counter(ip)
    burner(ip, 180, loops=1)   # one of the node's 2 CPUs: a target can take it (both would exceed any node)
    time.sleep(40)   # the collector and gmetad see the burner
    before = boxlib.guest_read(ip, "cat /run/counter")
    settings = dict(FAST, high=30, at_once=35, forced=40, reset_high=20, low=1, zero=0, reset_low=2)
    rc, out, _took = rebalance(settings)
    after_node, state = boxlib.vm_state(VM)
    after = boxlib.guest_read(ip, "cat /run/counter")
    moved = [p for p in listed() if p["subject"] == VM and p["kind"] == "move"]
    boxlib.check(rc == 0 and after_node != node and state == "running",
                 "rebalance.yml with node %s above the forced level moved %s to %s" % (node, VM, after_node))
    boxlib.check(bool(moved) and moved[0]["forced"] and moved[0]["status"] == "done",
                 "recorded as forced and done: %s" % (moved[0]["reason"] if moved else out[-800:]))
    boxlib.check(before is not None and after is not None and int(after) > int(before),
                 "the counter inside kept counting across the move (%s -> %s)" % (before, after))
    boxlib.ssh_guest(ip, "pkill -f 'while :' ; true")


def disk():
    ip = vm_ip()
    boot = boxlib.guest_read(ip, "cat /proc/sys/kernel/random/boot_id")
    out = boxlib.guest_read(ip, "df -B1 --output=size,used / | tail -1")
    size, used = (int(x) for x in out.split())
    boxlib.guest_read(ip, "fallocate -l %d /var/tmp/fill && sha256sum /etc/hostname > /var/tmp/sum && echo ok"
                      % (int(size * 0.93) - used))
    time.sleep(40)
    rc, out, _took = rebalance(FAST)
    pending = [p for p in listed("pending") if p["subject"] == VM and p["dimension"] == "disk"]
    boxlib.check(rc == 0 and len(pending) == 1, "a disk proposal for %s is pending for %s" % (VM, OWNER))
    if not pending:
        print(out[-2000:])
        return
    pid = pending[0]["id"]
    rc, out, _took = boxlib.playbook("proposals.yml", {"operation": "approve", "id": pid, "owner": "mallory"})
    boxlib.check(rc != 0 and "there is no proposal %d for mallory" % pid in out
                 and [p["status"] for p in listed() if p["id"] == pid] == ["pending"],
                 "mallory cannot approve erin's proposal (no such proposal; nothing changed)")
    want = int(round(pending[0]["action"]["disk_gib"])) + 1
    rc, out, _took = boxlib.playbook("proposals.yml", {"operation": "approve", "id": pid, "owner": OWNER, "limit": want})
    done = [p for p in listed() if p["id"] == pid]
    root = boxlib.guest_read(ip, "df -B1 --output=size / | tail -1")
    same = boxlib.guest_read(ip, "cat /proc/sys/kernel/random/boot_id") == boot
    intact = boxlib.guest_read(ip, "sha256sum -c /var/tmp/sum >/dev/null && echo intact") == "intact"
    boxlib.check(rc == 0 and done and done[0]["status"] == "done" and same and intact and root is not None
                 and int(root) > size, "erin approves with limit %d GiB: grown online (root %s -> %s bytes), same boot, "
                 "file intact: %s" % (want, size, root, done[0]["outcome"] if done else out[-800:]))
    boxlib.guest_read(ip, "rm -f /var/tmp/fill; echo ok")


def decline():
    ip = vm_ip()
    burner(ip, 240)
    time.sleep(40)
    rebalance(FAST)
    time.sleep(35)
    rc, out, _took = rebalance(FAST)
    pending = [p for p in listed("pending") if p["subject"] == VM and p["dimension"] == "cpu"]
    boxlib.check(rc == 0 and len(pending) == 1, "a CPU proposal for %s after the burner held past the wait" % VM)
    if not pending:
        print(out[-2000:])
        return
    before = boxlib.vm_state(VM)
    rc, out, _took = boxlib.playbook("proposals.yml", {"operation": "decline", "id": pending[0]["id"]})
    rc2, out2, _took = rebalance(FAST)
    again = [p for p in listed() if p["subject"] == VM and p["dimension"] == "cpu"]
    boxlib.check(rc == 0 and rc2 == 0 and boxlib.vm_state(VM) == before and len(again) == 1
                 and again[0]["status"] == "declined",
                 "declined: nothing changed and the proposal is not raised again while the load stays")
    boxlib.ssh_guest(ip, "pkill -f 'while :' ; true")


PHASES = {"forced": forced, "disk": disk, "decline": decline}

if __name__ == "__main__":
    for phase in sys.argv[1:] or list(PHASES):
        PHASES[phase]()
    boxlib.finish()
