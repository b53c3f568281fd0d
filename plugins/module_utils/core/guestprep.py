# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new VM's disk needs before its first boot, as a list of file operations. Pure Python: virt/inject.py
carries the plan out in one libguestfs session (the default injection); virt/sysprep.py gets the same effects
from virt-sysprep's operations (the seed's path, ``inject=sysprep``).

A plan is a list of steps, each a tuple whose first item names the operation:

- ``("remove", glob, why)``: delete what the glob matches (files or directories)
- ``("empty", path, why)``: truncate the file when it exists
- ``("edit", path, function, why)``: the file's text through ``function`` (text -> text), when it exists
- ``("edit_glob", glob, function, why)``: the same for every file the glob matches
- ``("mkdir", path, mode, why)``: a directory (parents created)
- ``("write", path, content, mode, why)``: create or replace the file (parents created), mode as octal text
- ``("append", path, line, mode, why)``: add the line unless the file has it already
- ``("link", target, path, why)``: a symbolic link at ``path``

Identity reset (a clone of a base image or of another VM) comes first; the VM's own settings after it.
"""

from __future__ import annotations

import re

from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestnet import network_files
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import GROW_ROOT

INJECTIONS = ("guestfs", "sysprep")
DEFAULT_INJECTION = "guestfs"

GROW_SCRIPT = "/usr/local/sbin/cloud1-grow-root"
GROW_UNIT = "/etc/systemd/system/cloud1-grow-root.service"
GROW_PENDING = "/var/lib/cloud1/grow-root.pending"
GROW_WANTS = "/etc/systemd/system/multi-user.target.wants/cloud1-grow-root.service"

# the unit runs once: it removes its own trigger file, so later boots skip it (ConditionPathExists). It runs
# beside sshd, not before it (its LVM commands take 20-30 s of an emulated CPU): the root may still be growing
# for a few seconds after SSH answers
GROW_UNIT_TEXT = """[Unit]
Description=cloud1.iaas: grow the root filesystem to the whole disk (once, after a larger disk)
ConditionPathExists={pending}
After=local-fs.target

[Service]
Type=oneshot
ExecStart={script}
ExecStartPost=/bin/rm -f {pending}

