# -*- coding: utf-8 -*-
"""Helpers of the box checks: run the collection's playbooks against the cluster-in-a-box and look at the
result through libvirt (domains), the nodes' disk directory and the master's lease database."""

import json
import os
import signal
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ET

import libvirt

libvirt.registerErrorHandler(lambda _ctx, _err: None, None)   # lookups of absent domains are expected

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BOX = os.path.join(REPO, ".box")
INVENTORY = os.path.join(BOX, "inventory.yml")
VMS_INVENTORY = os.path.join(BOX, "vms.cluster.yml")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
FAILURES = []


def inventory():
    with open(INVENTORY) as handle:
        return json.load(handle)


def node_uris():
    with open(VMS_INVENTORY) as handle:
        return json.load(handle)["nodes"]


def box_vars():
    return inventory()["all"]["vars"]


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def check(ok, what):
    """Record a check; the script exits non-zero at the end when any failed."""
    log("%s %s" % ("PASS" if ok else "FAIL", what))
    if not ok:
        FAILURES.append(what)
    return ok


def run_phases(phases, names):
    """Run the named phases (all of ``phases``, a dict in order, when none is named) and exit as ``finish``. A
    phase that raises is a failed check naming the exception (its traceback printed), and the next phase runs."""
    for name in names or list(phases):
        log("== phase %s" % name)
        try:
            phases[name]()
        # a script's error is the check that failed
        except Exception as exc:   # pylint: disable=broad-except
            traceback.print_exc(file=sys.stdout)
            check(False, "phase %s stopped: %s: %s" % (name, type(exc).__name__, str(exc)[-300:]))
    finish()


def finish():
    if FAILURES:
        log("%d check(s) failed:\n  %s" % (len(FAILURES), "\n  ".join(FAILURES)))
        sys.exit(1)
    log("all checks passed")


def playbook(name, extra=None, check_mode=False, timeout=900, inventory=INVENTORY):
    """Run playbooks/<name> on the box (or the nodes of ``inventory``); return (rc, output, seconds)."""
    cmd = [ANSIBLE_PLAYBOOK, "-i", inventory, os.path.join(REPO, "playbooks", name)]
    for key, value in (extra or {}).items():
        cmd += ["-e", json.dumps({key: value})]
    if check_mode:
        cmd.append("--check")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    t0 = time.monotonic()
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return res.returncode, res.stdout + res.stderr, time.monotonic() - t0


def recap_changed(output, host="localhost"):
    """changed= of ``host`` in a play recap."""
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[0] == host and parts[1] == ":":
            for part in parts:
                if part.startswith("changed="):
                    return int(part.split("=")[1])
    return None


def _identity(dom):
    """(state, uuid, owner, vCPUs, max vCPUs, memory KiB, max memory KiB) of a domain's persistent definition."""
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE if dom.isPersistent() else 0))
    vcpu = root.find("vcpu")
    owner = root.findtext("metadata/{https://cloud1.example/iaas/vm/1}vm/{https://cloud1.example/iaas/vm/1}owner")
    return (dom.state()[0], dom.UUIDString(), owner, vcpu.get("current", vcpu.text), vcpu.text,
            root.findtext("currentMemory"), root.findtext("memory"))


def open_node(uri, attempts=4):
    """A read-only libvirt connection to a node. Opening one goes through SSH; a channel that could not be
    opened ("SSH transport error: failed to open ssh channel", seen in CI while the balancer's loop and a
    migration were busy with the same node) is tried again, a few times over some seconds, then raised."""
    for attempt in range(attempts):
        try:
            return libvirt.openReadOnly(uri)
        except libvirt.libvirtError as exc:
            if attempt == attempts - 1 or "SSH transport error" not in str(exc):
                raise
            log("opening %s failed (%s): again in %d s" % (uri, exc, 2 * (attempt + 1)))
            time.sleep(2 * (attempt + 1))
    raise AssertionError("unreachable")


def domains():
    """{node: {vm name: (state, uuid, owner, sizes)}} from libvirt on every node."""
    out = {}
    for node, uri in sorted(node_uris().items()):
        conn = open_node(uri)
        try:
            out[node] = {}
            for dom in conn.listAllDomains():
                try:
                    out[node][dom.name()] = _identity(dom)
                except libvirt.libvirtError as exc:   # gone since the listing (a migration finishing)
                    if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                        raise
        finally:
            conn.close()
    return out


def each_domain(name, fn):
    """{node: fn(dom)} for every node that defines domain ``name`` (read-only connections)."""
    out = {}
    for node, uri in sorted(node_uris().items()):
        conn = open_node(uri)
        try:
            try:
                dom = conn.lookupByName(name)
            except libvirt.libvirtError:
                continue
            try:
                out[node] = fn(dom)
            except libvirt.libvirtError as exc:
                # gone between the lookup and the read (a migration finishing): not on this node any more
                if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
        finally:
            conn.close()
    return out


def vm_state(name):
    """(node, libvirt state name) of VM ``name``, or (None, 'absent')."""
    names = {1: "running", 3: "paused", 4: "shutdown", 5: "shutoff"}
    for node, doms in domains().items():
        if name in doms:
            return node, names.get(doms[name][0], str(doms[name][0]))
    return None, "absent"


