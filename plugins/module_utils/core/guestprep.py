# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new VM's disk needs before its first boot, as a list of file operations. Pure Python. Three ways to
carry a plan out (``inject``):

- ``smbios``: the plan travels in the domain's SMBIOS OEM strings (type 11) and the collection's image applies
  it itself at its first boot (tools/image/firstboot.sh), before its network and sshd start: no appliance,
  nothing written into the disk on the node. Only for a clean image that carries that first-boot unit (the
  image builder puts a marker file ``<image>.cloud1-firstboot`` beside it), never for a copy of a VM.
- ``guestfs``: virt/inject.py, one libguestfs session writing the plan into the disk.
- ``sysprep``: virt/sysprep.py, virt-sysprep's operations (the seed's path).

``auto`` (the default) is ``smbios`` for a base image with the marker, ``guestfs`` otherwise.

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

import base64
import re

from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestnet import network_files
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import GROW_ROOT

INJECTIONS = ("auto", "smbios", "guestfs", "sysprep")
DEFAULT_INJECTION = "auto"

# beside a base image: the image is clean (never booted, no identity) and its first-boot unit reads the plan from
# SMBIOS; the content names the protocol version it speaks
FIRSTBOOT_MARKER = ".cloud1-firstboot"
SMBIOS_PROTOCOL = "cloud1.v1"

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


def choose_injection(requested, from_vm, image_speaks, boots_now=True):
    """The injection a creation uses. ``from_vm``: the disk is a copy of a VM (it has an identity to reset);
    ``image_speaks``: the base image carries the first-boot unit that reads SMBIOS settings (its marker);
    ``boots_now``: the VM is started by this request. ``auto`` keeps guestfs for a VM created stopped: its host
    keys are then made on the node and recorded before it ever boots, where a guest making its own would have
    none recorded until someone reads them after a later start."""
    if requested not in INJECTIONS:
        raise ValueError("inject must be one of %s, not %r" % (", ".join(INJECTIONS), requested))
    if requested == "auto":
        return "smbios" if image_speaks and not from_vm and boots_now else "guestfs"
    if requested == "smbios" and from_vm:
        raise ValueError("inject=smbios is for a new VM from a base image: a copy of a VM keeps that VM's identity "
                         "(machine-id, host keys, logs), which only guestfs or sysprep reset; choose one of those")
    if requested == "smbios" and not image_speaks:
        raise ValueError("inject=smbios needs a base image whose first boot reads its settings from SMBIOS (the "
                         "collection's image, with its %s marker beside it); this image has none: choose "
                         "inject=guestfs or sysprep" % FIRSTBOOT_MARKER)
    return requested


def _b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def smbios_strings(instance, hostname=None, ssh_key=None, address=None, network_config="networkd", grow_root=False):
    """The plan of a new VM from a clean base image (no identity to reset, the guest makes its own host keys) as
    SMBIOS OEM strings, one operation each: ``cloud1.v1 <op> <args>``; ``instance`` (the domain's UUID) makes the
    guest apply them once. Contents travel base64-encoded; paths and modes come from the plan itself."""
    if not instance or any(c.isspace() for c in str(instance)):
        raise ValueError("an SMBIOS plan needs an instance id without spaces")
    out = ["%s id %s" % (SMBIOS_PROTOCOL, instance)]
    units = []
    for step in plan(hostname=hostname, ssh_key=ssh_key, address=address, network_config=network_config,
                     grow_root=grow_root, reset_identity=False):
        kind = step[0]
        if kind == "write":
            out.append("%s file %s %s %s" % (SMBIOS_PROTOCOL, step[3], step[1], _b64(step[2])))
        elif kind == "append":
            out.append("%s append %s %s %s" % (SMBIOS_PROTOCOL, step[3], step[1], _b64(step[2])))
        elif kind == "mkdir":
            out.append("%s mkdir %s %s" % (SMBIOS_PROTOCOL, step[2], step[1]))
        elif kind == "link":
            out.append("%s link %s %s" % (SMBIOS_PROTOCOL, step[1], step[2]))
            if re.match(r"^/etc/systemd/system/[^/]+\.wants/[^/]+\.service$", step[2]):
                units.append(step[2].rsplit("/", 1)[1])   # enabled during this boot: started by the guest itself
        elif kind == "edit" and step[1] == "/etc/hosts":
            out.append("%s hosts %s" % (SMBIOS_PROTOCOL, hostname))
        else:
            raise ValueError("the SMBIOS first boot cannot carry out %s %s" % (kind, step[1]))
    out += ["%s start %s" % (SMBIOS_PROTOCOL, unit) for unit in units]
    for entry in out:
        if "\n" in entry or "\0" in entry:
            raise ValueError("an SMBIOS setting cannot hold a line break: %r" % entry[:60])
    return out
