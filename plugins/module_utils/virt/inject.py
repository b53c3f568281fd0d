# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prepare a new VM's disk in one libguestfs session (the default injection, ``inject=guestfs``): one appliance
launch carries out the plan of core/guestprep.py (identity reset, hostname, root key, static address, first-boot
root growth). virt-sysprep (virt/sysprep.py) gives the same effects in a slower run: it inspects the guest and
launches its appliance for its own work; it stays for ``inject=sysprep``.

libguestfs keeps its appliance (kernel, initrd, root) built once per node under its cache directory
(/var/tmp/.guestfs-<uid>), so every run after the first starts it without building it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

from ansible_collections.cloud1.iaas.plugins.module_utils.core import guestprep
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import MissingDependency, OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import sysprep

try:
    import guestfs
    HAS_GUESTFS = True
except ImportError:
    HAS_GUESTFS = False


def _require():
    if not HAS_GUESTFS:
        raise MissingDependency("the libguestfs Python binding is not installed on this node: install python3-guestfs "
                                "(Debian) or python3-libguestfs (RHEL); the kvm_host role does. Or choose "
                                "inject=sysprep (virt-sysprep)")


def _mount_root(g, disk):
    """Mount the guest's root (the filesystem holding /etc/fstab: logical volumes first, then partitions, then
    whole disks) and, from its fstab, the filesystems the plan writes under. A few calls instead of libguestfs's
    inspection, which reads every filesystem (13 s of the appliance's emulated CPU on the box)."""
    for dev in g.lvs() + g.list_partitions() + g.list_devices():
        try:
            g.mount(dev, "/")
        except RuntimeError:
            continue
        if g.is_file("/etc/fstab"):
            break
        g.umount_all()
    else:
        raise OperationFailed("no filesystem of %s holds /etc/fstab: it is not an installed Linux guest" % disk)
    for spec, mountpoint in guestprep.fstab_mounts(_text(g, "/etc/fstab")):
        g.mount(_device(g, spec, disk), mountpoint)


def _device(g, spec, disk):
    """The appliance's device for an fstab source (LABEL=, UUID=, a /dev path; vdX is sdX in the appliance)."""
    try:
        if spec.startswith("LABEL="):
            return g.findfs_label(spec[6:])
        if spec.startswith("UUID="):
            return g.findfs_uuid(spec[5:])
    except RuntimeError as exc:
        raise OperationFailed("the guest's fstab names %s, which no filesystem of %s has: %s" % (spec, disk, exc))
    if spec.startswith("/dev/vd"):
        spec = "/dev/sd" + spec[len("/dev/vd"):]
    if not g.exists(spec):
        raise OperationFailed("the guest's fstab names %s, which the disk %s does not have" % (spec, disk))
    return spec


def _text(g, path):
    return g.read_file(path).decode("utf-8", "replace")


def _write(g, path, content, mode):
    g.mkdir_p(os.path.dirname(path))
    g.write(path, content.encode("utf-8"))
    g.chown(0, 0, path)
    g.chmod(int(mode, 8), path)


def _edit(g, path, function):
    if g.is_file(path):
        text = _text(g, path)
        new = function(text)
        if new != text:
            g.write(path, new.encode("utf-8"))


def _append(g, path, line, mode):
    text = _text(g, path) if g.is_file(path) else ""
    if line not in text.splitlines():
        _write(g, path, text + ("" if not text or text.endswith("\n") else "\n") + line + "\n", mode)


def _step(g, step):
    kind = step[0]
    if kind == "remove":
        for path in g.glob_expand(step[1]):
            g.rm_rf(path)
    elif kind == "empty":
        if g.is_file(step[1]):
            g.truncate(step[1])
    elif kind == "edit":
        _edit(g, step[1], step[2])
    elif kind == "edit_glob":
        for path in g.glob_expand(step[1]):
            _edit(g, path, step[2])
    elif kind == "write":
        _write(g, step[1], step[2], step[3])
    elif kind == "append":
        _append(g, step[1], step[2], step[3])
    elif kind == "mkdir":
        g.mkdir_p(step[1])
        g.chmod(int(step[2], 8), step[1])
    elif kind == "link":
        g.mkdir_p(os.path.dirname(step[2]))
        g.ln_sf(step[1], step[2])
    else:
        raise ValueError("unknown step %r" % (kind,))


