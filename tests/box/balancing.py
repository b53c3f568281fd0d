#!/usr/bin/env python
"""The balancer on the box (molecule scenario `rebalancing`; molecule runs scenarios in directory order and this
one needs `default`'s site.yml first): real gmond/gmetad, the collector, a real guest, the balancer role's loop
on the master, rebalance.yml and proposals.yml. The converge creates bal1 (2 vCPUs, erin) on
node1 and installs the loop with short waits, its timer stopped; by hand:

  cd tests/box && ../../.venv/bin/python balancing.py forced disk decline short held delete

Phases (in this order):
  forced   levels set so that node1 is above the forced level while a burner runs in bal1: rebalance.yml moves
           bal1 without consent (a counter inside keeps counting), the proposal is recorded as forced and done
  disk     bal1's root filled past 90 % (gmetad shows it; the forced move's cool-down waited out): a pending disk
           proposal for erin; mallory cannot approve it (no such proposal, nothing changed); erin approves with
           a limit: the disk grows online to the limit, same boot, a file's sha256 unchanged
  decline  a burner held in bal1 with a short wait: a pending CPU proposal; declined: nothing changes and the
           same proposal is not raised again while the load stays
  short    the loop started (its timer on the master): a burner shorter than the wait raises no CPU proposal
  held     a burner held: the loop's watch starts; the loop restarted in the middle of the wait keeps it (same
           start) and raises the move after the original wait; erin approves it: bal1 live-migrates (a counter
           inside keeps counting) and its old node's CPU falls; the loop stopped again
  delete   deletevm.yml removes bal1
"""

import json
import os
import subprocess
import sys
import time

import boxlib

sys.path.insert(0, os.path.join(boxlib.REPO, "build", "collections"))

VM = "bal1"
OWNER = "erin"
FAST = {"wait": 30, "cooldown": 60}
NOW = dict(FAST, cooldown=0)   # the phase right after a move or resize: its cool-down is not what it checks
# decline's burner reads about 80-95 % on bal1 (CI once 81 %): a level well below that, so the hold is not a coin toss
HOT = dict(NOW, high=50, reset_high=30)


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
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=boxlib.REPO)
    except subprocess.TimeoutExpired as exc:
        boxlib.log("the proposals could not be read: no answer in 120 s (load %s): %s"
                   % (os.getloadavg(), (exc.stdout or b"")[-500:]))
        return []
    text = res.stdout.split("=>", 1)[1].strip() if "=>" in res.stdout else "{}"
    try:
        found, _end = json.JSONDecoder().raw_decode(text)   # the one-line result; whatever follows it is not
    except ValueError:
        boxlib.log("the proposals could not be read: %s %s" % (res.stdout[-500:], res.stderr[-500:]))
        return []
    return found.get("proposals", [])


def burner(ip, seconds, loops=2):
    boxlib.ssh_guest(ip, "nohup sh -c 'for i in %s; do timeout %d sh -c \"while :; do :; done\" & done; wait' "
                         ">/dev/null 2>&1 &" % (" ".join(str(i) for i in range(loops)), seconds))


def counter(ip):
    boxlib.ssh_guest(ip, "nohup sh -c 'i=0; while :; do i=$((i+1)); echo $i > /run/counter; sleep 1; done' "
                         ">/dev/null 2>&1 &")


def counted_on(before, after):
    """The counter inside read twice, the second read higher (a failed read is never a pass)."""
    return all(isinstance(x, str) and x.isdigit() for x in (before, after)) and int(after) > int(before)


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
    boxlib.check(counted_on(before, after),
                 "the counter inside kept counting across the move (%s -> %s)" % (before, after))
    boxlib.ssh_guest(ip, "pkill -f 'while :' ; true")


