#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""The lifecycle scenario's checks on the box, in phases (each a command line argument):

  placed      web1 (made by the scenario's converge) runs where placement chose, answers SSH at its static
              address with its hostname, its root grew to the disk asked for; a check-mode rerun changes
              nothing; the cluster inventory plugin reaches it as owner_alice; userdetails reads and modifies
  states      every seed lifecycle command reaches its state (shutdown, start, pause, resume, reboot, destroy)
  clone       a clone of stopped web1 boots at its own address with its own hostname and identity; deleted
  concurrent  6 createvm runs at once get 6 different addresses and 6 VMs that answer SSH, and a 7th for one of
              their names is refused (exactly one of the pair wins); getips says count asked and free; deleted
              in parallel
  killed      createvm SIGKILLed after its clone: the rerun inherits the dead run's reservation, replaces
              its stale disk and converges; a VM deleted outside the playbooks leaves a stale lease that
              getips.yml reports and reconcile=true frees
  existing    createexistingvm.yml job_type=deleteclone: web2 from stopped web1's disk, then web1 deleted
  delete      deletevm removes web2's domain and disk and releases its address
  rescue      a createvm that fails after the lease (SSH must answer within 1 s) removes the VM, its disk
              and the lease it made: the cluster is as it was
"""

import base64
import json
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import libvirt

import boxlib

META_NS = "https://cloud1.example/iaas/vm/1"   # the VM's tenant metadata (core/domain.py)
GROW_PENDING = "/var/lib/cloud1/grow-root.pending"   # core/guestprep.py: the first-boot growth's trigger
PLACEMENT = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", boxlib.BOX), "placement.json")


def lease_of(vm):
    return {v: ip for ip, v in boxlib.leases()}.get(vm)


def guest(ip, command):
    return boxlib.guest_read(ip, command)


def placed():
    decision = json.load(open(PLACEMENT))
    node, state = boxlib.vm_state("web1")
    boxlib.check(state == "running" and node == decision["target"] and decision["placement"]["node"] == node,
                 "web1 runs on %s, the node placement chose (%s)" % (node, decision["placement"]["reasons"].get(node)))
    ip = lease_of("web1")
    boxlib.check(ip is not None, "web1 holds the lease %s" % ip)
    # the first-boot growth runs beside sshd: wait (bounded) until its unit has removed its trigger
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and boxlib.guest_try(
            ip, "if test -e %s; then echo growing; else echo grown; fi" % GROW_PENDING) != "grown":
        time.sleep(3)
    out = guest(ip, "hostname; ip -4 -o addr show dev eth0; df -B1 --output=size / | tail -1")
    lines = (out or "").splitlines()
    boxlib.check(len(lines) == 3 and lines[0] == "web1" and ("%s/24" % ip) in lines[1],
                 "SSH at %s: hostname %s, address on eth0" % (ip, lines[:2]))
    boxlib.check(len(lines) == 3 and int(lines[2]) > 3.5 * 1024 ** 3,
                 "root filesystem grew at first boot to the 4 GiB disk: %s bytes" % (lines[2:] or "?"))
    # the default injection for the collection's image: the settings came from the domain's SMBIOS strings
    conn = libvirt.open(boxlib.node_uris()[node])
    try:
        dom = conn.lookupByName("web1")
        uuid, xml = dom.UUIDString(), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        conn.close()
    applied = guest(ip, "cat /var/lib/cloud1/firstboot.id")
    boxlib.check(applied is not None and applied.strip() == uuid and ("cloud1.v1 id %s" % uuid) in xml,
                 "web1 applied its definition's SMBIOS settings at first boot (instance %s, guest says %r)"
                 % (uuid, applied))
    serial = boxlib.ssh_node(node, "cat /var/log/libvirt/qemu/web1-serial.log").stdout
    boxlib.check("Loading Linux" in serial and "web1 login:" in serial,
                 "web1's serial console is kept on %s (/var/log/libvirt/qemu/web1-serial.log: %d bytes: the boot loader "
                 "loading Linux, the login prompt)" % (node, len(serial)))
    rc, out, took = boxlib.playbook("createvm.yml", {"vm": "web1", "owner": "alice", "memory": 384, "cpu": 1,
                                                     "disk": 4}, check_mode=True)
    boxlib.check(rc == 0 and boxlib.recap_changed(out) == 0, "createvm.yml --check on the existing VM: changed=0 (%.1fs)" % took)
    res = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "-i", boxlib.VMS_INVENTORY,
                          "owner_alice", "-m", "ansible.builtin.ping"], capture_output=True, text=True,
                         timeout=120, check=False, cwd=boxlib.REPO)
    boxlib.check(res.returncode == 0 and "web1 | SUCCESS" in res.stdout,
                 "ansible -i vms.cluster.yml owner_alice -m ping reaches web1")
    rc, out, _took = boxlib.playbook("userdetails.yml")
    boxlib.check(rc == 0 and "alice" in out and "web1" in out, "userdetails.yml lists alice's web1")
    modify = {"operation": "modify", "vm": "web1", "parameter": "io"}
    rc, out, _took = boxlib.playbook("userdetails.yml", dict(modify, owner="alice", value="high"))
    rc2, out2, _took = boxlib.playbook("userdetails.yml", dict(modify, owner="bob", value="low"))
    boxlib.check(rc == 0 and "io medium -> high" in out and rc2 != 0 and "belongs to alice, not bob" in out2,
                 "userdetails.yml modifies io for its owner, refuses another user")


def states():
    ip = lease_of("web1")
    boot = guest(ip, "cat /proc/sys/kernel/random/boot_id")
    for book, want in (("shutdownvm.yml", "shutoff"), ("startvm.yml", "running"), ("pausevm.yml", "paused"),
                       ("resumevm.yml", "running"), ("rebootvm.yml", "running"), ("destroyvm.yml", "shutoff"),
                       ("startvm.yml", "running")):
        rc, out, took = boxlib.playbook(book, {"vm": "web1"})
        node, state = boxlib.vm_state("web1")
        boxlib.check(rc == 0 and state == want, "%s -> %s in %.1fs (libvirt on %s says %s)" % (book, want, took, node, state))
        if rc != 0:
            print(out[-2000:])
        if book == "startvm.yml":
            boxlib.check(boxlib.wait_ssh(ip), "web1 answers SSH again after start")
        if book == "pausevm.yml":
            boxlib.check(boxlib.ssh_guest(ip, "true", timeout=15).returncode != 0, "a paused web1 does not answer")
        if book == "rebootvm.yml":
            boxlib.check(boxlib.wait_ssh(ip), "web1 answers SSH after reboot")
            new = boxlib.guest_try(ip, "cat /proc/sys/kernel/random/boot_id")
            if new is None or new == boot:   # the ACPI reboot may not have gone through yet
                boxlib.wait_ssh(ip)
                new = boxlib.guest_read(ip, "cat /proc/sys/kernel/random/boot_id")
            boxlib.check(bool(new) and bool(boot) and new != boot, "reboot gave web1 a new boot id")
    rc, out, _took = boxlib.playbook("startvm.yml", {"vm": "web1"})
    boxlib.check(rc == 0 and boxlib.recap_changed(out) == 0, "startvm.yml on a running VM: changed=0")


LISTEN = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9911))
s.settimeout(15)
while True:
    try:
        data, addr = s.recvfrom(100)
    except OSError:
        break
    print(addr[0], data.decode(), flush=True)
"""
SEND = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if sys.argv[1] != "-":
    s.bind((sys.argv[1], 0))
for _ in range(3):
    s.sendto(sys.argv[3].encode(), (sys.argv[2], 9911))
"""


def _script(text, path):
    """A shell command that writes ``text`` to ``path`` (base64: no quoting to get wrong)."""
    return "echo %s | base64 -d > %s" % (base64.b64encode(text.encode()).decode(), path)


def _ping_web1():
    # a fresh connection each time (no ControlPersist master from an earlier one): each checks the key anew
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "-i", boxlib.VMS_INVENTORY,
                           "web1", "-m", "ansible.builtin.ping"], capture_output=True, text=True, timeout=120,
                          check=False, cwd=boxlib.REPO,
                          env=dict(os.environ, ANSIBLE_SSH_ARGS="-o ControlMaster=no -o ControlPath=none"))


def _recorded_keys(new=None):
    """web1's recorded host keys (its metadata), replaced by ``new`` when given (as a tampering admin would)."""
    ns = "https://cloud1.example/iaas/vm/1"
    for node, uri in boxlib.node_uris().items():
        conn = libvirt.open(uri)
        try:
            try:
                dom = conn.lookupByName("web1")
            except libvirt.libvirtError:
                continue
            meta = boxlib.ET.fromstring(dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, ns, 0))
            keys = meta.find("hostkeys")
            old = keys.text if keys is not None else None
            if new is not None:
                keys.text = new
                flags = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG
                dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, boxlib.ET.tostring(meta, encoding="unicode"),
                                "cloud1", ns, flags)
            return old
        finally:
            conn.close()
    return None


