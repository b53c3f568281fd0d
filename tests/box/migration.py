#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""The migration scenario's checks on the box, in phases (each a command line argument). mig1 (owner dave,
256 MiB, on node0) is made by the scenario's converge; its disk is on the box's GlusterFS volume.

  live      a counter written every second inside mig1 keeps counting across migrate.yml to node1 (no gap
            longer than the period plus the reported downtime plus a second); mig1 then runs on node1,
            persistent there, gone from node0, with its snapshot; the registry (userdetails) says node1;
            --check says it would go
  kill      migrate.yml to node2 slowed to 4 MiB/s; node2's libvirtd killed once the transfer is under way:
            mig1 still runs on node1 with its snapshot, a file's sha256 is unchanged, the error says what happened
  timeout   slowed to 2 MiB/s with a 4 s completion timeout: abort leaves it on node1, force completes the move
            to node2 (paused, sent without limit, resumed there)
  refused   to the node it is on, to an unknown node, and a VM whose disk is local (not shared): each refused
            with its message, the cluster's domains, disks and leases unchanged
  delete    deletevm.yml removes mig1
"""

import os
import re
import subprocess
import sys
import threading
import time

import boxlib

VM = "mig1"


def ip():
    return {v: a for a, v in boxlib.leases()}.get(VM)


def guest(command, timeout=60):
    return boxlib.guest_read(ip(), command, timeout=timeout)


def where():
    """{node: (state, persistent)} of mig1 on every node that has it."""
    return boxlib.each_domain(VM, lambda dom: (dom.state()[0], bool(dom.isPersistent())))


def snapshots():
    """{node: [snapshot names]} of mig1."""
    return boxlib.each_domain(VM, lambda dom: sorted(snap.getName() for snap in dom.listAllSnapshots(0)))


def migrate(to, check_mode=False, **extra):
    return boxlib.playbook("migrate.yml", dict(extra, vm=VM, to=to), check_mode=check_mode)


def live():
    rc, out, took = migrate("node1", check_mode=True)
    boxlib.check(rc == 0 and "every disk is on storage the destination shares" in out and where() == {"node0": (1, True)},
                 "migrate.yml --check: every check passes, nothing moved (%.1fs)" % took)
    rc, _out, _took = boxlib.playbook("snapshot.yml", {"vm": VM, "operation": "create", "snapshot": "before-move"})
    boxlib.check(rc == 0 and snapshots() == {"node0": ["before-move"]}, "snapshot before-move of %s on node0" % VM)
    guest("systemd-run --unit=cloud1-counter /bin/sh -c "
          "'i=0; while :; do i=$((i+1)); echo $i $(date +%s.%N) >> /root/counter; sleep 1; done'")
    time.sleep(5)
    rc, out, took = migrate("node1")
    boxlib.check(rc == 0, "migrate.yml -e vm=%s -e to=node1 (%.1fs)" % (VM, took))
    if rc != 0:
        print(out[-3000:])
    time.sleep(5)
    match = re.search(r"total (\d+) ms, downtime (\d+) ms, ([\d.]+) MiB sent", out)
    downtime = int(match.group(2)) / 1000.0 if match else None
    lines = [line.split() for line in (guest("cat /root/counter") or "").splitlines()]
    counts = [int(n) for n, _t in lines]
    stamps = [float(t) for _n, t in lines]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    boxlib.check(counts == list(range(1, len(counts) + 1)) and len(counts) >= 8,
                 "the counter kept counting: %d counts, none missing or repeated" % len(counts))
    boxlib.check(downtime is not None and gaps and max(gaps) <= 1.0 + downtime + 1.0,
                 "longest gap between counts %.2f s <= 1 s period + downtime %s s + 1 s (total %s ms, %s MiB sent)"
                 % (max(gaps or [0]), downtime, match and match.group(1), match and match.group(3)))
    boxlib.check(where() == {"node1": (1, True)}, "%s runs on node1, persistent there, gone from node0: %s" % (VM, where()))
    boxlib.check(snapshots() == {"node1": ["before-move"]} and "defined on node1 after: 1" in re.sub(r"\s+", " ", out),
                 "its snapshot came along (metadata set aside, defined on node1): %s" % snapshots())
    rc, out, _took = boxlib.playbook("userdetails.yml")
    boxlib.check(rc == 0 and re.search(r"name: %s\n\s+node: node1\n" % VM, out) is not None,
                 "userdetails.yml (the registry) shows %s on node1" % VM)
    guest("systemctl stop cloud1-counter")
    rc, out, _took = boxlib.playbook("migrate.yml", {"from_node": "node0", "to_node": "node1", "vm": VM})
    boxlib.check(rc == 0 and boxlib.recap_changed(out) == 0 and "already on node1 (moved from node0)" in out,
                 "the seed's form again (from_node=node0 to_node=node1): nothing to do, changed=0")


def job_under_way(node, timeout=120):
    """Wait until mig1's migration job on ``node`` has sent part of its data."""
    deadline = time.monotonic() + timeout
    uri = boxlib.node_uris()[node]
    while time.monotonic() < deadline:
        conn = boxlib.open_node(uri)
        try:
            stats = conn.lookupByName(VM).jobStats(0)
        except boxlib.libvirt.libvirtError:
            stats = {}
        finally:
            conn.close()
        if stats.get("memory_total") and stats.get("memory_remaining", 0) < stats["memory_total"]:
            return stats
        time.sleep(0.5)
    return None