def settled(timeout=120):
    """Wait until bal1's node and bal1 itself read below 20 % CPU in gmetad (a burner's load gone from the
    figures the next cycle reads); True when they do."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        view = gmetad_view() or {}
        node = (view.get("vms", {}).get(VM) or {}).get("node")
        cpu = [(view.get("nodes", {}).get(node) or {}).get("cpu"), (view.get("vms", {}).get(VM) or {}).get("cpu")]
        if node and None not in cpu and max(cpu) < 20:
            return True
        time.sleep(5)
    boxlib.log("%s's load did not settle in %d s" % (VM, timeout))
    return False


def disk():
    ip = vm_ip()
    boot = boxlib.guest_read(ip, "cat /proc/sys/kernel/random/boot_id")
    out = boxlib.guest_read(ip, "rm -f /var/tmp/fill; df -B1 --output=size,used / | tail -1")
    size, used = (int(x) for x in out.split())
    boxlib.guest_read(ip, "fallocate -l %d /var/tmp/fill && sha256sum /etc/hostname > /var/tmp/sum && echo ok"
                      % (int(size * 0.93) - used))
    try:
        # the collector asks the guest agent every 6th round (60 s on the box) and gmetad polls every 10 s: the
        # cycle must read the filled disk, so wait for gmetad to show it rather than for a fixed time
        seen = _figure_at_least("disk", 90, timeout=150)
        boxlib.check(seen is not None, "gmetad shows %s's root filesystem at %s %% (>= 90)" % (VM, seen))
        cooled_down()
        _disk_proposal(ip, boot, size)
    finally:
        boxlib.guest_read(ip, "rm -f /var/tmp/fill; echo ok")


def cooled_down(timeout=180):
    """Wait out bal1's cool-down in the loop's state (the forced move set it with that cycle's setting: a VM
    just moved or resized is left alone until then, whatever the next cycle's setting)."""
    until = ((policy_state() or {}).get("cooldown") or {}).get(VM)
    if until is None:
        return
    left = until - master_now()
    boxlib.log("%s cools down for %.0f s more (the forced move's cool-down)" % (VM, left))
    time.sleep(max(0.0, min(left + 1, timeout)))


def _figure_at_least(dim, level, timeout):
    """bal1's ``dim`` figure in gmetad once it reads at least ``level`` (within ``timeout`` s), else None."""
    t0, fig = time.monotonic(), None
    while time.monotonic() - t0 < timeout:
        fig = ((gmetad_view() or {}).get("vms", {}).get(VM) or {}).get(dim)
        if fig is not None and fig >= level:
            return fig
        time.sleep(5)
    boxlib.log("%s's %s figure in gmetad stayed at %s for %d s" % (VM, dim, fig, timeout))
    return None


def _disk_proposal(ip, boot, size):
    rc, out, _took = rebalance(NOW)
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


def decline():
    ip = vm_ip()
    # a cycle that reads bal1 and its node at rest first: a watch an earlier phase fired (and left disarmed, no
    # cycle having read the load fall since) is armed again, so what follows depends on this phase alone
    settled()
    boxlib.check(rebalance(HOT)[0] == 0, "a cycle reads %s at rest before the burner" % VM)
    burner(ip, 240)
    try:
        time.sleep(40)
        rebalance(HOT)
        time.sleep(35)
        rc, out, _took = rebalance(HOT)
        # bal1's own CPU (grow it) and, when its node reads as hot too, its node's (move it): one proposal or two
        pending = [p for p in listed("pending") if p["subject"] == VM and p["dimension"] == "cpu"]
        boxlib.check(rc == 0 and bool(pending) and len({p["key"] for p in pending}) == len(pending),
                     "a CPU proposal for %s while the burner runs (one per watch): %s"
                     % (VM, [(p["key"], p["reason"]) for p in pending]))
        if not pending:
            print(out[-2000:])
            return
        before = boxlib.vm_state(VM)
        answers = [boxlib.playbook("proposals.yml", {"operation": "decline", "id": p["id"]})[0] for p in pending]
        rc2 = rebalance(HOT)[0]
        keys = {p["key"] for p in pending}
        again = [p for p in listed() if p["key"] in keys]
        boxlib.check(answers == [0] * len(pending) and rc2 == 0 and boxlib.vm_state(VM) == before
                     and len(again) == len(pending) and {p["status"] for p in again} == {"declined"},
                     "declined: nothing changed and none is raised again while the load stays: %s"
                     % [(p["id"], p["key"], p["status"]) for p in again])
    finally:
        boxlib.ssh_guest(ip, "pkill -f 'while :' ; true")
        settled()


MASTER = "node0"
LOOP_WAIT = 90   # the converge's balancer_settings wait
LOOP_GAP = 45    # and gap: readings further apart start a hold over


def policy_state():
    """The balancer's stored policy state on the master (watches, cool-downs), or None when it cannot be read."""
    res = boxlib.ssh_node(MASTER, "python3 -c 'import sqlite3; print(sqlite3.connect(\"/var/lib/cloud1/balancer.db\")"
                                  ".execute(\"SELECT state FROM policy_state\").fetchone()[0])'")
    try:
        return json.loads(res.stdout) if res.returncode == 0 else None
    except ValueError:
        return None


def loop(on):
    boxlib.ssh_node(MASTER, "systemctl %s cloud1-balancer.timer" % ("start" if on else "stop"))
    res = boxlib.ssh_node(MASTER, "systemctl is-active cloud1-balancer.timer")
    return res.stdout.strip() == ("active" if on else "inactive")


def cycles_since(t0_master):
    """How many cycles the loop finished since ``t0_master`` (the master's clock, seconds since the epoch)."""
    res = boxlib.ssh_node(MASTER, "journalctl -u cloud1-balancer.service --since @%d -o cat | grep -c '^Finished'"
                          % int(t0_master))
    return int(res.stdout.strip() or 0)


def master_now():
    return float(boxlib.ssh_node(MASTER, "date +%s.%N").stdout.strip())


def cpu_proposals(node):
    return [p for p in listed() if p["dimension"] == "cpu" and (p["subject"] == VM or p["node"] == node)]


def short():
    ip = vm_ip()
    node, _state = boxlib.vm_state(VM)
    settled()
    # the watches the earlier phases' cycles left (their last reading of a burner's load) are older than the
    # loop's gap when it starts: held levels start over instead of firing on the first hot reading
    time.sleep(LOOP_GAP)
    before = {p["id"] for p in cpu_proposals(node)}
    boxlib.check(loop(True), "the balancer's loop runs on the master (cloud1-balancer.timer active)")
    t0 = master_now()
    burner(ip, 25, loops=1)
    time.sleep(LOOP_WAIT + 30)
    new = [p for p in cpu_proposals(node) if p["id"] not in before]
    ran = cycles_since(t0)
    boxlib.check(ran >= 3 and not new, "a 25 s burner, shorter than the %d s wait: %d cycles of the loop, no CPU "
                 "proposal (%s)" % (LOOP_WAIT, ran, [p["reason"] for p in new]))


def held():
    ip = vm_ip()
    node, _state = boxlib.vm_state(VM)
    key = "node:%s:cpu" % node
    counter(ip)
    burner(ip, 420, loops=1)    # one of bal1's 2 vCPUs: its node about 50 %, above the loop's high of 30 %

    def watching():
        w = (policy_state() or {}).get("watches", {}).get(key, {})
        return w.get("since")

    since = None
    deadline = time.monotonic() + 120
    while since is None and time.monotonic() < deadline:
        time.sleep(5)
        since = watching()
    boxlib.check(since is not None, "the loop's watch on %s's CPU started (%s)" % (node, since))
    if since is None:
        return
    while master_now() < since + 25:
        time.sleep(2)
    waiting = sorted(p["id"] for p in listed("pending"))
    boxlib.ssh_node(MASTER, "systemctl stop cloud1-balancer.timer cloud1-balancer.service; "
                            "systemctl start cloud1-balancer.timer")
    restarted = master_now()
    time.sleep(15)
    boxlib.check(watching() == since, "the loop restarted %.0f s into the %d s wait: the watch kept its start (%s)"
                 % (restarted - since, LOOP_WAIT, watching()))
    still = sorted(p["id"] for p in listed("pending"))
    boxlib.check(set(waiting) <= set(still), "the proposals pending before the restart still are: %s -> %s"
                 % (waiting, still))
    found, deadline = [], time.monotonic() + LOOP_WAIT + 90
    while not found and time.monotonic() < deadline:
        time.sleep(5)
        found = [p for p in listed("pending") if p["kind"] == "move" and p["subject"] == VM and p["dimension"] == "cpu"]
    boxlib.check(bool(found) and found[0]["created"] < restarted + LOOP_WAIT and found[0]["action"].get("to") not in
                 (None, node), "the move of %s is proposed %.0f s after the watch started (before a restarted wait "
                 "would end), to %s: %s" % (VM, (found[0]["created"] - since) if found else -1,
                                            found[0]["action"].get("to") if found else None,
                                            found[0]["reason"] if found else "none"))
    if not found:
        loop(False)
        return
    target = found[0]["action"]["to"]
    before = boxlib.guest_read(ip, "cat /run/counter")
    rc, out, took = boxlib.playbook("proposals.yml", {"operation": "approve", "id": found[0]["id"], "owner": OWNER})
    after_node, state = boxlib.vm_state(VM)
    after = boxlib.guest_read(ip, "cat /run/counter")
    done = [p for p in listed() if p["id"] == found[0]["id"]]
    boxlib.check(rc == 0 and after_node == target and state == "running" and done and done[0]["status"] == "done",
                 "erin approves: %s live-migrated to %s in %.0f s, recorded done (%s)"
                 % (VM, after_node, took, done[0]["outcome"] if done else out[-800:]))
    boxlib.check(counted_on(before, after),
                 "the counter inside kept counting across the move (%s -> %s)" % (before, after))

    def cooled():
        view = gmetad_view()
        cpu = ((view or {}).get("nodes", {}).get(node) or {}).get("cpu")
        return cpu if cpu is not None and cpu < 30 else None

    t0 = time.monotonic()
    fell = None
    while fell is None and time.monotonic() - t0 < 90:
        time.sleep(5)
        fell = cooled()
    boxlib.check(fell is not None, "%s's CPU fell below 30 %% (%s %%) while bal1 burns on %s" % (node, fell, target))
    boxlib.ssh_guest(ip, "pkill -f 'while :' ; true")
    boxlib.check(loop(False), "the loop stopped again (the next scenarios run without it)")


def gmetad_view():
    from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics
    parsed = boxlib.gmetad_parsed(MASTER)
    return metrics.live_view(parsed) if parsed else None


def delete():
    loop(False)
    rc, out, _took = boxlib.playbook("deletevm.yml", {"vm": VM})
    boxlib.check(rc == 0 and boxlib.vm_state(VM)[1] == "absent" and vm_ip() is None,
                 "deletevm.yml removes %s and gives its address back" % VM)
    if rc != 0:
        print(out[-3000:])


PHASES = {"forced": forced, "disk": disk, "decline": decline, "short": short, "held": held, "delete": delete}

if __name__ == "__main__":
    boxlib.run_phases(PHASES, sys.argv[1:])
