# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM on a node, declaratively: the core of the ``vm`` module.

``ensure(params)`` validates the request (before any connection), compares it with what libvirt has,
and plans actions; in check mode it stops there and reports the plan, otherwise it carries them out.
Creating a VM is: disk from the base image (linked clone or full copy, a libvirt storage volume),
virt-sysprep injection of hostname, root key and static address, define with the tenant metadata, then
the wanted state. A failed step removes what this run created, so the node is left as it was.
"""

from __future__ import annotations

import os
import time

from ansible_collections.cloud1.iaas.plugins.module_utils import storage, sysprep, vmspec
from ansible_collections.cloud1.iaas.plugins.module_utils.domain import (
    build_domain,
    parse_capabilities,
    parse_domain,
    stable_mac,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import (
    Cloud1Error,
    InvalidInput,
    NotFound,
    OperationFailed,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.libvirt_client import LibvirtClient, libvirt

DEFAULT_VCPUS = 1
DEFAULT_MEMORY_MIB = 512
RUNNING_LIKE = ("running", "blocked", "paused", "pmsuspended")


def _view(info):
    """The compact view of a VM used in diffs and results."""
    if info is None:
        return {"state": "absent"}
    return dict(size_view(info),
                disks=[d["source"] for d in info["disks"] if d["device"] == "disk"],
                mac=info["nics"][0]["mac"] if info["nics"] else None,
                metadata=info["metadata"])


def size_view(info):
    """State, vCPUs (with maximum and topology) and memory (with maximum) of a described VM."""
    return {key: info.get(key) for key in ("state", "vcpus", "max_vcpus", "topology", "memory_mib", "max_memory_mib")}


class Planner:
    """Plans and (unless in check mode) carries out the changes for one VM."""

    def __init__(self, client, spec, params, check_mode):
        self.c = client
        self.spec = spec
        self.params = params
        self.check = check_mode
        self.actions = []       # what was (or would be) done, and notes, in order
        self.changed = False
        self.created_disk = None
        self.defined = None

    # -- helpers -----------------------------------------------------------------------------

    def note(self, text):
        """Something to report that is not a change."""
        self.actions.append(text)

    def act(self, text, fn=None, *args):
        """A change: recorded, and carried out with ``fn(*args)`` unless in check mode."""
        self.actions.append(text)
        self.changed = True
        if not self.check and fn is not None:
            return self.c._call(text, fn, *args)
        return None

    def lookup(self, name):
        try:
            return self.c.lookup(name)
        except NotFound:
            return None

    # -- creation -----------------------------------------------------------------------------

    def base_path(self):
        spec = self.spec
        if spec["source_vm"]:
            src = self.lookup(spec["source_vm"])
            if src is None:
                raise NotFound("source VM %s does not exist on %s" % (spec["source_vm"], self.c.uri))
            info = self.c.describe(src)
            if info["state"] != "shutoff":
                raise InvalidInput("source VM %s is %s: shut it down first, a running VM's disk changes while "
                                   "it is copied" % (spec["source_vm"], info["state"]))
            disks = [d["source"] for d in info["disks"] if d["device"] == "disk" and d["source"]]
            if not disks:
                raise InvalidInput("source VM %s has no disk to clone" % spec["source_vm"])
            return disks[0], info["metadata"]
        if not spec["image"]:
            raise InvalidInput("VM %s does not exist on %s; to create it give image (a base image under %s) "
                               "or source_vm" % (spec["name"], self.c.uri, self.params["image_dir"]))
        path = spec["image"]
        image_dir = os.path.realpath(self.params["image_dir"])
        if os.path.lexists(path):   # on the node: follow links, and they must stay inside the directory
            path = os.path.realpath(path)
            if not path.startswith(image_dir.rstrip("/") + "/"):
                raise InvalidInput("image %s resolves to %s, outside the image directory %s"
                                   % (spec["image"], path, image_dir))
        return path, {}

    def create(self):
        spec, params = self.spec, self.params
        name = spec["name"]
        base, inherited = self.base_path()
        base_vol = storage.base_volume(self.c, base)
        disk = os.path.join(params["disk_dir"], name + ".qcow2")
        if storage.find_volume(self.c, disk) is not None or os.path.lexists(disk):
            raise InvalidInput("a disk %s already exists but no VM %s is defined: delete the stale disk or "
                               "choose another name" % (disk, name))
        base_info = storage.volume_info(base_vol)
        if spec["disk_gib"] is not None and spec["disk_gib"] * storage.GIB < base_info["capacity"]:
            base_gib = base_info["capacity"] / storage.GIB
            raise InvalidInput("disk_gib %d is smaller than the base image (%.1f GiB): xfs cannot shrink; ask for "
                               "at least %d" % (spec["disk_gib"], base_gib, -(-base_info["capacity"] // storage.GIB)))
        dtype = params.get("domain_type") or "auto"
        if dtype == "auto":
            caps = parse_capabilities(self.c._call("read the capabilities", self.c.conn.getCapabilities))
            dtype = caps["domain_type"] or "qemu"
        vcpus = spec["vcpus"] or DEFAULT_VCPUS
        memory = spec["memory_mib"] or DEFAULT_MEMORY_MIB
        os_family = spec["os"] or inherited.get("os") or "debian"
        address = spec["address"]
        meta = {
            "owner": spec["owner"] or inherited.get("owner"),
            "os": os_family,
            "io": spec["io"] or inherited.get("io") or "medium",
            "ip": address["ip"] if address else None,
            "prefix": address["prefix"] if address else None,
            "gateway": address["gateway"] if address else None,
            "hostname": spec["hostname"],
            "image": ("vm:%s" % spec["source_vm"]) if spec["source_vm"] else base,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        xml = build_domain({
            "name": name, "domain_type": dtype, "vcpus": vcpus, "max_vcpus": spec["max_vcpus"] or vcpus,
            "topology": spec["topology"], "memory_mib": memory,
            "max_memory_mib": spec["max_memory_mib"] or memory, "disk": disk, "bridge": params["bridge"],
            "mac": stable_mac(name), "metadata": meta,
        })
        grow = spec["disk_gib"] is not None and spec["disk_gib"] * storage.GIB > base_info["capacity"]
        inject = bool(spec["hostname"] or spec["ssh_key"] or address or grow)
        predicted = parse_domain(xml)
        predicted["state"] = "shutoff"
        self.act("create disk %s (%s clone of %s%s)" % (
            disk, spec["clone"], base, ", %d GiB" % spec["disk_gib"] if spec["disk_gib"] else ""))
        if not self.check:
            storage.clone_volume(self.c, base_vol, disk, spec["disk_gib"], linked=spec["clone"] == "linked")
            self.created_disk = disk
        if inject:
            what = [w for w, on in (("hostname", spec["hostname"]), ("root ssh key", spec["ssh_key"]),
                                    ("static address", address), ("root growth at first boot", grow)) if on]
            self.act("virt-sysprep %s: %s" % (disk, ", ".join(what)))
            if not self.check:
                if not os.path.exists(disk):
                    raise OperationFailed("the new disk %s is not visible on this machine, so virt-sysprep cannot "
                                          "prepare it: run the module on the node itself (delegate_to) with "
                                          "uri qemu:///system" % disk)
                sysprep.run_sysprep(
                    disk, software_emulation=(dtype != "kvm"), hostname=spec["hostname"], ssh_key=spec["ssh_key"],
                    address=address, grow_root=grow,
                    network_config=spec["network_config"] or vmspec.DEFAULT_NETWORK_CONFIG[os_family])
        self.act("define %s (%s, %d vCPU, %d MiB)" % (name, dtype, vcpus, memory))
        if not self.check:
            dom = self.c._call("define %s" % name, self.c.conn.defineXML, xml)
            self.defined = dom
            return dom, self.c.describe(dom, config=True)
        return None, predicted

    def rollback(self):
        """Remove what this run created; say what could not be removed."""
        leftovers = []
        if self.defined is not None:
            try:
                if self.defined.isActive():
                    self.defined.destroy()
                self.defined.undefine()
            except libvirt.libvirtError as exc:
                leftovers.append("domain %s (%s)" % (self.spec["name"], exc))
        if self.created_disk:
            try:
                storage.delete_volume(self.c, self.created_disk)
            except Cloud1Error as exc:
                leftovers.append("disk %s (%s)" % (self.created_disk, exc.message))
        return leftovers

    # -- an existing VM --------------------------------------------------------------------------

    def reconcile(self, dom, info):
        """Bring metadata, vCPUs and memory of an existing VM to the request (the persistent config:
        they take effect at the next boot of a running VM)."""
        spec = self.spec
        config = dict(info)   # ``info`` is the persistent configuration; it is updated below as planned
        meta = dict(info["metadata"])
        if spec["address"] and meta.get("ip") and spec["address"]["ip"] != meta.get("ip"):
            raise InvalidInput("VM %s already has the address %s; changing a VM's address is not supported: "
                               "delete it (deletevm.yml) and create it again" % (spec["name"], meta["ip"]))
        wanted = dict(meta)
        for key in ("owner", "io", "os"):
            if spec[key] and spec[key] != meta.get(key):
                wanted[key] = spec[key]
        if wanted != meta:
            changes = ", ".join("%s %s -> %s" % (k, meta.get(k), wanted[k]) for k in wanted if wanted[k] != meta.get(k))
            self.act("update the metadata of %s: %s" % (spec["name"], changes))
            if not self.check:
                self.c.set_metadata(dom, wanted)
            info["metadata"] = wanted
        reboot = False
        config_flag = libvirt.VIR_DOMAIN_AFFECT_CONFIG
        if spec["max_vcpus"] and spec["max_vcpus"] != config["max_vcpus"]:
            self.act("set max vCPUs of %s to %d (next boot)" % (spec["name"], spec["max_vcpus"]),
                     dom.setVcpusFlags, spec["max_vcpus"], config_flag | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
            info["max_vcpus"] = spec["max_vcpus"]
            reboot = True
        if spec["vcpus"] and spec["vcpus"] != config["vcpus"]:
            if spec["vcpus"] > max(config["max_vcpus"], spec["max_vcpus"] or 0):
                self.act("raise max vCPUs of %s to %d (next boot)" % (spec["name"], spec["vcpus"]),
                         dom.setVcpusFlags, spec["vcpus"], config_flag | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
                info["max_vcpus"] = spec["vcpus"]
            self.act("set vCPUs of %s to %d (next boot)" % (spec["name"], spec["vcpus"]),
                     dom.setVcpusFlags, spec["vcpus"], config_flag)
            info["vcpus"] = spec["vcpus"]
            reboot = True
        max_mem = spec["max_memory_mib"] or (spec["memory_mib"] if spec["memory_mib"] and
                                             spec["memory_mib"] > config["max_memory_mib"] else None)
        if max_mem and max_mem != config["max_memory_mib"]:
            self.act("set max memory of %s to %d MiB (next boot)" % (spec["name"], max_mem),
                     dom.setMemoryFlags, max_mem * 1024, config_flag | libvirt.VIR_DOMAIN_MEM_MAXIMUM)
            info["max_memory_mib"] = max_mem
            reboot = True
        if spec["memory_mib"] and spec["memory_mib"] != config["memory_mib"]:
            self.act("set memory of %s to %d MiB (next boot)" % (spec["name"], spec["memory_mib"]),
                     dom.setMemoryFlags, spec["memory_mib"] * 1024, config_flag)
            info["memory_mib"] = spec["memory_mib"]
            reboot = True
        return reboot and info["state"] in RUNNING_LIKE

    # -- state ----------------------------------------------------------------------------------

    def wait_for(self, dom, states, timeout):
        deadline = time.monotonic() + timeout
        while True:
            state = self.c.state(dom)
            if state in states:
                return state
            if time.monotonic() >= deadline:
                return state
            time.sleep(1)

    def transition(self, dom, info):
        """Take the VM from its current state to the wanted one; return the new state."""
        want, name = self.spec["state"], self.spec["name"]
        state = info["state"]
        timeout = int(self.params.get("shutdown_timeout") or 120)
        if want == "present":
            return state
        if want == "running":
            if state == "paused":
                self.act("resume %s" % name, dom and dom.resume)
            elif state == "pmsuspended":
                self.act("wake %s" % name, dom and dom.pMWakeup, 0)
            elif state not in RUNNING_LIKE:
                self.act("start %s" % name, dom and dom.create)
            return "running"
        if want == "paused":
            if state in ("running", "blocked"):
                self.act("pause %s" % name, dom and dom.suspend)
            elif state not in ("paused",):
                self.act("start %s paused" % name, dom and dom.createWithFlags, libvirt.VIR_DOMAIN_START_PAUSED)
            return "paused"
        if want == "restarted":
            if state == "paused":
                self.act("resume %s" % name, dom and dom.resume)
            if state in RUNNING_LIKE:
                self.act("reboot %s (ACPI)" % name, dom and dom.reboot, 0)
            else:
                self.act("start %s" % name, dom and dom.create)
            return "running"
        if want == "stopped":
            if state not in RUNNING_LIKE:
                return state
            if self.params.get("force"):
                self.act("power off %s (destroy)" % name, dom and dom.destroy)
                return "shutoff"
            if state == "paused":
                self.act("resume %s to let it shut down" % name, dom and dom.resume)
            self.act("shut down %s (ACPI) and wait up to %d s" % (name, timeout), dom and dom.shutdown)
            if self.check:
                return "shutoff"
            reached = self.wait_for(dom, ("shutoff", "crashed"), timeout)
            if reached not in ("shutoff", "crashed"):
                raise OperationFailed(
                    "%s did not power off within %d s after the ACPI shutdown request (it is %s): the guest may "
                    "ignore ACPI or still be booting; wait and retry, raise shutdown_timeout, or power it off "
                    "with force=true (the seed's destroy)" % (name, timeout, reached), state=reached)
            self.note("%s powered off" % name)
            return reached
        raise InvalidInput("unknown state %s" % want)

    @staticmethod
    def undefine(dom):
        """Undefine with whatever the domain carries (managed save, snapshot/checkpoint metadata, NVRAM);
        drivers that know fewer of these flags get the ones they know."""
        full = 0
        for flag in ("VIR_DOMAIN_UNDEFINE_MANAGED_SAVE", "VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA",
                     "VIR_DOMAIN_UNDEFINE_NVRAM", "VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA"):
            full |= getattr(libvirt, flag, 0)
        basic = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        try:
            return dom.undefineFlags(full)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
                raise
            return dom.undefineFlags(basic)

    def absent(self, dom, info):
        name = self.spec["name"]
        if info["state"] in RUNNING_LIKE:
            self.act("power off %s" % name, dom.destroy)
        if info["persistent"]:
            self.act("undefine %s" % name, self.undefine, dom)
        kept = []
        disk_dir = os.path.normpath(self.params["disk_dir"])
        for disk in info["disks"]:
            src = disk["source"]
            if disk["device"] != "disk" or not src:
                continue
            if self.params.get("keep_disks"):
                kept.append(src)
            elif os.path.dirname(os.path.normpath(src)) != disk_dir:
                kept.append(src)
                self.note("kept %s: it is not under disk_dir %s" % (src, disk_dir))
            else:
                self.act("delete disk %s" % src)
                if not self.check:
                    storage.delete_volume(self.c, src)
        return kept


def ensure(params, check_mode=False, conn=None):
    """The ``vm`` module: make the VM match ``params``; return the result dict."""
    spec = vmspec.validate(params)
    with LibvirtClient(params.get("uri") or "qemu:///system", conn=conn) as client:
        plan = Planner(client, spec, params, check_mode)
        dom = plan.lookup(spec["name"])
        before_info = client.describe(dom, config=True) if dom is not None else None
        before = _view(before_info)
        kept = []
        if spec["state"] == "absent":
            if dom is not None:
                kept = plan.absent(dom, before_info)
            after = {"state": "absent"}
            info = None
        else:
            reboot_pending = False
            try:
                if dom is None:
                    dom, info = plan.create()
                else:
                    info = dict(before_info)
                    reboot_pending = plan.reconcile(dom, info)
                info["state"] = plan.transition(dom, info)
            except Cloud1Error as exc:
                leftovers = plan.rollback()
                if plan.created_disk or plan.defined is not None:
                    exc.message += "; rolled back what this run created" + (
                        " except: " + ", ".join(leftovers) if leftovers else "")
                raise
            except libvirt.libvirtError as exc:
                leftovers = plan.rollback()
                raise OperationFailed("%s failed on %s: %s; rolled back what this run created%s" % (
                    plan.actions[-1] if plan.actions else "the request", client.uri, exc,
                    " except: " + ", ".join(leftovers) if leftovers else ""))
            if dom is not None and not check_mode:
                info = client.describe(dom, config=True)
            after = _view(info)
            if reboot_pending:
                plan.note("the new vCPU/memory configuration takes effect at the next boot")
        node = client._call("read the host name", client.conn.getHostname)
    changed = plan.changed
    meta = after.get("metadata") or {}
    result = {
        "changed": changed,
        "name": spec["name"],
        "node": node,
        "uri": client.uri,
        "state": after["state"],
        "actions": plan.actions,
        "vm": after,
        "ip": meta.get("ip"),
        "kept_disks": kept,
    }
    if changed:
        result["diff"] = {"before": before, "after": after}
    return result