def ssh_node(node, command, timeout=120):
    """``command`` on ``node`` through SSH; a node that does not answer within ``timeout`` gives a failed result
    (rc 255, the wait in stderr), logged, like any other failed read: the check that asked says what it missed."""
    cmd = ["ssh", "-F", os.path.join(BOX, "ssh_config"), "-o", "ServerAliveInterval=15", node, command]
    t0 = time.monotonic()
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        log("ssh %s %r: no answer in %.0f s; load on this machine: %s" % (node, command, time.monotonic() - t0,
                                                                          os.getloadavg()))
        return subprocess.CompletedProcess(cmd, 255, "", "ssh to %s: no answer in %d s" % (node, timeout))


def gmetad_parsed(master):
    """gmetad's XML as the collection's reader parses it, read on ``master`` now; None (logged) when the master
    does not answer with Ganglia's XML."""
    sys.path.insert(0, os.path.join(REPO, "build", "collections"))
    from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics
    res = ssh_node(master, "timeout 10 nc -q1 localhost 8651 </dev/null", timeout=60)
    try:
        return metrics.parse_gmetad(res.stdout) if res.returncode == 0 else None
    except metrics.InvalidInput as exc:
        log("gmetad on %s: %s" % (master, exc))
        return None


def ssh_guest(ip, command, timeout=30):
    key = box_vars()["ansible_ssh_private_key_file"]
    cmd = ["ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "BatchMode=yes", "root@%s" % ip, command]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 255, "", "timeout")


class Unread:
    """What a failed read from a guest gives: equal to nothing, not even another failed read (None == None
    would let a before/after comparison pass when the guest answered neither time)."""

    __hash__ = None

    def __init__(self, why):
        self.why = why

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    def __bool__(self):
        return False

    def __str__(self):
        return ""

    def __repr__(self):
        return "<unread: %s>" % self.why

    def splitlines(self):
        return []


def guest_read(ip, command, timeout=60):
    """The output of ``command`` in the guest at ``ip``. A read that fails is a failed check (named with why)
    and gives an ``Unread``, so no comparison built on it can pass."""
    if not ip:
        check(False, "read from the guest (%s): it has no address" % command[:60])
        return Unread("no address")
    res = ssh_guest(ip, command, timeout=timeout)
    if res.returncode != 0:
        why = "exit %d: %s" % (res.returncode, (res.stderr or res.stdout).strip()[-200:])
        check(False, "read from the guest at %s (%s): %s" % (ip, command[:60], why))
        return Unread(why)
    return res.stdout.strip()


def guest_try(ip, command, timeout=30):
    """The output of ``command`` in the guest, or None: for polling while the guest may be down."""
    res = ssh_guest(ip, command, timeout=timeout) if ip else None
    return res.stdout.strip() if res is not None and res.returncode == 0 else None


def wait_ssh(ip, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = ssh_guest(ip, "true")
        if res.returncode == 0:
            return True
        time.sleep(3)
    return False


LEASES = ("import json, sqlite3; c = sqlite3.connect('/var/lib/cloud1/state/leases.db'); "
          "print(json.dumps(sorted(c.execute('SELECT ip, vm FROM leases').fetchall())))")


def leases():
    master = sorted(inventory()["all"]["children"]["master"]["hosts"])[0]
    res = ssh_node(master, "test -e /var/lib/cloud1/state/leases.db || { echo '[]'; exit 0; }; python3 -c \"%s\"" % LEASES)
    return [tuple(x) for x in json.loads(res.stdout or "[]")]


def kill_run(proc):
    """SIGKILL a playbook run as a crash would: its process group and every process descended from it (Ansible's
    workers start sessions of their own, so the group alone leaves them behind)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [proc.pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()


def lease_state(vm):
    """The state of ``vm``'s lease (creating, bound), or None."""
    master = sorted(inventory()["all"]["children"]["master"]["hosts"])[0]
    query = ("import sqlite3; r = sqlite3.connect('/var/lib/cloud1/state/leases.db').execute("
             "'SELECT state FROM leases WHERE vm = ?', (%r,)).fetchone(); print(r[0] if r else '')" % vm)
    res = ssh_node(master, "python3 -c \"%s\"" % query)
    return res.stdout.strip() or None


def disks():
    """Files in the VM disk directory (shared storage: one listing serves every node). Names only: the
    disks of running VMs change size as their guests write."""
    directory = box_vars().get("cloud1_disk_dir", "/var/lib/cloud1/images")
    node = sorted(node_uris())[0]
    res = ssh_node(node, "cd %s && find . -maxdepth 1 -type f -printf '%%f\\n' | sort" % directory)
    return [name for name in res.stdout.split("\n") if name]


def refusals(cases, extra=None, what="the cluster's domains, disks and leases unchanged"):
    """Run each (playbook, extra vars, message) of ``cases`` (with ``extra`` added): each must fail with a message
    holding ``message`` and leave ``cluster_state()`` exactly as it was."""
    before = cluster_state()
    for i, (book, given, message) in enumerate(cases, 1):
        rc, out, took = playbook(book, dict(extra or {}, **given))
        shown = ", ".join("%s=%.40r" % kv for kv in given.items())
        check(rc != 0 and message in out, "%2d %s %s: refused in %.1fs, message has %r" % (i, book, shown, took, message))
        if rc == 0 or message not in out:
            print(out[-3000:])
        after = cluster_state()
        check(after == before, "%2d %s" % (i, what))
        if after != before:
            print("before: %s\nafter:  %s" % (before, after))
            before = after


def cluster_state():
    """What a refused request must leave exactly as it was: domains (state, UUID, owner, vCPUs and memory of the
    definition), disks, leases."""
    return {"domains": domains(), "disks": disks(), "leases": leases()}