def hostkeys():
    """web1's host keys were recorded at creation through its agent, are the ones it serves, and are the only
    ones SSH through the cluster inventory accepts: with other keys recorded, the connection is refused and
    vm_hostkeys refuses to record the guest's keys over them without accept_new."""
    ip = lease_of("web1")
    recorded = _recorded_keys()
    scan = subprocess.run(["ssh-keyscan", "-T", "10", ip], capture_output=True, text=True, timeout=60, check=False)
    served = sorted(" ".join(line.split()[1:3]) for line in scan.stdout.splitlines() if line and not line.startswith("#"))
    rec = sorted(recorded.splitlines()) if recorded else []
    boxlib.check(bool(rec) and rec == served,
                 "web1's recorded host keys are the ones it serves (%d served: %s; %d recorded: %s)" % (
                     len(served), [k.split()[0] for k in served], len(rec), [k.split()[0] for k in rec]))
    res = _ping_web1()
    boxlib.check(res.returncode == 0 and "SUCCESS" in res.stdout, "the inventory reaches web1 checking its keys strictly")
    other = boxlib.ssh_node(sorted(boxlib.node_uris())[0], "cat /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()
    _recorded_keys(" ".join(other[:2]))   # another machine's key recorded: web1 must now look like an impostor
    res = _ping_web1()
    boxlib.check(res.returncode != 0 and "host key" in (res.stdout + res.stderr).lower(),
                 "with another key recorded the inventory refuses web1: %s" % (
                     [line for line in (res.stdout + res.stderr).splitlines() if "key" in line.lower()][:1]))
    node = boxlib.vm_state("web1")[0]
    args = "name=web1 owner=alice"
    res = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "-i", boxlib.INVENTORY, node,
                          "-m", "cloud1.iaas.vm_hostkeys", "-a", args], capture_output=True, text=True, timeout=300,
                         check=False, cwd=boxlib.REPO)
    boxlib.check(res.returncode != 0 and "not the ones recorded at its creation" in res.stdout,
                 "vm_hostkeys refuses the guest's keys over the recorded ones, nothing changed")
    boxlib.check(_recorded_keys() == " ".join(other[:2]), "the recorded key is unchanged by the refusal")
    res = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "-i", boxlib.INVENTORY, node,
                          "-m", "cloud1.iaas.vm_hostkeys", "-a", args + " accept_new=true"], capture_output=True,
                         text=True, timeout=300, check=False, cwd=boxlib.REPO)
    boxlib.check(res.returncode == 0 and sorted((_recorded_keys() or "").splitlines()) == served,
                 "accept_new=true records the guest's keys again")
    boxlib.check(_ping_web1().returncode == 0, "the inventory reaches web1 again")