def kill():
    guest("head -c 30M /dev/urandom > /root/keep.bin; sync")
    sha = guest("sha256sum /root/keep.bin")
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(zip(("rc", "out", "took"), migrate("node2", bandwidth=4))))
    runner.start()
    stats = job_under_way("node1")
    boxlib.check(stats is not None, "the migration to node2 is under way: %s of %s bytes sent" % (
        stats and stats.get("memory_processed"), stats and stats.get("memory_total")))
    res = boxlib.ssh_node("node2", "pkill -9 -x libvirtd && echo killed")
    boxlib.check(res.stdout.strip() == "killed", "node2's libvirtd killed mid-migration")
    runner.join(600)
    boxlib.check(outcome.get("rc") not in (0, None) and "still defined on the source, running" in outcome.get("out", ""),
                 "migrate.yml failed and says the VM is still on the source, running: %s" % (
                     re.findall(r"msg: '?(migration of .*?(?:running|source)[^']*)", outcome.get("out", "").replace("\n        ", " "))[:1]))
    time.sleep(3)
    state = where()
    boxlib.check(state == {"node1": (1, True)}, "%s still runs on node1 only, persistent: %s" % (VM, state))
    boxlib.check(guest("sha256sum /root/keep.bin") == sha, "the file on its disk has the same sha256")
    boxlib.check(snapshots() == {"node1": ["before-move"]} and "defined on the source again" in outcome.get("out", ""),
                 "its snapshot is defined on the source again: %s" % snapshots())


CRASH = """
import sys
sys.path.insert(0, '/tmp/cloud1-crash')
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import migration
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient
with LibvirtClient('qemu:///system') as c:
    dom = c.lookup('%s')
    print(len(migration.lift_snapshots(dom, dom.describe())), migration.stash_path(dom.describe()))
""" % VM