[Install]
WantedBy=multi-user.target
""".format(pending=GROW_PENDING, script=GROW_SCRIPT)

# what a clone must not keep from its source (the same effects as the virt-sysprep operations of sysprep.py)
IDENTITY_RESET = [
    ("empty", "/etc/machine-id", "a fresh machine-id at first boot, else clones share DHCP client IDs, journal "
                                 "IDs and systemd identity"),
    ("remove", "/var/lib/dbus/machine-id", "D-Bus's copy of the old machine-id"),
    ("remove", "/etc/ssh/ssh_host_*", "each VM gets its own SSH host keys (generated at first boot)"),
    ("remove", "/etc/udev/rules.d/70-persistent-net.rules", "old udev rules would rename the NIC away from eth0"),
    ("remove", "/var/lib/dhcp/*", "the source's DHCP leases"),
    ("remove", "/var/lib/dhclient/*", "the source's DHCP leases"),
    ("remove", "/var/lib/NetworkManager/*.lease", "the source's DHCP leases"),
    ("remove", "/var/log/journal/*", "the source's logs"),
    ("remove", "/var/log/*.log", "the source's logs"),
    ("remove", "/var/log/*/*.log", "the source's logs"),
    ("empty", "/var/log/wtmp", "the source's logins"),
    ("empty", "/var/log/btmp", "the source's failed logins"),
    ("empty", "/var/log/lastlog", "the source's last logins"),
    ("remove", "/tmp/*", "stale temporary files"),
    ("remove", "/var/tmp/*", "stale temporary files"),
]

_HWADDR = re.compile(r"^\s*HWADDR=.*\n?", re.MULTILINE)


# where a plan writes: a guest filesystem mounted on one of these (or above one) must be mounted to write there
WRITTEN_UNDER = ("/etc", "/root", "/usr/local/sbin", "/var/lib", "/var/log", "/var/tmp", "/tmp")
_NOT_DISKS = {"swap", "none", "tmpfs", "proc", "sysfs", "devpts", "nfs", "nfs4", "cifs", "glusterfs", "fuse"}


def fstab_mounts(text):
    """[(spec, mountpoint)] of the guest's fstab that a plan writes under (a separate /var, ...), parents first;
    / itself is left out (the caller found it)."""
    out = []
    for line in str(text or "").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 3 or fields[2] in _NOT_DISKS or "noauto" in (fields[3:4] or [""])[0].split(","):
            continue
        spec, mountpoint = fields[0], fields[1].rstrip("/")
        if mountpoint and any(w == mountpoint or w.startswith(mountpoint + "/") for w in WRITTEN_UNDER):
            out.append((spec, mountpoint))
    return sorted(out, key=lambda entry: entry[1].count("/"))


def drop_hwaddr(text):
    """An ifcfg file without its HWADDR= line (it pins the source's MAC, which the clone does not have)."""
    return _HWADDR.sub("", text)


def hosts_file(text, old, new):
    """/etc/hosts with the old hostname replaced by ``new`` and a 127.0.1.1 line naming it."""
    lines = []
    for line in text.splitlines():
        body, hash_, comment = line.partition("#")
        words = body.split()
        if len(words) > 1 and old and old != "localhost" and old in words[1:]:
            words = [words[0]] + [new if w == old else w for w in words[1:]]
            body = "\t".join(words) + (" " if hash_ else "")
        lines.append(body + hash_ + comment)
    if not any(ln.split()[:1] == ["127.0.1.1"] and new in ln.split()[1:] for ln in lines if ln.strip()):
        lines = [ln for ln in lines if ln.split()[:1] != ["127.0.1.1"]] + ["127.0.1.1\t%s" % new]
    return "\n".join(lines) + "\n"


# the host key types ssh-keygen -A makes, by the file name sshd looks for
HOST_KEY_TYPES = ("rsa", "ecdsa", "ed25519")


def host_key_steps(host_keys):
    """Write steps for {type: (private key text, public key text)}: the VM's own host keys, made on the node
    (native CPU) instead of by ssh-keygen at the guest's first boot (emulated CPU: 10-15 s on the way to
    sshd), and known before the guest boots, so they are recorded without asking the guest."""
    steps = []
    for kind in sorted(host_keys):
        private, public = host_keys[kind]
        path = "/etc/ssh/ssh_host_%s_key" % kind
        steps.append(("write", path, private, "0600", "the VM's own %s host key" % kind))
        steps.append(("write", path + ".pub", public, "0644", "its public half"))
    return steps


def plan(hostname=None, old_hostname=None, ssh_key=None, address=None, network_config="networkd",
         grow_root=False, reset_identity=True, host_keys=None):
    """The steps for a new VM's disk. ``old_hostname``: what the disk's /etc/hostname says now (read by the
    caller), so /etc/hosts follows the new name. ``host_keys``: the VM's SSH host keys (host_key_steps);
    without them the guest makes its own at first boot."""
    steps = []
    if reset_identity:
        steps += IDENTITY_RESET
        steps.append(("edit_glob", "/etc/sysconfig/network-scripts/ifcfg-*", drop_hwaddr,
                      "RHEL ifcfg files pin the source's MAC address (HWADDR=)"))
    if host_keys:
        steps += host_key_steps(host_keys)
    if hostname:
        steps.append(("write", "/etc/hostname", hostname + "\n", "0644", "the VM's hostname"))
        steps.append(("edit", "/etc/hosts", lambda text: hosts_file(text, old_hostname, hostname),
                      "the hostname resolves locally"))
    if ssh_key:
        steps.append(("mkdir", "/root/.ssh", "0700", "root's SSH directory"))
        steps.append(("append", "/root/.ssh/authorized_keys", ssh_key, "0600", "the root SSH key"))
    if address:
        for path, content, mode in network_files(network_config, address):
            steps.append(("write", path, content, mode, "the static address"))
    if grow_root:
        steps += [
            ("write", GROW_SCRIPT, GROW_ROOT, "0755", "the root growth script"),
            ("write", GROW_UNIT, GROW_UNIT_TEXT, "0644", "the first-boot unit that runs it once"),
            ("link", GROW_UNIT, GROW_WANTS, "enabled at the next boot"),
            ("write", GROW_PENDING, "", "0644", "armed for the next boot only"),
        ]
    return steps


def describe(steps):
    """One line per step (for diffs and the module's actions)."""
    out = []
    for step in steps:
        kind, path, why = step[0], step[1] if step[0] != "link" else step[2], step[-1]
        out.append("%s %s (%s)" % (kind, path, why))
    return out
