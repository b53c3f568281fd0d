#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""The scaling scenario's checks on the box, in phases (each a command line argument). grow1 (owner carol,
1 of max 2 vCPUs, 384 of max 512 MiB, 4 GiB disk) is made by the scenario's converge.

  disk       scaleup.yml grows the running grow1's disk by 1 GiB: same boot, root +>=0.9 GiB, a file's
             sha256 unchanged; a rerun to the size reached changes nothing; the registry shows 5 GiB
  shrink     scale.yml disk=4 and scaledown.yml disk=4 are refused (xfs), disk and domain unchanged
  live       scale.yml cpu=2 memory=512: live, nproc and MemTotal inside follow; a rerun changes nothing
  nextboot   changecpu.yml size=3 and changememory.yml size=640 (above the maxima): next boot; inside
             unchanged until shutdownvm.yml + startvm.yml, then nproc 3 and MemTotal up
  fallback   with qemu-guest-agent stopped in the guest, the growth goes through SSH
  snapshot   snapshot, change a file, revert: the file's sha256 is the one before
  rotation   keep=2 drops exactly the oldest rotated snapshots, max_age exactly the one older than the age,
             a hand-made snapshot is never touched; the master's timer service takes one of grow1
  delete     deletevm.yml removes grow1 with its snapshots
"""

import json
import re
import sys
import time

import boxlib

VM = "grow1"
GIB = 1024 ** 3


def ip():
    return {v: a for a, v in boxlib.leases()}.get(VM)


def guest(command):
    return boxlib.guest_read(ip(), command, timeout=60)


def root_bytes():
    return int(guest("df -B1 --output=size / | tail -1") or 0)


def on_domain(fn):
    """``fn(dom)`` on grow1 wherever it is defined, or None."""
    found = boxlib.each_domain(VM, fn)
    return next(iter(found.values())) if found else None


def disk_bytes():
    """grow1's disk size from libvirt (block info), and its definition."""
    return on_domain(lambda dom: (dom.blockInfo("vda")[0], dom.XMLDesc(boxlib.libvirt.VIR_DOMAIN_XML_INACTIVE))) or (None, None)


def meminfo_kib():
    return int(re.search(r"MemTotal:\s+(\d+)", guest("cat /proc/meminfo") or "MemTotal: 0").group(1))


def disk():
    guest("head -c 20M /dev/urandom > /root/before.bin; sync")
    sha = guest("sha256sum /root/before.bin")
    boot = guest("cat /proc/sys/kernel/random/boot_id")
    root0 = root_bytes()
    rc, out, took = boxlib.playbook("scaleup.yml", {"vm": VM, "size": 1})
    boxlib.check(rc == 0 and "disk online" in out, "scaleup.yml size=1 on the running %s: disk online (%.1fs)" % (VM, took))
    if rc != 0:
        print(out[-3000:])
    root1 = root_bytes()
    boxlib.check(guest("cat /proc/sys/kernel/random/boot_id") == boot, "same boot (boot_id unchanged): the guest kept running")
    boxlib.check(root1 - root0 >= 0.9 * GIB, "root filesystem grew by %.2f GiB (%d -> %d bytes)" % ((root1 - root0) / GIB, root0, root1))
    boxlib.check(guest("sha256sum /root/before.bin") == sha, "the file written before has the same sha256 after")
    boxlib.check(disk_bytes()[0] == 5 * GIB, "libvirt: the disk is 5 GiB")
    rc, out, _took = boxlib.playbook("scaleup.yml", {"vm": VM, "disk": 5})
    boxlib.check(rc == 0 and boxlib.recap_changed(out) == 0, "scaleup.yml disk=5 again: changed=0")
    rc, out, _took = boxlib.playbook("userdetails.yml")
    boxlib.check(rc == 0 and re.search(r"disk_gib.{0,3}5\.0", out) is not None, "userdetails.yml shows %s with 5.0 GiB" % VM)