def crash():
    """A migration that dies right after lifting the snapshots (the collection's own lift_snapshots, run on node1
    and then nothing more) loses no snapshot: the metadata is on the shared disk, and migrate.yml run again
    defines it first and carries it along."""
    boxlib.ssh_node("node1", "rm -rf /tmp/cloud1-crash && mkdir -p /tmp/cloud1-crash")
    subprocess.run(["scp", "-q", "-F", os.path.join(boxlib.BOX, "ssh_config"), "-r",
                    os.path.join(boxlib.REPO, "build", "collections", "ansible_collections"), "node1:/tmp/cloud1-crash/"],
                   check=False, timeout=120)
    res = subprocess.run(["ssh", "-F", os.path.join(boxlib.BOX, "ssh_config"), "node1", "/usr/bin/python3", "-"],
                         input=CRASH, capture_output=True, text=True, timeout=120, check=False)
    lifted, _sep, stash = res.stdout.strip().partition(" ")
    kept = boxlib.ssh_node("node0", "cat %s" % stash).stdout if stash else ""
    boxlib.check(lifted == "1" and snapshots() == {"node1": []} and "before-move" in kept,
                 "the interrupted migration left mig1 without snapshot metadata, kept in %s (read on node0 too: "
                 "shared storage)" % (stash or res.stderr[-300:]))
    rc, out, took = migrate("node0")
    flat = re.sub(r"\s+", " ", out)
    boxlib.check(rc == 0 and "defined again on node1 the snapshot(s) an interrupted migration kept aside: before-move"
                 in flat, "migrate.yml run again defines the kept snapshot first, then moves (%.1fs)" % took)
    if rc != 0:
        print(out[-3000:])
    gone = boxlib.ssh_node("node0", "test -e %s && echo kept || echo gone" % stash).stdout.strip()
    boxlib.check(snapshots() == {"node0": ["before-move"]} and gone == "gone",
                 "the snapshot came along to node0 and the stash is gone: %s, %s" % (snapshots(), gone))
    rc, _out, _took = migrate("node1")
    boxlib.check(rc == 0 and where() == {"node1": (1, True)}, "mig1 back on node1 for the next phase")
    boxlib.ssh_node("node1", "rm -rf /tmp/cloud1-crash")


