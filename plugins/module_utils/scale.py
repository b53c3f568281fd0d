# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale one VM: vCPUs, memory and disk, live where the running domain allows it, otherwise in its
definition for the next boot; the disk grows online (block resize, then partition, PV and LV inside the
guest) or, for a stopped VM, offline (the image, and the guest grows its root at its next boot).

``ensure(params)`` validates, plans with ``scaling`` (pure: what goes live, what waits, what is refused),
reports the plan in check mode, otherwise carries it out and reads the VM back.
"""

from __future__ import annotations

import os
import shutil
import time

from ansible_collections.cloud1.iaas.plugins.module_utils import scaling, storage, sysprep
from ansible_collections.cloud1.iaas.plugins.module_utils.domain import parse_capabilities, resize_config
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import (
    InvalidInput,
    MissingDependency,
    NotFound,
    OperationFailed,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.guest import GROW_ROOT, GuestAccess
from ansible_collections.cloud1.iaas.plugins.module_utils.libvirt_client import LibvirtClient, libvirt
from ansible_collections.cloud1.iaas.plugins.module_utils.vm import RUNNING_LIKE, Planner, size_view

ACTIVE = ("running", "blocked", "paused")
# errors that say the guest agent cannot help (absent, not answering, or a driver without it)
NO_AGENT = tuple(getattr(libvirt, name, -1) for name in (
    "VIR_ERR_AGENT_UNRESPONSIVE", "VIR_ERR_NO_SUPPORT", "VIR_ERR_ARGUMENT_UNSUPPORTED",
    "VIR_ERR_OPERATION_UNSUPPORTED", "VIR_ERR_AGENT_COMMAND_TIMEOUT")) if libvirt else ()


def sizes(info):
    """The view of a VM's sizes used in results and diffs."""
    disk = root_disk(info)
    return dict(size_view(info), disk_bytes=disk.get("capacity") if disk else None)


def root_disk(info):
    disks = [d for d in info["disks"] if d["device"] == "disk" and d["target"]]
    return disks[0] if disks else None