def shrink():
    before = (disk_bytes(), boxlib.domains())
    for book, extra, text in (("scale.yml", {"disk": 4}, "xfs) cannot shrink"),
                              ("scaledown.yml", {"disk": 4}, "xfs, which cannot shrink")):
        rc, out, took = boxlib.playbook(book, dict(extra, vm=VM))
        boxlib.check(rc != 0 and text in out, "%s %s refused in %.1fs, the message names xfs" % (book, extra, took))
    boxlib.check((disk_bytes(), boxlib.domains()) == before, "disk size, definition and domains unchanged")


def live():
    boot = guest("cat /proc/sys/kernel/random/boot_id")
    mem0 = meminfo_kib()
    rc, out, took = boxlib.playbook("scale.yml", {"vm": VM, "cpu": 2, "memory": 512})
    boxlib.check(rc == 0 and "vCPUs live, memory live" in out, "scale.yml cpu=2 memory=512: both live (%.1fs)" % took)
    time.sleep(5)   # the balloon deflates in the guest's time
    nproc = guest("nproc")
    boxlib.check(nproc == "2", "nproc inside: %s" % nproc)
    if nproc != "2":
        print(out[-2500:])
    mem1 = meminfo_kib()
    boxlib.check(mem1 - mem0 > 100 * 1024, "MemTotal inside %d -> %d KiB (+128 MiB asked)" % (mem0, mem1))
    boxlib.check(guest("cat /proc/sys/kernel/random/boot_id") == boot, "no reboot")
    rc, out, _took = boxlib.playbook("scale.yml", {"vm": VM, "cpu": 2, "memory": 512})
    boxlib.check(rc == 0 and boxlib.recap_changed(out) == 0, "the same request again: changed=0")


def nextboot():
    mem0 = meminfo_kib()
    rc, out, _took = boxlib.playbook("changecpu.yml", {"vm": VM, "size": 3})
    boxlib.check(rc == 0 and "vCPUs next boot" in out, "changecpu.yml size=3 (above the maximum 2): next boot")
    rc, out, _took = boxlib.playbook("changememory.yml", {"vm": VM, "size": 640})
    boxlib.check(rc == 0 and "memory next boot" in out, "changememory.yml size=640 (above the maximum 512): next boot")
    boxlib.check(guest("nproc") == "2", "inside still 2 vCPUs before the power cycle")
    for book in ("shutdownvm.yml", "startvm.yml"):
        rc, out, _took = boxlib.playbook(book, {"vm": VM})
        boxlib.check(rc == 0, "%s" % book)
    boxlib.check(boxlib.wait_ssh(ip()), "%s answers SSH after the power cycle" % VM)
    time.sleep(5)
    boxlib.check(guest("nproc") == "3", "after shutdown + start: nproc %s" % guest("nproc"))
    mem1 = meminfo_kib()
    boxlib.check(mem1 - mem0 > 100 * 1024, "after shutdown + start: MemTotal %d -> %d KiB" % (mem0, mem1))


def fallback():
    guest("systemctl stop qemu-guest-agent")
    sha = guest("sha256sum /root/before.bin")
    root0 = root_bytes()
    rc, out, took = boxlib.playbook("scaleup.yml", {"vm": VM, "size": 1})
    boxlib.check(rc == 0 and "(ssh)" in out, "agent stopped: the growth went through SSH (%.1fs)" % took)
    boxlib.check(root_bytes() - root0 >= 0.9 * GIB, "root grew by %.2f GiB" % ((root_bytes() - root0) / GIB))
    boxlib.check(guest("sha256sum /root/before.bin") == sha, "file unchanged")
    guest("systemctl start qemu-guest-agent")


def snap(operation, **extra):
    return boxlib.playbook("snapshot.yml", dict(extra, vm=VM, operation=operation))


