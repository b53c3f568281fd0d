# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM on a node, declaratively: the core of the ``vm`` module.

``ensure(params)`` validates the request (before any connection), compares it with what libvirt has,
and plans actions; in check mode it stops there and reports the plan, otherwise it carries them out.
Creating a VM is: disk from the base image (linked clone or full copy, a libvirt storage volume),
its preparation (hostname, root key, static address, root growth: as SMBIOS settings that the collection's
image applies at its first boot, or written into the disk with an identity reset by one libguestfs session or
virt-sysprep), define with the tenant metadata, then
the wanted state. A failed step removes what this run created, so the node is left as it was.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
import urllib.parse
import uuid

from ansible_collections.cloud1.iaas.plugins.module_utils.core import guestprep, hostkeys, lifecycle, rules, tenancy, vmspec
from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import build_domain, parse_domain, stable_mac
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import (
    Cloud1Error,
    InvalidInput,
    NotFound,
    OperationFailed,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.actions import ActionLog
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import TOPOLOGY_SPEC, vm_argument_spec
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import inject as injection, locks, storage
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.wait import Waiter

DEFAULT_VCPUS = 1
DEFAULT_MEMORY_MIB = 512

ARGUMENT_SPEC = vm_argument_spec(
    state=dict(type="str", default=vmspec.DEFAULT_STATE, choices=list(vmspec.STATES)),
    image=dict(type="str"),
    image_dir=dict(type="path", default=vmspec.DEFAULT_IMAGE_DIR),
    source_vm=dict(type="str"),
    clone=dict(type="str", choices=list(vmspec.CLONE_MODES), default=vmspec.DEFAULT_CLONE),
    disk_dir=dict(type="path", default="/var/lib/cloud1/images"),
    disk_gib=dict(type="int"),
    vcpus=dict(type="int"),
    max_vcpus=dict(type="int"),
    topology=TOPOLOGY_SPEC,
    memory_mib=dict(type="int"),
    max_memory_mib=dict(type="int"),
    bridge=dict(type="str", default="br0"),
    ip=dict(type="str"),
    prefix=dict(type="int"),
    gateway=dict(type="str"),
    dns=dict(type="list", elements="str"),
    hostname=dict(type="str"),
    ssh_key=dict(type="str", no_log=False),
    new_owner=dict(type="str"),
    io=dict(type="str", choices=list(vmspec.IO_CLASSES)),
    os=dict(type="str", choices=list(vmspec.OS_FAMILIES)),
    network_config=dict(type="str", choices=list(vmspec.NETWORK_CONFIGS)),
    domain_type=dict(type="str", choices=list(vmspec.DOMAIN_TYPES), default=vmspec.DEFAULT_DOMAIN_TYPE),
    shutdown_timeout=dict(type="int", default=120),
    force=dict(type="bool", default=False),
    keep_disks=dict(type="bool", default=False),
    stale_disk=dict(type="str", choices=["refuse", "replace"], default="refuse"),
    nic_filter=dict(type="str", choices=["clean-traffic", "none"], default="clean-traffic"),
    inject=dict(type="str", choices=list(guestprep.INJECTIONS), default=guestprep.DEFAULT_INJECTION),
    appliance_slots=dict(type="int", aliases=["sysprep_slots"]),
)
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


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


def power(log, dom, state, wanted, force=False, shutdown_timeout=120):
    """Carry out ``lifecycle.plan`` on ``dom`` (a virt Domain; None in check mode for a VM not yet defined),
    recording each step in ``log``; return the state reached (the planned one in check mode)."""
    steps, result = lifecycle.plan(state, wanted, force)
    name = dom.name if dom is not None else "the new VM"
    run = {} if dom is None else {
        "start": dom.start, "start_paused": functools.partial(dom.start, paused=True), "resume": dom.resume,
        "wake": dom.wake, "pause": dom.suspend, "reboot": dom.reboot, "destroy": dom.destroy, "shutdown": dom.shutdown}
    for step in steps:
        text = lifecycle.describe(step, name)
        if step == "shutdown":
            text = "shut down %s (ACPI) and wait up to %d s" % (name, shutdown_timeout)
        log.change(text, run.get(step))
        if step == "shutdown" and not log.check:
            result = wait_off(dom, shutdown_timeout)
            log.note("%s powered off" % name)
    return result


def wait_off(dom, timeout):
    """Wait until ``dom`` is off; fail with what it is when it does not power off in time."""
    def probe():
        state = dom.state()
        return not rules.is_active(state), state

    done, state = Waiter(timeout).until(probe)
    if not done:
        raise OperationFailed(
            "%s did not power off within %d s after the ACPI shutdown request (it is %s): the guest may ignore ACPI "
            "or still be booting; wait and retry, raise shutdown_timeout, or power it off with force=true (the "
            "seed's destroy)" % (dom.name, timeout, state), state=state)
    return state


class VmExecutor:
    """Creates, reconciles, powers and deletes one VM, recording every step in an action log."""

    def __init__(self, client, spec, params, check_mode):
        self.c = client
        self.spec = spec
        self.params = params
        self.log = ActionLog(check_mode)
        self.created_disk = None
        self.defined = None
        self.prepared = None   # what the disk's preparation did and how long it took

    @property
    def check(self):
        return self.log.check

    # -- creation -----------------------------------------------------------------------------

    def base_path(self):
        spec = self.spec
        if spec["source_vm"]:
            src = self.c.find(spec["source_vm"])
            if src is None:
                raise NotFound("source VM %s does not exist on %s" % (spec["source_vm"], self.c.uri))
            info = src.describe()
            tenancy.check_access(spec["source_vm"], info["metadata"].get("owner"), spec["owner"])
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
        self._not_a_vm_disk(spec["image"], path)
        return path, {}

    @staticmethod
    def image_speaks_smbios(path):
        """True when the base image's marker says its first boot reads SMBIOS settings (guestprep)."""
        try:
            with open(path + guestprep.FIRSTBOOT_MARKER, encoding="utf-8") as handle:
                return guestprep.SMBIOS_PROTOCOL in handle.read().split()
        except OSError:
            return False

    def _not_a_vm_disk(self, image, path):
        """A base image is never a VM's disk: not in the VMs' disk directory, not any VM's disk on this node."""
        real = os.path.realpath(path)
        why = None
        disk_dir = os.path.realpath(self.params["disk_dir"])
        if os.path.dirname(real) == disk_dir != os.path.realpath(self.params["image_dir"]):
            why = "lies in the VMs' disk directory %s" % self.params["disk_dir"]
        for dom, info in self.c.describe_all(config=True):   # one bulk read of the node's domains
            if any(d["source"] and os.path.realpath(d["source"]) == real for d in info["disks"]):
                why = "is the disk of VM %s" % dom.name
        if why:
            raise InvalidInput("image %s %s, not a base image: to copy a VM give its name as source_vm (shut off); "
                               "nothing was changed" % (image, why))

    def create(self):
        spec, params = self.spec, self.params
        name = spec["name"]
        if spec["new_owner"]:
            raise InvalidInput("new_owner changes the owner of an existing VM; %s does not exist on %s: give owner to "
                               "create it; nothing was changed" % (name, self.c.uri))
        base, inherited = self.base_path()
        owner = tenancy.owner_for_creation(spec["owner"], inherited.get("owner"))
        base_vol = storage.base_volume(self.c, base)
        disk = os.path.join(params["disk_dir"], name + ".qcow2")
        stale = storage.find_volume(self.c, disk) is not None or os.path.lexists(disk)
        if stale and params.get("stale_disk") != "replace":
            raise InvalidInput("a disk %s already exists but no VM %s is defined: delete the stale disk or "
                               "choose another name" % (disk, name))
        base_info = storage.volume_info(base_vol)
        if spec["disk_gib"] is not None and spec["disk_gib"] * storage.GIB < base_info["capacity"]:
            base_gib = base_info["capacity"] / storage.GIB
            raise InvalidInput("disk_gib %d is smaller than the base image (%.1f GiB): xfs cannot shrink; ask for "
                               "at least %d" % (spec["disk_gib"], base_gib, -(-base_info["capacity"] // storage.GIB)))
        dtype = params.get("domain_type") or vmspec.DEFAULT_DOMAIN_TYPE
        if dtype == "auto":
            dtype = self.c.domain_type()
        vcpus = spec["vcpus"] or DEFAULT_VCPUS
        memory = spec["memory_mib"] or DEFAULT_MEMORY_MIB
        os_family = spec["os"] or inherited.get("os") or "debian"
        address = spec["address"]
        meta = {
            "owner": owner,
            "os": os_family,
            "io": spec["io"] or inherited.get("io") or "medium",
            "ip": address["ip"] if address else None,
            "prefix": address["prefix"] if address else None,
            "gateway": address["gateway"] if address else None,
            "hostname": spec["hostname"],
            "image": ("vm:%s" % spec["source_vm"]) if spec["source_vm"] else base,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        grow = spec["disk_gib"] is not None and spec["disk_gib"] * storage.GIB > base_info["capacity"]
        inject = bool(spec["hostname"] or spec["ssh_key"] or address or grow)
        try:
            method = guestprep.choose_injection(spec["inject"], bool(spec["source_vm"]),
                                                not spec["source_vm"] and self.image_speaks_smbios(base),
                                                boots_now=spec["state"] in ("running", "paused", "restarted"))
        except ValueError as exc:
            raise InvalidInput("%s; nothing was changed" % exc) from None
        settings = dict(hostname=spec["hostname"], ssh_key=spec["ssh_key"], address=address, grow_root=grow,
                        network_config=spec["network_config"] or vmspec.DEFAULT_NETWORK_CONFIG[os_family])
        instance = str(uuid.uuid4())
        oem = guestprep.smbios_strings(instance, **settings) if inject and method == "smbios" else None
        keys = None
        if inject and method == "guestfs" and not self.check:
            # the VM's own host keys, made here and recorded now: known before it boots (no reading them back)
            keys = injection.make_host_keys("root@%s" % (spec["hostname"] or name))
            meta["hostkeys"] = hostkeys.to_metadata(hostkeys.parse("".join(pub for _priv, pub in keys.values())))
        xml = build_domain({
            "name": name, "domain_type": dtype, "vcpus": vcpus, "max_vcpus": spec["max_vcpus"] or vcpus,
            "topology": spec["topology"], "memory_mib": memory,
            "max_memory_mib": spec["max_memory_mib"] or memory, "disk": disk, "bridge": params["bridge"],
            "mac": stable_mac(name), "metadata": meta,
            "nic_filter": None if params.get("nic_filter") == "none" else params.get("nic_filter") or "clean-traffic",
            "nic_ip": address["ip"] if address else None, "uuid": instance, "oem_strings": oem,
        })
        predicted = parse_domain(xml)
        predicted["state"] = "shutoff"
        if stale:   # made by a creation run that was killed before it defined the VM (createvm.yml took over
            # that run's reservation of the name): it never belonged to a VM
            self.log.change("delete the stale disk %s (a killed creation's, never a VM's)" % disk,
                            storage.delete_volume, self.c, disk)
        self.log.change("create disk %s (%s clone of %s%s)" % (
            disk, spec["clone"], base, ", %d GiB" % spec["disk_gib"] if spec["disk_gib"] else ""))
        if not self.check:
            storage.clone_volume(self.c, base_vol, disk, spec["disk_gib"], linked=spec["clone"] == "linked")
            self.created_disk = disk
        if inject:
            what = [w for w, on in (("hostname", spec["hostname"]), ("root ssh key", spec["ssh_key"]),
                                    ("static address", address), ("root growth at first boot", grow)) if on]
            if method == "smbios":
                self.log.change("prepare %s at its first boot (a clean image; %d SMBIOS settings in its definition): "
                                "%s" % (name, len(oem), ", ".join(what)))
                self.prepared = {"method": "smbios", "steps": oem[1:], "seconds": {"total": 0.0}}
            else:
                tool = "one libguestfs session" if method == "guestfs" else "virt-sysprep"
                self.log.change("prepare %s (%s): fresh identity, %s" % (disk, tool, ", ".join(what)))
            if not self.check and method != "smbios":
                if not os.path.exists(disk):
                    raise OperationFailed("the new disk %s is not visible on this machine, so it cannot be prepared "
                                          "before its first boot: run the module on the node itself (delegate_to) "
                                          "with uri qemu:///system" % disk)
                # a few appliances at a time per node (each is a whole VM): the others wait for a slot
                with locks.slot("appliance", params.get("appliance_slots") or max(1, (os.cpu_count() or 2) // 2)):
                    self.prepared = injection.prepare(disk, method, software_emulation=(dtype != "kvm"),
                                                      host_keys=keys, **settings)
                    self.prepared["method"] = method
        self.log.change("define %s (%s, %d vCPU, %d MiB)" % (name, dtype, vcpus, memory))
        if not self.check:
            dom = self.c.define(xml, "define %s" % name)
            self.defined = dom
            return dom, dom.describe(config=True)
        return None, predicted

    def rollback(self):
        """Remove what this run created; say what could not be removed."""
        leftovers = []
        if self.defined is not None:
            try:
                if self.defined.is_active():
                    self.defined.destroy()
                self.defined.undefine()
            except Cloud1Error as exc:
                leftovers.append("domain %s (%s)" % (self.spec["name"], exc.message))
        if self.created_disk:
            try:
                storage.delete_volume(self.c, self.created_disk)
            except Cloud1Error as exc:
                leftovers.append("disk %s (%s)" % (self.created_disk, exc.message))
        return leftovers

    # -- an existing VM --------------------------------------------------------------------------

    def reconcile(self, dom, info):
        """Bring metadata, vCPUs and memory of an existing VM to the request (the persistent config:
        they take effect at the next boot of a running VM); True when the running VM lags its definition."""
        spec, log = self.spec, self.log
        config = dict(info)   # ``info`` is the persistent configuration; it is updated below as planned
        meta = dict(info["metadata"])
        if spec["address"] and meta.get("ip") and spec["address"]["ip"] != meta.get("ip"):
            raise InvalidInput("VM %s already has the address %s; changing a VM's address is not supported: "
                               "delete it (deletevm.yml) and create it again" % (spec["name"], meta["ip"]))
        wanted = dict(meta)
        for key in ("io", "os"):
            if spec[key] and spec[key] != meta.get(key):
                wanted[key] = spec[key]
        if spec["new_owner"]:   # the explicit change of owner (the request's owner, if any, was checked)
            wanted["owner"] = spec["new_owner"]
        if wanted != meta:
            changes = ", ".join("%s %s -> %s" % (k, meta.get(k), wanted[k]) for k in wanted if wanted[k] != meta.get(k))
            log.change("update the metadata of %s: %s" % (spec["name"], changes), dom.set_metadata, wanted)
            info["metadata"] = wanted
        reboot = False
        if spec["max_vcpus"] and spec["max_vcpus"] != config["max_vcpus"]:
            log.change("set max vCPUs of %s to %d (next boot)" % (spec["name"], spec["max_vcpus"]),
                       dom.set_vcpus, spec["max_vcpus"], config=True, maximum=True)
            info["max_vcpus"] = spec["max_vcpus"]
            reboot = True
        if spec["vcpus"] and spec["vcpus"] != config["vcpus"]:
            if spec["vcpus"] > max(config["max_vcpus"], spec["max_vcpus"] or 0):
                log.change("raise max vCPUs of %s to %d (next boot)" % (spec["name"], spec["vcpus"]),
                           dom.set_vcpus, spec["vcpus"], config=True, maximum=True)
                info["max_vcpus"] = spec["vcpus"]
            log.change("set vCPUs of %s to %d (next boot)" % (spec["name"], spec["vcpus"]),
                       dom.set_vcpus, spec["vcpus"], config=True)
            info["vcpus"] = spec["vcpus"]
            reboot = True
        max_mem = spec["max_memory_mib"] or (spec["memory_mib"] if spec["memory_mib"] and
                                             spec["memory_mib"] > config["max_memory_mib"] else None)
        if max_mem and max_mem != config["max_memory_mib"]:
            log.change("set max memory of %s to %d MiB (next boot)" % (spec["name"], max_mem),
                       dom.set_memory, max_mem, config=True, maximum=True)
            info["max_memory_mib"] = max_mem
            reboot = True
        if spec["memory_mib"] and spec["memory_mib"] != config["memory_mib"]:
            log.change("set memory of %s to %d MiB (next boot)" % (spec["name"], spec["memory_mib"]),
                       dom.set_memory, spec["memory_mib"], config=True)
            info["memory_mib"] = spec["memory_mib"]
            reboot = True
        return reboot and rules.is_active(info["state"])

    def absent(self, dom, info):
        name, log = self.spec["name"], self.log
        if not self.params.get("keep_disks"):   # before anything changes: no other VM's disk builds on these
            for disk in self._deletable(info):
                users = storage.dependents(self.c, disk)
                if users:
                    raise InvalidInput("%s's disk %s is the backing file of %s: delete that VM first (or keep the "
                                       "disks with keep_disks); nothing was changed" % (name, disk, ", ".join(users)))
        if rules.is_active(info["state"]):
            log.change("power off %s" % name, dom.destroy)
        if info["persistent"]:
            log.change("undefine %s" % name, dom.undefine)
        self._drop_serial_log(info)
        deletable = [] if self.params.get("keep_disks") else self._deletable(info)
        kept = []
        disk_dir = os.path.normpath(self.params["disk_dir"])
        for src in (d["source"] for d in info["disks"] if d["device"] == "disk" and d["source"]):
            if src in deletable:
                log.change("delete disk %s" % src, storage.delete_volume, self.c, src)
                continue
            kept.append(src)
            if not self.params.get("keep_disks"):
                log.note("kept %s: it is not under disk_dir %s" % (src, disk_dir))
        return kept

    def _drop_serial_log(self, info):
        """The deleted VM's serial console log goes with it (a new VM of the same name would append to it),
        when this module runs on the node that keeps it."""
        path = info.get("serial_log")
        if not path or urllib.parse.urlparse(self.c.uri).hostname or not os.path.isfile(path):
            return
        try:
            self.log.change("delete the serial console log %s" % path, os.remove, path)
        except OSError as exc:
            self.log.note("kept the serial console log %s: %s" % (path, exc.strerror))

    def _deletable(self, info):
        """The VM's disks that deleting it removes: those under disk_dir."""
        disk_dir = os.path.normpath(self.params["disk_dir"])
        return [d["source"] for d in info["disks"] if d["device"] == "disk" and d["source"]
                and os.path.dirname(os.path.normpath(d["source"])) == disk_dir]


def ensure(params, check_mode=False, conn=None):
    """The ``vm`` module: make the VM match ``params``; return the result dict."""
    spec = vmspec.validate(params)
    # one changer per VM and node: a module left running by a killed run finishes before this one acts
    guard = contextlib.nullcontext() if check_mode else locks.vm_lock(spec["name"])
    with guard, LibvirtClient(params.get("uri") or "qemu:///system", conn=conn) as client:
        ex = VmExecutor(client, spec, params, check_mode)
        dom = client.find(spec["name"])
        before_info = dom.describe(config=True) if dom is not None else None
        if before_info is not None:   # an existing VM: only its owner (or an admin) acts on it, before anything
            tenancy.check_access(spec["name"], before_info["metadata"].get("owner"), spec["owner"])
        before = _view(before_info)
        kept = []
        if spec["state"] == "absent":
            if dom is not None:
                kept = ex.absent(dom, before_info)
            after = {"state": "absent"}
        else:
            reboot_pending = False
            try:
                if dom is None:
                    dom, info = ex.create()
                else:
                    info = dict(before_info)
                    reboot_pending = ex.reconcile(dom, info)
                info["state"] = power(ex.log, dom, info["state"], spec["state"], force=params.get("force"),
                                      shutdown_timeout=int(params.get("shutdown_timeout") or 120))
            except Exception as exc:   # any failure: what this run created goes, then the error goes on
                created = ex.created_disk or ex.defined is not None
                leftovers = ex.rollback()
                if created and isinstance(exc, Cloud1Error):
                    exc.message += "; rolled back what this run created" + (
                        " except: " + ", ".join(leftovers) if leftovers else "")
                raise
            if dom is not None and not check_mode:
                info = dom.describe(config=True)
            after = _view(info)
            if reboot_pending:
                ex.log.note("the new vCPU/memory configuration takes effect at the next boot")
        node = client.hostname()
        uri = client.uri
    meta = after.get("metadata") or {}
    return ex.log.result(before, after, name=spec["name"], node=node, uri=uri, state=after["state"], vm=after,
                         ip=meta.get("ip"), kept_disks=kept, prepared=ex.prepared,
                         hostkeys=hostkeys.from_metadata(meta.get("hostkeys")))