class Scaler(Planner):
    """Plans and carries out the scaling of one VM (``act``/``note``/power cycle come from the vm core)."""

    def __init__(self, client, req, params, check_mode):
        super().__init__(client, dict(req, state="running"), params, check_mode)
        self.req = req
        self.guest_report = {}

    def guest(self, dom, info):
        p = self.params
        return GuestAccess(dom, self.req["name"], method=p.get("guest_access") or "auto",
                           address=info["metadata"].get("ip"), ssh_user=p.get("ssh_user") or "root",
                           ssh_private_key=p.get("ssh_private_key"), timeout=int(p.get("guest_timeout") or 120))

    # -- vCPUs and memory -------------------------------------------------------------------------

    def apply_definition(self, dom, steps):
        """All next-boot and live targets written into the persistent definition in one redefine."""
        values = {}
        for step in steps:
            key = {"vcpus": "vcpus", "max_vcpus": "max_vcpus", "topology": "topology", "memory": "memory_mib",
                   "max_memory": "max_memory_mib"}.get(step["what"])
            if key:
                values[key] = step["value"]
        if not values:
            return
        config_steps = [s for s in steps if s["scope"] == "config"]
        for step in config_steps:
            self.act(scaling.describe_step(self.req["name"], step))
        if self.check:
            return
        xml = self.c._call("read the definition of %s" % self.req["name"], dom.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)
        try:
            new_xml = resize_config(xml, **values)
        except ValueError as exc:
            raise InvalidInput("%s: %s" % (self.req["name"], exc))
        if new_xml != xml:
            self.c._call("redefine %s with the new sizes" % self.req["name"], self.c.conn.defineXML, new_xml)

    def apply_live(self, dom, info, steps):
        """vCPU hot(un)plug and balloon moves on the running domain; a refusal leaves it for the next boot."""
        name = self.req["name"]
        for step in steps:
            if step["scope"] != "live" or step["what"] not in ("vcpus", "memory"):
                continue
            text = scaling.describe_step(name, step)
            if step["what"] == "vcpus":
                fn, value, flags = dom.setVcpusFlags, step["value"], libvirt.VIR_DOMAIN_AFFECT_LIVE
            else:
                fn, value, flags = dom.setMemoryFlags, step["value"] * 1024, libvirt.VIR_DOMAIN_AFFECT_LIVE
            if self.check:
                self.act(text)
                continue
            try:
                fn(value, flags)
            except libvirt.libvirtError as exc:
                self.note("%s: refused live (%s); the definition has it for the next boot" % (text, exc))
                step["scope"] = "config"
                self.changed = True
                continue
            self.act(text)
            if step["what"] == "vcpus" and step["value"] > info["vcpus"]:
                self.online_vcpus(dom, step["value"])

    def online_vcpus(self, dom, count, patience=30):
        """Hot-plugged vCPUs start offline in a guest without an auto-online rule: online them through the
        agent (guest-set-vcpus) once the guest has registered them (its ACPI hotplug runs on its own time)."""
        deadline = time.monotonic() + patience
        error = None
        while True:
            try:
                dom.setVcpusFlags(count, libvirt.VIR_DOMAIN_VCPU_GUEST)
                online = scaling.cpu_count(dom.guestVcpus(0).get("online", ""))
                if online >= count:
                    self.note("onlined the new vCPUs inside %s (qemu-guest-agent): %d online" % (self.req["name"], online))
                    return
                error = "%d of %d online" % (online, count)
            except libvirt.libvirtError as exc:
                error = str(exc)
                if exc.get_error_code() in NO_AGENT:   # no agent, or a driver without it: waiting will not help
                    self.note("could not online the new vCPUs inside %s through qemu-guest-agent (%s): the guest "
                              "sees them once it onlines them (echo 1 > /sys/devices/system/cpu/cpuN/online)"
                              % (self.req["name"], exc))
                    return
                # otherwise the guest has not registered the hot-plugged vCPUs yet: try again
            if time.monotonic() > deadline:
                self.note("the new vCPUs of %s are not all online inside the guest after %d s (%s): the guest "
                          "sees them once it onlines them (echo 1 > /sys/devices/system/cpu/cpuN/online)"
                          % (self.req["name"], patience, error))
                return
            time.sleep(1)

    # -- disk --------------------------------------------------------------------------------------

    def grow_online(self, dom, info, step):
        name, disk = self.req["name"], root_disk(info)
        self.act(scaling.describe_step(name, step))
        if self.check:
            return
        guest = self.guest(dom, info)
        before = self._root_size(guest)
        self.c._call("resize the disk %s of %s" % (disk["target"], name), dom.blockResize, disk["target"],
                     step["value"], libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
        self.grow_inside(guest, before)

    def grow_inside(self, guest, before):
        name = self.req["name"]
        try:
            rc, out, err = guest.script(GROW_ROOT)
        except OperationFailed as exc:
            raise OperationFailed("the disk of %s grew but its root filesystem did not: %s; run this again when the "
                                  "guest answers (it grows what is left)" % (name, exc.message))
        if rc != 0:
            raise OperationFailed("growing the root filesystem inside %s failed (exit %d): %s; the disk itself grew"
                                  % (name, rc, (err or out).strip()[-1500:]))
        after = self._root_size(guest)
        self.note("grew the partition, PV and root LV inside %s (%s): root %s -> %s GiB" % (
            name, guest.used, scaling.gib_text(before or 0), scaling.gib_text(after or 0)))
        self.guest_report = {"access": guest.used, "root_bytes_before": before, "root_bytes_after": after}

    def _root_size(self, guest):
        try:
            return guest.root_size()
        except OperationFailed:
            return None

    def finish_inside(self, dom, info):
        """The disk already has the size asked for: grow what an earlier, interrupted run left inside."""
        guest = self.guest(dom, info)
        try:
            rc, _out, _err = guest.script(GROW_ROOT, "check")
        except OperationFailed as exc:
            self.note("could not check inside %s whether its root fills the disk: %s" % (self.req["name"], exc.message))
            return
        if rc != 3:
            return
        self.act("grow the root filesystem of %s to its disk (an earlier growth stopped before it)" % self.req["name"])
        if not self.check:
            self.grow_inside(guest, self._root_size(guest))

    def grow_offline(self, info, step):
        name, disk = self.req["name"], root_disk(info)
        path = disk["source"]
        if not self.check:
            if shutil.which("virt-sysprep") is None:
                raise MissingDependency("growing a stopped VM's disk needs virt-sysprep on the node to install the "
                                        "first-boot growth: install libguestfs-tools (the kvm_host role does), or "
                                        "start the VM and grow it online")
            if not os.path.exists(path):
                raise OperationFailed("the disk %s of %s is not visible where the module runs: run it on the node "
                                      "(delegate_to) with uri qemu:///system" % (path, name))
        self.act(scaling.describe_step(name, step))
        if self.check:
            return
        vol = storage.find_volume(self.c, path)
        if vol is None:
            raise NotFound("the disk %s of %s is not a volume libvirt can find" % (path, name))
        self.c._call("resize %s" % path, vol.resize, step["value"], 0)
        self.act("install the first-boot root growth in %s (virt-sysprep customize)" % path)
        caps = parse_capabilities(self.c._call("read the capabilities", self.c.conn.getCapabilities))
        sysprep.run_sysprep(path, software_emulation=caps["domain_type"] != "kvm", grow_root=True,
                            operations=["customize"])


def ensure(params, check_mode=False, conn=None):
    """The ``vm_scale`` module: make the VM's vCPUs, memory and disk match ``params``."""
    req = scaling.validate(params)
    name = req["name"]
    with LibvirtClient(params.get("uri") or "qemu:///system", conn=conn) as client:
        try:
            dom = client.lookup(name)
        except NotFound:
            raise NotFound("VM %s does not exist on %s: check the name and the node (userdetails.yml lists VMs)"
                           % (name, client.uri), name=name)
        config = client.describe(dom, config=True)
        live = client.describe(dom) if config["state"] in ACTIVE else None
        if live is not None:
            live["metadata"] = config["metadata"]
        disk = root_disk(live or config)
        if req["disk_gib"] and (disk is None or disk["capacity"] is None):
            raise OperationFailed("cannot read the disk size of %s on %s" % (name, client.uri))
        if req["disk_gib"] and config["state"] == "paused":
            raise InvalidInput("%s is paused: resume it (resumevm.yml) so its disk can grow online, or stop it"
                               % name)
        steps = scaling.plan(req, config, live, disk["capacity"] if disk and req["disk_gib"] else 0)
        before = sizes(live or config)
        before["next_boot"] = {k: config[k] for k in ("vcpus", "max_vcpus", "memory_mib", "max_memory_mib")}
        plan = Scaler(client, req, params, check_mode)
        plan.apply_definition(dom, steps)
        if live is not None:
            plan.apply_live(dom, live, steps)
        for step in steps:
            if step["what"] == "disk":
                if step["scope"] == "live":
                    plan.grow_online(dom, live, step)
                else:
                    plan.grow_offline(config, step)
        if req["disk_gib"] and not any(s["what"] == "disk" for s in steps) and live is not None and \
                live["state"] == "running":
            plan.finish_inside(dom, live)
        # the definition holds what the running VM does not have: from this run, or an earlier one
        pending = live is not None and (any(s["scope"] == "config" for s in steps) or any(
            config[k] != live[k] for k in ("vcpus", "max_vcpus", "max_memory_mib")))
        if pending and params.get("restart"):
            timeout = int(params.get("shutdown_timeout") or 120)
            plan.act("power-cycle %s so the new definition takes effect (ACPI shutdown up to %d s, start)"
                     % (name, timeout))
            plan.spec["state"] = "stopped"
            plan.changed = True
            if not check_mode:
                plan.transition(dom, dict(config, state=client.state(dom)))
                plan.spec["state"] = "running"
                plan.transition(dom, dict(config, state=client.state(dom)))
            pending = False
        elif pending:
            plan.note("%s takes the new vCPU/memory definition at its next power cycle (shutdownvm.yml, then "
                      "startvm.yml; a reboot inside the guest keeps the running sizes)" % name)
        if check_mode:
            after = dict(before, next_boot=dict(before["next_boot"]))
            for step in steps:
                key = {"vcpus": "vcpus", "max_vcpus": "max_vcpus", "memory": "memory_mib",
                       "max_memory": "max_memory_mib", "topology": "topology", "disk": "disk_bytes"}[step["what"]]
                if step["scope"] != "config" or live is None:
                    after[key] = step["value"]
                if key in after["next_boot"]:
                    after["next_boot"][key] = step["value"]
        else:
            now_config = client.describe(dom, config=True)
            now_live = client.describe(dom) if client.state(dom) in RUNNING_LIKE else None
            after = sizes(now_live or now_config)
            after["next_boot"] = {k: now_config[k] for k in ("vcpus", "max_vcpus", "memory_mib", "max_memory_mib")}
        node = client.hostname()
    result = {
        "changed": plan.changed,
        "name": name,
        "node": node,
        "uri": client.uri,
        "actions": plan.actions,
        "applied": scaling.summary(steps),
        "restart_pending": bool(pending),
        "vm": after,
        "guest": plan.guest_report,
    }
    if plan.changed:
        result["diff"] = {"before": before, "after": after}
    return result