def snapshots():
    """[(name, created)] of grow1, oldest first, from libvirt."""
    def read(dom):
        out = [(snap.getName(), int(re.search(r"<creationTime>(\d+)", snap.getXMLDesc(0)).group(1)))
               for snap in dom.listAllSnapshots(0)]
        return sorted(out, key=lambda x: (x[1], x[0]))
    return on_domain(read) or []


def snapshot():
    guest("echo original > /root/state.txt; sync")
    sha = guest("sha256sum /root/state.txt")
    rc, out, took = snap("create", snapshot="before-change")
    boxlib.check(rc == 0 and "before-change" in [n for n, _c in snapshots()], "snapshot before-change taken (%.1fs)" % took)
    guest("echo changed > /root/state.txt; sync")
    boxlib.check(guest("sha256sum /root/state.txt") != sha, "the file changed")
    rc, out, took = snap("revert", snapshot="before-change")
    boxlib.check(rc == 0, "reverted to before-change (%.1fs)" % took)
    time.sleep(3)
    boxlib.check(guest("sha256sum /root/state.txt") == sha, "after the revert the file's sha256 is the one before the change")
    rc, out, _took = snap("current")
    boxlib.check(rc == 0 and "current: before-change" in out, "current snapshot: before-change")
    rc, out, _took = snap("create", snapshot="before-change")
    boxlib.check(rc == 0 and boxlib.recap_changed(out) == 0, "creating it again: changed=0")


def rotation():
    taken = []
    for i in range(4):
        rc, out, _took = snap("rotate", take=True, keep=100)
        taken.append(rc)
        if i == 0:
            time.sleep(20)   # the first one clearly older than the rest (for max_age)
    auto = [(n, c) for n, c in snapshots() if n.startswith("auto-")]
    boxlib.check(taken == [0, 0, 0, 0] and len(auto) == 4, "4 rotated snapshots taken: %s" % [n for n, _c in auto])
    # max_age: exactly the first (20 s older than the second) is older than the age given (10 s margins)
    age = int(time.time() - auto[0][1]) - 10
    rc, out, _took = snap("rotate", max_age="%ds" % age)
    left = [n for n, _c in snapshots()]
    boxlib.check(rc == 0 and auto[0][0] not in left and all(n in left for n, _c in auto[1:]),
                 "max_age=%ds dropped exactly %s" % (age, auto[0][0]))
    rc, out, _took = snap("rotate", keep=2)
    left = [n for n, _c in snapshots()]
    boxlib.check(rc == 0 and [n for n in left if n.startswith("auto-")] == [n for n, _c in auto[2:]],
                 "keep=2 dropped exactly the oldest (%s), kept %s" % (auto[1][0], [n for n, _c in auto[2:]]))
    boxlib.check("before-change" in left, "the hand-made snapshot is not rotated")
    master = sorted(boxlib.inventory()["all"]["children"]["master"]["hosts"])[0]
    res = boxlib.ssh_node(master, "systemctl is-enabled cloud1-snapshot-rotate.timer && "
                                  "systemctl start cloud1-snapshot-rotate.service && "
                                  "journalctl -u cloud1-snapshot-rotate.service -n 20 --no-pager -o cat")
    after = [n for n, _c in snapshots()]
    new = [n for n in after if n.startswith("auto-") and n not in left]
    boxlib.check(res.returncode == 0 and len(new) == 1, "the master's timer service took %s of %s" % (new, VM))
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    boxlib.check(any(entry.get("vm") == VM and not entry.get("error") for entry in lines),
                 "its report names %s without error" % VM)


def delete():
    rc, out, took = boxlib.playbook("deletevm.yml", {"vm": VM})
    boxlib.check(rc == 0 and boxlib.vm_state(VM)[1] == "absent" and "%s.qcow2" % VM not in boxlib.disks(),
                 "deletevm.yml removes %s, its disk and snapshots (%.1fs)" % (VM, took))


if __name__ == "__main__":
    boxlib.run_phases({name: globals()[name] for name in sys.argv[1:]}, sys.argv[1:])