def spoof():
    """web1's NIC carries libvirt's clean-traffic filter with its leased address: datagrams it sends from its own
    address reach the master, those it sends after taking a node's address do not (nothing of them arrives)."""
    ip = lease_of("web1")
    nics = boxlib.each_domain("web1", lambda dom: [
        (ref.get("filter"), [p.get("value") for p in ref.findall("parameter")])
        for ref in boxlib.ET.fromstring(dom.XMLDesc(0)).findall("devices/interface/filterref")])
    boxlib.check(list(nics.values()) == [[("clean-traffic", [ip])]],
                 "web1's NIC has the clean-traffic filter with its address %s: %s" % (ip, nics))
    hosts = boxlib.inventory()["all"]["children"]
    master = sorted(hosts["master"]["hosts"])[0]
    master_ip = hosts["master"]["hosts"][master]["ansible_host"]
    other = sorted(hosts["workers"]["hosts"])[0]
    node_ip = hosts["workers"]["hosts"][other]["ansible_host"]
    listener = subprocess.Popen(["ssh", "-F", os.path.join(boxlib.BOX, "ssh_config"), master,
                                 "%s && python3 /tmp/cloud1-listen.py %s" % (_script(LISTEN, "/tmp/cloud1-listen.py"),
                                                                             master_ip)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(2)
    sent = guest(ip, "%s && python3 /tmp/send.py - %s own && ip addr add %s/32 dev eth0 && "
                     "python3 /tmp/send.py %s %s spoofed; ip addr del %s/32 dev eth0; echo sent" % (
                         _script(SEND, "/tmp/send.py"), master_ip, node_ip, node_ip, master_ip, node_ip))
    out = listener.communicate(timeout=60)[0]
    got = [line.split() for line in out.splitlines() if len(line.split()) == 2]
    boxlib.check(sent == "sent" and ([ip, "own"] in got),
                 "from its own address web1 reaches the master (%s)" % sorted({tuple(g) for g in got}))
    boxlib.check(sent == "sent" and not [g for g in got if g[1] == "spoofed"],
                 "after taking %s's address %s nothing web1 sends from it arrives" % (other, node_ip))
    boxlib.check(guest(ip, "hostname") == "web1", "web1 still answers at its own address")


def clone():
    web1 = lease_of("web1")
    web1_id = guest(web1, "cat /etc/machine-id; cat /etc/ssh/ssh_host_ed25519_key.pub")
    rc = boxlib.playbook("shutdownvm.yml", {"vm": "web1"})[0]
    rc, out, took = boxlib.playbook("clonevm.yml", {"source": "web1", "vm": "web1-copy", "owner": "alice"})
    boxlib.check(rc == 0, "clonevm.yml source=web1 vm=web1-copy (full copy of the stopped VM's disk) in %.1fs" % took)
    if rc != 0:
        print(out[-3000:])
    ip = lease_of("web1-copy")
    out = guest(ip, "hostname; cat /etc/machine-id; cat /etc/ssh/ssh_host_ed25519_key.pub") if ip else None
    lines = (out or "").splitlines()
    boxlib.check(bool(lines) and lines[0] == "web1-copy" and ip != web1,
                 "the clone answers at its own address %s with hostname %s" % (ip, lines[:1]))
    boxlib.check(bool(lines) and web1_id is not None and lines[1:] and "\n".join(lines[1:]) != web1_id and
                 lines[1] != web1_id.splitlines()[0], "the clone has its own machine-id and SSH host key")
    delete("web1-copy")
    rc = boxlib.playbook("startvm.yml", {"vm": "web1"})[0]
    boxlib.check(rc == 0 and boxlib.wait_ssh(web1), "web1 back up after the clone")


def _createvm(name, extra=(), **popen):
    return subprocess.Popen([boxlib.ANSIBLE_PLAYBOOK, "-i", boxlib.INVENTORY,
                             os.path.join(boxlib.REPO, "playbooks", "createvm.yml"), "-e", "owner=carol",
                             "-e", "memory=256", "-e", "cpu=1", "-e", "vm=%s" % name] + list(extra),
                            cwd=boxlib.REPO, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **popen)


def _metadata(dom):
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    meta = root.find("metadata/{%s}vm" % META_NS)
    return {child.tag.split("}")[1]: child.text for child in meta} if meta is not None else {}


def concurrent():
    """6 concurrent createvm runs with distinct names, plus a second run for one of the names: the 6 get 6
    addresses and 6 VMs; of the same-name pair exactly one wins, the other is refused. The runs create their
    VMs stopped (-e start=false: every step but the boot, which is what races; six boots at once would only
    load the box's two CPUs, `make stress` boots 20); then one of them is started and answers SSH at its own
    address with its own name."""
    names = ["con%d" % i for i in range(1, 7)]
    stopped = ["-e", "start=false"]
    procs = [_createvm(n, stopped) for n in names] + [_createvm(names[0], stopped)]
    outs = [p.communicate(timeout=1800)[0] for p in procs]
    rcs = [p.returncode for p in procs]
    boxlib.check(all(rc == 0 for rc in rcs[1:6]), "5 concurrent createvm.yml runs of distinct names succeeded")
    pair = [(rcs[0], outs[0]), (rcs[6], outs[6])]
    won = [rc for rc, _out in pair if rc == 0]
    lost = [out for rc, out in pair if rc != 0]
    boxlib.check(len(won) == 1 and len(lost) == 1 and "con1 is being created by another run" in lost[0],
                 "the same-name pair (con1 twice at once): exactly one run wins, the other is refused as "
                 "'being created by another run'")
    for rc, out in zip(rcs, outs):
        if rc != 0 and "being created by another run" not in out:
            print(out[-3000:])
    ips = [lease_of(n) for n in names]
    boxlib.check(None not in ips and len(set(ips)) == 6, "6 different addresses: %s" % ips)
    for n, ip in zip(names, ips):
        found = boxlib.each_domain(n, lambda dom: (dom.state()[0], _metadata(dom)))
        state, meta = list(found.values())[0] if len(found) == 1 else (None, {})
        boxlib.check(state == libvirt.VIR_DOMAIN_SHUTOFF and meta.get("ip") == ip and meta.get("owner") == "carol"
                     and meta.get("hostname") == n and len((meta.get("hostkeys") or "").splitlines()) == 3,
                     "%s is defined once, stopped, with its address %s, owner, hostname and 3 host keys recorded "
                     "(%s)" % (n, ip, sorted(found)))
    rc, out, took = boxlib.playbook("startvm.yml", {"vm": names[3], "owner": "carol"})
    boxlib.check(rc == 0 and boxlib.wait_ssh(ips[3], timeout=300) and guest(ips[3], "hostname") == names[3],
                 "%s, created stopped, starts and answers SSH at %s with its name (%.1fs)" % (names[3], ips[3], took))
    boxlib.check(all(boxlib.lease_state(n) == "bound" for n in names), "every lease is bound to its VM")
    rc, out, _took = boxlib.playbook("getips.yml", {"count": 250})
    boxlib.check(rc == 0 and "free addresses, 250 asked for" in out,
                 "getips.yml count=250 says how many are free and how many were asked for")
    procs = [subprocess.Popen([boxlib.ANSIBLE_PLAYBOOK, "-i", boxlib.INVENTORY,
                               os.path.join(boxlib.REPO, "playbooks", "deletevm.yml"), "-e", "vm=%s" % n],
                              cwd=boxlib.REPO, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for n in names]
    for n, p in zip(names, procs):
        out = p.communicate(timeout=600)[0]
        if p.returncode != 0:
            print("deletevm.yml vm=%s failed:\n%s" % (n, out[-3000:]))
    boxlib.check(all(p.returncode == 0 for p in procs), "6 concurrent deletevm.yml runs succeeded")
    left = [vm for _ip, vm in boxlib.leases() if vm in names]
    gone = all(boxlib.vm_state(n)[1] == "absent" for n in names)
    boxlib.check(gone and not left and not [d for d in boxlib.disks() if d.startswith("con")],
                 "their domains and disks are gone and their addresses released")


def killed():
    """createvm killed (SIGKILL to the whole run) between its clone and the VM's definition leaves a reservation
    and a stale disk; the same request again takes the dead run's reservation over and converges. A VM deleted
    outside the playbooks leaves a stale lease: getips.yml reports it and reconcile=true frees it."""
    # the window between the clone and the definition is the disk's preparation: with the default for the
    # collection's image (SMBIOS settings, nothing written into the disk) it lasts milliseconds, so the run
    # killed here prepares its disk with libguestfs (the same request otherwise)
    proc = _createvm("kill1", ["-e", "inject=guestfs"], start_new_session=True)
    seen = False
    for _poll in range(600):
        if "kill1.qcow2" in boxlib.disks():
            seen = True
            break
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    if proc.poll() is None:
        boxlib.kill_run(proc)
    else:
        print(proc.communicate()[0][-3000:])   # it ended by itself: show why
    boxlib.check(seen and boxlib.vm_state("kill1")[1] == "absent" and boxlib.lease_state("kill1") == "creating",
                 "killed after its clone: a disk, no domain, the name still reserved by the dead run")
    rc, out, took = boxlib.playbook("createvm.yml", {"vm": "kill1", "owner": "carol", "memory": 256, "cpu": 1,
                                                     "inject": "guestfs"})
    # the killed run's module goes on on the node: the rerun waits for it (the node's per-VM lock), then
    # replaces the disk it left or finds the VM it finished
    boxlib.check(rc == 0 and "this run inherits its reservation" in out,
                 "the rerun takes the dead run's reservation over and converges (%.1fs)" % took)
    if rc != 0:
        print(out[-3000:])
    ip = lease_of("kill1")
    boxlib.check(ip is not None and guest(ip, "hostname") == "kill1" and boxlib.lease_state("kill1") == "bound",
                 "kill1 answers SSH at %s; its lease is bound" % ip)
    boxlib.check([d for d in boxlib.disks() if d.startswith("kill1")] == ["kill1.qcow2"],
                 "one disk of kill1, no orphan")
    # deleted outside the playbooks: libvirt undefines it, the disk goes by hand
    for node, uri in boxlib.node_uris().items():
        conn = libvirt.open(uri)
        try:
            dom = conn.lookupByName("kill1")
            dom.destroy()
            dom.undefine()
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()
    boxlib.ssh_node(sorted(boxlib.node_uris())[0], "rm -f %s/kill1.qcow2" % boxlib.box_vars().get(
        "cloud1_disk_dir", "/var/lib/cloud1/images"))
    rc, out, _took = boxlib.playbook("getips.yml")
    boxlib.check(rc == 0 and "kill1 %s" % ip in out and "reconcile=true" in out and lease_of("kill1") == ip,
                 "getips.yml reports kill1's stale lease %s and keeps it" % ip)
    rc, out, _took = boxlib.playbook("getips.yml", {"reconcile": True})
    boxlib.check(rc == 0 and lease_of("kill1") is None and lease_of("web1") is not None,
                 "getips.yml reconcile=true frees it (and only it)")
    rc, out, _took = boxlib.playbook("getips.yml")
    boxlib.check(rc == 0 and "Stale leases" in out and boxlib.recap_changed(out, "node0") == 0,
                 "getips.yml afterwards: nothing stale, nothing changed")


def existing():
    web1 = lease_of("web1")
    boxlib.playbook("shutdownvm.yml", {"vm": "web1"})
    rc, out, took = boxlib.playbook("createexistingvm.yml", {"vm": "web2", "owner": "alice", "source": "web1",
                                                             "job_type": "deleteclone"})
    boxlib.check(rc == 0, "createexistingvm.yml source=web1 vm=web2 job_type=deleteclone in %.1fs" % took)
    if rc != 0:
        print(out[-3000:])
    ip = lease_of("web2")
    boxlib.check(ip is not None and guest(ip, "hostname") == "web2", "web2 answers SSH at %s as web2" % ip)
    boxlib.check(boxlib.vm_state("web1")[1] == "absent" and lease_of("web1") is None and
                 "web1.qcow2" not in boxlib.disks(),
                 "the original web1 is deleted (domain, disk, address %s)" % web1)


def delete(vm="web2"):
    ip = lease_of(vm)
    node = boxlib.vm_state(vm)[0]
    rc, out, took = boxlib.playbook("deletevm.yml", {"vm": vm})
    disk = "%s.qcow2" % vm
    boxlib.check(rc == 0, "deletevm.yml vm=%s in %.1fs" % (vm, took))
    boxlib.check(boxlib.vm_state(vm)[1] == "absent", "%s's domain is gone from every node" % vm)
    boxlib.check(disk not in boxlib.disks(), "its disk %s is deleted" % disk)
    log = "/var/log/libvirt/qemu/%s-serial.log" % vm
    left = boxlib.ssh_node(node, "test -e %s && echo kept || echo gone" % log).stdout.strip() if node else "no node"
    boxlib.check(left == "gone", "its serial console log %s on %s is deleted: %s" % (log, node, left))
    boxlib.check(lease_of(vm) is None and ip is not None, "its address %s is released" % ip)
    rc, out, _took = boxlib.playbook("deletevm.yml", {"vm": vm})
    boxlib.check(rc != 0 and "no VM named %s" % vm in out, "deleting it again says it does not exist")


def rescue():
    """A creation that fails after the lease (the guest cannot answer SSH within 1 s) takes back all it made."""
    before = boxlib.cluster_state()
    rc, out, took = boxlib.playbook("createvm.yml", {"vm": "fail1", "owner": "alice", "memory": 256, "cpu": 1,
                                                     "ssh_timeout": 1})
    boxlib.check(rc != 0 and "Remove the VM and its disk" in out and "removed what this run created" in out,
                 "createvm.yml with ssh_timeout=1 fails after creating fail1 and says it removed it (%.1fs)" % took)
    if rc == 0:
        print(out[-2000:])
    after = boxlib.cluster_state()
    boxlib.check(boxlib.vm_state("fail1")[1] == "absent" and "fail1.qcow2" not in boxlib.disks() and
                 lease_of("fail1") is None, "no domain, no disk and no lease of fail1 is left")
    boxlib.check(after == before, "the cluster (domains, disks, leases) is as it was before the request")
    crash(before)


def crash(before, vm="crash1", inject=None, awaited="TASK [The VM's SSH host keys"):
    """A guest that stops during its first boot (destroyed here once the run awaits it: a crash, as far as the run
    can tell) fails the run at once, not after the SSH timeout, and the run takes back all it made. The default
    preparation's run awaits the guest's host keys through its agent; inject=guestfs's awaits its sshd on the node."""
    t0 = time.monotonic()
    proc = _createvm(vm, ["-e", "ssh_timeout=600"] + (["-e", "inject=%s" % inject] if inject else []))
    lines, awaiting = [], threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if awaited in line:
                awaiting.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stopped = None
    if awaiting.wait(timeout=900):
        for node, uri in sorted(boxlib.node_uris().items()):
            conn = libvirt.open(uri)
            try:
                dom = conn.lookupByName(vm)
                if dom.isActive():
                    dom.destroy()
                    stopped = node
            except libvirt.libvirtError:
                pass
            finally:
                conn.close()
    proc.wait(timeout=900)
    reader.join(timeout=60)
    took = time.monotonic() - t0
    out = "".join(lines)
    flat = " ".join(out.split())
    boxlib.check(stopped is not None and proc.returncode != 0 and ("%s is shutoff" % vm) in flat
                 and "removed what this run created" in flat,
                 "%s (%s) destroyed on %s while the run awaited it at %r: createvm fails saying so and removes what "
                 "it made, in %.0f s of a 600 s SSH timeout"
                 % (vm, inject or "default preparation", stopped, awaited[6:], took))
    if proc.returncode == 0 or ("%s is shutoff" % vm) not in flat:
        print(out[-3000:])
    boxlib.check(boxlib.vm_state(vm)[1] == "absent" and lease_of(vm) is None
                 and boxlib.cluster_state() == before, "no domain, disk or lease of %s is left" % vm)


def crash_guestfs():
    """The same with inject=guestfs (its host keys made on the node, no agent read): the wait on the node ends."""
    crash(boxlib.cluster_state(), "crash2", "guestfs", "TASK [The VM's sshd answers, read on its node")


if __name__ == "__main__":
    boxlib.run_phases({"placed": placed, "states": states, "spoof": spoof, "hostkeys": hostkeys, "clone": clone,
                       "concurrent": concurrent, "killed": killed, "existing": existing, "delete": delete,
                       "rescue": rescue, "crash_guestfs": crash_guestfs}, sys.argv[1:])
