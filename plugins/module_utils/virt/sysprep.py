# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prepare a new VM disk before its first boot with virt-sysprep: identity reset, hostname, root SSH key,
static network configuration, and (when the disk is larger than its base) growth of the root volume at
first boot.

Only the operations a clone needs run (``OPERATIONS``); the rest of virt-sysprep's defaults (removing
user accounts' data, mail spools, package caches, ...) are for images handed to strangers and would only
cost time on every createvm.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestnet import network_files
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import GROW_ROOT
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import MissingDependency, OperationFailed

# operation -> why a clone needs it
OPERATIONS = {
    "machine-id": "a fresh /etc/machine-id, else clones share DHCP client IDs, journal IDs and systemd identity",
    "ssh-hostkeys": "each VM gets its own SSH host keys (regenerated at first boot), never its base's",
    "net-hwaddr": "RHEL ifcfg files pin the base's MAC address (HWADDR=), which the clone does not have",
    "udev-persistent-net": "old udev rules would rename the clone's NIC away from eth0",
    "dhcp-client-state": "leases of the base would be offered back to the DHCP server",
    "logfiles": "the base's logs do not belong to the new VM",
    "tmp-files": "stale files in /tmp and /var/tmp",
    "customize": "writes the hostname, root key, network files and first-boot commands (runs last)",
}


def sysprep_args(disk, hostname=None, ssh_key=None, address=None, network_config="networkd", grow_root=False,
                 staging=None, operations=None):
    """virt-sysprep's argument list, and the files to stage for --upload as {local name: content}.
    ``operations``: the virt-sysprep operations to run (default: all of ``OPERATIONS``; an existing VM's
    disk gets only ``customize``, its identity stays)."""
    args = ["virt-sysprep", "--quiet", "--format", "qcow2", "-a", disk,
            "--operations", ",".join(operations or OPERATIONS)]
    staged = {}
    if hostname:
        args += ["--hostname", hostname]
    if ssh_key:
        args += ["--ssh-inject", "root:string:%s" % ssh_key]
    if address:
        for i, (path, content, mode) in enumerate(network_files(network_config, address)):
            local = "file%d" % i
            staged[local] = content
            args += ["--mkdir", os.path.dirname(path),
                     "--upload", "%s:%s" % (os.path.join(staging or ".", local), path),
                     "--chmod", "%s:%s" % (mode, path)]
    if grow_root:
        staged["grow-root.sh"] = GROW_ROOT
        args += ["--firstboot", os.path.join(staging or ".", "grow-root.sh")]
    return args, staged


def run_sysprep(disk, software_emulation=False, timeout=900, **kwargs):
    """Run virt-sysprep on ``disk`` (a local file). libguestfs runs its appliance directly (no libvirt
    in between) and, where the node has no hardware virtualization, under TCG."""
    if shutil.which("virt-sysprep") is None:
        raise MissingDependency("virt-sysprep is not installed on this node: install libguestfs-tools "
                                "(Debian) or guestfs-tools (RHEL); the kvm_host role does")
    staging = tempfile.mkdtemp(prefix="cloud1-sysprep-")
    try:
        args, staged = sysprep_args(disk, staging=staging, **kwargs)
        for name, content in staged.items():
            with open(os.path.join(staging, name), "w") as handle:
                handle.write(content)
        env = dict(os.environ, LIBGUESTFS_BACKEND="direct")
        if software_emulation:
            env["LIBGUESTFS_BACKEND_SETTINGS"] = "force_tcg"
        try:
            res = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise OperationFailed("virt-sysprep on %s did not finish within %d s" % (disk, timeout))
        if res.returncode != 0:
            raise OperationFailed("virt-sysprep on %s failed (exit %d): %s" % (
                disk, res.returncode, (res.stderr or res.stdout).strip()[-2000:]))
        return args
    finally:
        shutil.rmtree(staging, ignore_errors=True)