def killmig():
    """migrate.yml killed (SIGKILL to the whole controller run) while the memory moves: the module on node1 goes
    on; run again at once, migrate.yml refuses while the move is under way (nothing changed); run again after it,
    it converges (mig1 on node2 only, its snapshot with it, no stash left)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    proc = subprocess.Popen([boxlib.ANSIBLE_PLAYBOOK, "-i", boxlib.INVENTORY,
                             os.path.join(boxlib.REPO, "playbooks", "migrate.yml"), "-e", "vm=%s" % VM,
                             "-e", "from_node=node1", "-e", "to_node=node2", "-e", "bandwidth=4"], cwd=boxlib.REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    stats = job_under_way("node1")
    if proc.poll() is None:
        boxlib.kill_run(proc)
    else:
        proc.communicate()
    boxlib.check(stats is not None, "the controller's run killed while the move was under way")
    again = {"from_node": "node1", "to_node": "node2", "vm": VM}   # the same request as the killed run
    rc, out, took = boxlib.playbook("migrate.yml", again)
    flat = re.sub(r"\s+", " ", out)
    boxlib.check(rc != 0 and "is being migrated from node1 to node2" in flat,
                 "run again at once: refused while the earlier move is under way (%.1fs)" % took)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and where() != {"node2": (1, True)}:
        time.sleep(2)
    rc, out, took = boxlib.playbook("migrate.yml", again)
    flat = re.sub(r"\s+", " ", out)
    boxlib.check(rc == 0 and "is already on node2 (moved from node1)" in flat and where() == {"node2": (1, True)},
                 "run again after it: %s is on node2 only, nothing left to do (%.1fs)" % (VM, took))
    stash = boxlib.ssh_node("node0", "ls /var/lib/cloud1/images/.cloud1-snapshots/ 2>/dev/null").stdout.split()
    boxlib.check(snapshots() == {"node2": ["before-move"]} and "%s.json" % VM not in stash,
                 "its snapshot is on node2 and no stash is left: %s, %s" % (snapshots(), stash))
    rc, _out, _took = migrate("node1")
    boxlib.check(rc == 0 and where() == {"node1": (1, True)}, "mig1 back on node1 for the next phase")


def timeout():
    rc, out, took = migrate("node2", bandwidth=2, timeout=4, timeout_action="abort")
    flat = re.sub(r"\s+", " ", out)
    ok = rc != 0 and "aborted after 4 s (timeout_action=abort)" in flat and "still defined on the source, running" in flat
    boxlib.check(ok, "bandwidth 2 MiB/s, timeout 4 s, abort: aborted, the VM runs on the source (%.1fs)%s"
                 % (took, "" if ok else " - rc %d, the watcher: %s" % (rc, watcher_said(out))))
    if not (rc != 0 and "aborted after 4 s (timeout_action=abort)" in flat):
        print(out[-3000:])   # the module's result (forced, progress samples) says what the watcher saw
    boxlib.check(where() == {"node1": (1, True)}, "%s on node1 only: %s" % (VM, where()))
    rc, out, took = migrate("node2", bandwidth=2, timeout=4, timeout_action="force")
    flat = re.sub(r"\s+", " ", out)
    boxlib.check(rc == 0 and "paused the VM after 4 s so the migration completes" in flat,
                 "bandwidth 2 MiB/s, timeout 4 s, force: completed after a pause (%.1fs)" % took)
    boxlib.check(where() == {"node2": (1, True)}, "%s runs on node2 only, persistent: %s" % (VM, where()))
    boxlib.check(boxlib.wait_ssh(ip(), timeout=60), "%s answers SSH on node2" % VM)


def watcher_said(out):
    """What the module's watcher recorded (its forced/failed words and its last progress samples), for a failed
    check's own line: CI prints the check lines, not the run's output."""
    said = re.findall(r'"(?:forced|msg)": "([^"]{0,600})', out)
    samples = re.findall(r"\[\s*([0-9.]+),\s*([0-9.]+)\s*\]", out)
    return "%s; progress %s" % (" | ".join(said) or "nothing", samples[-4:])


def refused():
    local = "local1"
    v = boxlib.box_vars()
    # a VM whose disk is on node0's own disk (/var/lib/libvirt/images), not on the shared storage
    args = ("name=%s owner=alice image=%s image_dir=%s disk_dir=/var/lib/libvirt/images bridge=br0 memory_mib=128"
            % (local, v["cloud1_base_image"], v["cloud1_image_dir"]))
    res = vm_module("node0", args + " state=running")
    boxlib.check(res.returncode == 0, "local1 runs on node0 with its disk in /var/lib/libvirt/images")
    before = boxlib.cluster_state()
    cases = [
        ({"vm": VM, "to": "node2"}, "%s is already on node2: the destination is the node it runs on" % VM),
        ({"vm": VM, "to": "node9"}, "unknown node node9: choose one of"),
        ({"vm": local, "to": "node1"}, "is not on shared storage"),
        ({"from_node": "node1", "to_node": "node0", "vm": VM}, "%s is on node2, not on node1" % VM),
    ]
    for extra, text in cases:
        rc, out, took = boxlib.playbook("migrate.yml", extra)
        flat = re.sub(r"\s+", " ", out)
        boxlib.check(rc != 0 and text in flat, "migrate.yml %s refused in %.1fs: '%s'" % (extra, took, text))
        if not (rc != 0 and text in flat):
            print(out[-2500:])
    boxlib.check(boxlib.cluster_state() == before, "domains, disks and leases unchanged")
    res = vm_module("node0", args + " state=absent")
    boxlib.check(res.returncode == 0, "local1 deleted")


def vm_module(node, args):
    """The vm module on ``node`` (ad hoc)."""
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "-i", boxlib.INVENTORY, node,
                           "-m", "cloud1.iaas.vm", "-a", args],
                          capture_output=True, text=True, timeout=300, check=False, cwd=boxlib.REPO)


def delete():
    rc, out, took = boxlib.playbook("deletevm.yml", {"vm": VM})
    boxlib.check(rc == 0 and where() == {}, "deletevm.yml removes %s (%.1fs)" % (VM, took))
    # aborted, cancelled and killed moves leave no QEMU behind that libvirt no longer lists (a process like that
    # would load the nodes for the later scenarios)
    left = {}
    for node in sorted(boxlib.node_uris()):
        res = boxlib.ssh_node(node, "pgrep -a qemu-system || true")
        left[node] = res.stdout.strip() if res.returncode == 0 else "unread: %s" % res.stderr.strip()
    boxlib.check(not any(left.values()), "no QEMU process is left on any node: %s" % left)


if __name__ == "__main__":
    boxlib.run_phases({name: globals()[name] for name in sys.argv[1:]}, sys.argv[1:])