def _selinux_relabel(g, paths):
    """Label what was written, when the guest enforces SELinux (never by turning SELinux off)."""
    if not g.is_file("/etc/selinux/config"):
        return
    conf = dict(line.split("=", 1) for line in _text(g, "/etc/selinux/config").splitlines()
                if "=" in line and not line.lstrip().startswith("#"))
    if conf.get("SELINUX", "disabled").strip() == "disabled":
        return
    specfile = "/etc/selinux/%s/contexts/files/file_contexts" % conf.get("SELINUXTYPE", "targeted").strip()
    if not g.is_file(specfile):
        raise OperationFailed("the guest enforces SELinux but has no %s to label the injected files with" % specfile)
    targets = sorted({p for p in paths if g.exists(p)})
    if hasattr(g, "setfiles"):
        g.setfiles(specfile, targets, force=True)
    else:
        for path in targets:
            g.selinux_relabel(specfile, path, force=True)


def make_host_keys(comment):
    """A new VM's SSH host keys, made here with ssh-keygen: {type: (private, public)}. The private halves exist
    only in a private temporary directory, removed before returning."""
    if shutil.which("ssh-keygen") is None:
        raise MissingDependency("ssh-keygen is not installed on this node: install openssh-client")
    tmp = tempfile.mkdtemp(prefix="cloud1-hostkeys-")
    try:
        keys = {}
        for kind in guestprep.HOST_KEY_TYPES:
            path = os.path.join(tmp, kind)
            res = subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", path],
                                 capture_output=True, text=True, timeout=120, check=False)
            if res.returncode != 0:
                raise OperationFailed("ssh-keygen -t %s failed: %s" % (kind, (res.stderr or res.stdout).strip()))
            with open(path) as private, open(path + ".pub") as public:
                keys[kind] = (private.read(), public.read())
        return keys
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def inject(disk, software_emulation=False, hostname=None, ssh_key=None, address=None, network_config="networkd",
           grow_root=False, reset_identity=True, host_keys=None):
    """Carry out guestprep's plan on ``disk`` (a local qcow2 file) in one appliance launch; return
    {"steps": [...described...], "seconds": {"launch": s, "write": s}}."""
    _require()
    g = guestfs.GuestFS(python_return_dict=True)
    try:
        g.set_backend("direct")
        if software_emulation:
            g.set_backend_settings(["force_tcg"])
        g.add_drive_opts(disk, format="qcow2", readonly=False)
        t0 = time.monotonic()
        try:
            g.launch()
            t1 = time.monotonic()
            _mount_root(g, disk)
            old = _text(g, "/etc/hostname").strip() if g.is_file("/etc/hostname") else None
            steps = guestprep.plan(hostname=hostname, old_hostname=old, ssh_key=ssh_key, address=address,
                                   network_config=network_config, grow_root=grow_root, reset_identity=reset_identity,
                                   host_keys=host_keys)
            for step in steps:
                _step(g, step)
            _selinux_relabel(g, [s[2] if s[0] == "link" else s[1] for s in steps
                                 if s[0] in ("write", "append", "mkdir", "link", "edit")])
            g.umount_all()
            g.shutdown()
        except RuntimeError as exc:   # libguestfs reports every failure as RuntimeError
            raise OperationFailed("preparing the disk %s with libguestfs failed: %s" % (disk, exc))
        return {"steps": guestprep.describe(steps),
                "seconds": {"launch": round(t1 - t0, 1), "write": round(time.monotonic() - t1, 1)}}
    finally:
        g.close()


DISK_INJECTIONS = ("guestfs", "sysprep")


def prepare(disk, method="guestfs", software_emulation=False, reset_identity=True, **settings):
    """Prepare ``disk`` by ``method``: "guestfs" (one libguestfs session) or "sysprep" (virt-sysprep, the seed's
    tool); ``settings``: hostname, ssh_key, address, network_config, grow_root. Returns what was done and how
    long it took. (``smbios`` writes nothing into the disk: the guest applies the plan itself.)"""
    if method not in DISK_INJECTIONS:
        raise OperationFailed("unknown disk injection %r: use one of %s" % (method, ", ".join(DISK_INJECTIONS)))
    t0 = time.monotonic()
    if method == "sysprep":
        settings.pop("host_keys", None)   # virt-sysprep removes the host keys; the guest makes its own
        args = sysprep.run_sysprep(disk, software_emulation=software_emulation,
                                   operations=None if reset_identity else ["customize"], **settings)
        return {"steps": [" ".join(args)], "seconds": {"total": round(time.monotonic() - t0, 1)}}
    done = inject(disk, software_emulation=software_emulation, reset_identity=reset_identity, **settings)
    done["seconds"]["total"] = round(time.monotonic() - t0, 1)
    return done
