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

from ansible_collections.cloud1.iaas.plugins.module_utils.core import hostkeys, rules, scaling, tenancy
from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import resize_config
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import GROW_ROOT
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import (
    AgentUnavailable,
    InvalidInput,
    MissingDependency,
    NotFound,
    OperationFailed,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.actions import ActionLog
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import TOPOLOGY_SPEC, vm_argument_spec
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.vm import power, size_view
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import inject as injection, storage
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.guest import GuestAccess
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.wait import Waiter

GUEST_ACCESS = ("auto", "agent", "ssh")

ARGUMENT_SPEC = vm_argument_spec(
    vcpus=dict(type="int"),
    max_vcpus=dict(type="int"),
    topology=TOPOLOGY_SPEC,
    memory_mib=dict(type="int"),
    max_memory_mib=dict(type="int"),
    disk_gib=dict(type="int"),
    restart=dict(type="bool", default=False),
    shutdown_timeout=dict(type="int", default=120),
    guest_access=dict(type="str", choices=list(GUEST_ACCESS), default="auto"),
    ssh_user=dict(type="str", default="root"),
    ssh_private_key=dict(type="str", no_log=True),
    guest_timeout=dict(type="int", default=120),
)
REQUIRED_ONE_OF = [["vcpus", "max_vcpus", "topology", "memory_mib", "max_memory_mib", "disk_gib"]]
NEXT_BOOT_KEYS = ("vcpus", "max_vcpus", "memory_mib", "max_memory_mib")
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, required_one_of=REQUIRED_ONE_OF)


def sizes(info):
    """The view of a VM's sizes used in results and diffs."""
    disk = root_disk(info)
    return dict(size_view(info), disk_bytes=disk.get("capacity") if disk else None)


def root_disk(info):
    disks = [d for d in info["disks"] if d["device"] == "disk" and d["target"]]
    return disks[0] if disks else None


class ScaleExecutor:
    """Carries out the scaling plan of one VM, recording every step in an action log."""

    def __init__(self, client, dom, req, params, check_mode):
        self.c, self.dom, self.req, self.params = client, dom, req, params
        self.log = ActionLog(check_mode)
        self.guest_report = {}

    @property
    def check(self):
        return self.log.check

    def guest(self, info):
        p = self.params
        return GuestAccess(self.dom, method=p.get("guest_access") or "auto", address=info["metadata"].get("ip"),
                           ssh_user=p.get("ssh_user") or "root", ssh_private_key=p.get("ssh_private_key"),
                           timeout=int(p.get("guest_timeout") or 120),
                           host_keys=hostkeys.from_metadata(info["metadata"].get("hostkeys")))

    # -- vCPUs and memory -------------------------------------------------------------------------

    def apply_definition(self, steps):
        """All next-boot and live targets written into the persistent definition in one redefine."""
        keys = {"vcpus": "vcpus", "max_vcpus": "max_vcpus", "topology": "topology", "memory": "memory_mib",
                "max_memory": "max_memory_mib"}
        values = {keys[s["what"]]: s["value"] for s in steps if s["what"] in keys}
        if not values:
            return
        for step in steps:
            if step["scope"] == "config":
                self.log.change(scaling.describe_step(self.req["name"], step))
        if self.check:
            return
        xml = self.dom.xml(inactive=True)
        try:
            new_xml = resize_config(xml, **values)
        except ValueError as exc:
            raise InvalidInput("%s: %s" % (self.req["name"], exc))
        if new_xml != xml:
            self.c.define(new_xml, "redefine %s with the new sizes" % self.req["name"])

    def apply_live(self, info, steps):
        """vCPU hot(un)plug and balloon moves on the running domain; a refusal leaves it for the next boot."""
        for step in steps:
            if step["scope"] != "live" or step["what"] not in ("vcpus", "memory"):
                continue
            text = scaling.describe_step(self.req["name"], step)
            if self.check:
                self.log.change(text)
                continue
            setter = self.dom.set_vcpus if step["what"] == "vcpus" else self.dom.set_memory
            try:
                setter(step["value"], live=True)
            except OperationFailed as exc:
                self.log.note("%s: refused live (%s); the definition has it for the next boot" % (text, exc.message))
                step["scope"] = "config"
                self.log.changed = True
                continue
            self.log.change(text)
            if step["what"] == "vcpus" and step["value"] > info["vcpus"]:
                self.online_vcpus(step["value"])

    def online_vcpus(self, count, patience=30):
        """Hot-plugged vCPUs start offline in a guest without an auto-online rule: online them through the
        agent (guest-set-vcpus) once the guest has registered them (its ACPI hotplug runs on its own time)."""
        name = self.req["name"]
        hint = "the guest sees them once it onlines them (echo 1 > /sys/devices/system/cpu/cpuN/online)"

        def probe():
            try:
                online = scaling.cpu_count(self.dom.online_guest_vcpus(count))
            except AgentUnavailable:
                raise   # no agent, or a driver without it: waiting will not help
            except OperationFailed as exc:
                return False, exc.message   # the guest has not registered the hot-plugged vCPUs yet
            return online >= count, "%d of %d online" % (online, count)

        try:
            done, why = Waiter(patience).until(probe)
        except AgentUnavailable as exc:
            self.log.note("could not online the new vCPUs inside %s through qemu-guest-agent (%s): %s"
                          % (name, exc.message, hint))
            return
        if done:
            self.log.note("onlined the new vCPUs inside %s (qemu-guest-agent): %s" % (name, why))
        else:
            self.log.note("the new vCPUs of %s are not all online inside the guest after %d s (%s): %s"
                          % (name, patience, why, hint))

    # -- disk --------------------------------------------------------------------------------------

    def grow_online(self, info, step):
        name, disk = self.req["name"], root_disk(info)
        self.log.change(scaling.describe_step(name, step))
        if self.check:
            return
        guest = self.guest(info)
        before = self._root_size(guest)
        self.dom.block_resize(disk["target"], step["value"])
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
        self.log.note("grew the partition, PV and root LV inside %s (%s): root %s -> %s GiB" % (
            name, guest.used, scaling.gib_text(before or 0), scaling.gib_text(after or 0)))
        self.guest_report = {"access": guest.used, "root_bytes_before": before, "root_bytes_after": after}

    @staticmethod
    def _root_size(guest):
        try:
            return guest.root_size()
        except OperationFailed:
            return None

    def finish_inside(self, info):
        """The disk already has the size asked for: grow what an earlier, interrupted run left inside."""
        guest = self.guest(info)
        try:
            rc, _out, _err = guest.script(GROW_ROOT, "check")
        except OperationFailed as exc:
            self.log.note("could not check inside %s whether its root fills the disk: %s" % (self.req["name"], exc.message))
            return
        if rc != 3:
            return
        self.log.change("grow the root filesystem of %s to its disk (an earlier growth stopped before it)"
                        % self.req["name"])
        if not self.check:
            self.grow_inside(guest, self._root_size(guest))

    def grow_offline(self, info, step):
        name, disk = self.req["name"], root_disk(info)
        path = disk["source"]
        if not self.check:
            if not injection.HAS_GUESTFS and shutil.which("virt-sysprep") is None:
                raise MissingDependency("growing a stopped VM's disk needs libguestfs on the node to install the "
                                        "first-boot growth: install python3-guestfs or libguestfs-tools (the kvm_host "
                                        "role does), or start the VM and grow it online")
            if not os.path.exists(path):
                raise OperationFailed("the disk %s of %s is not visible where the module runs: run it on the node "
                                      "(delegate_to) with uri qemu:///system" % (path, name))
        self.log.change(scaling.describe_step(name, step), storage.resize_volume, self.c, path, step["value"])
        method = "guestfs" if injection.HAS_GUESTFS else "sysprep"
        self.log.change("install the first-boot root growth in %s (%s)" % (path, method),
                        injection.prepare, path, method, software_emulation=self.c.domain_type() != "kvm",
                        reset_identity=False, grow_root=True)

    def power_cycle(self, timeout):
        """ACPI shutdown, wait, start: the definition's sizes take effect."""
        self.log.change("power-cycle %s so the new definition takes effect (ACPI shutdown up to %d s, start)"
                        % (self.req["name"], timeout))
        if self.check:
            return
        state = power(self.log, self.dom, self.dom.state(), "stopped", shutdown_timeout=timeout)
        power(self.log, self.dom, state, "running")


def ensure(params, check_mode=False, conn=None):
    """The ``vm_scale`` module: make the VM's vCPUs, memory and disk match ``params``."""
    req = scaling.validate(params)
    name = req["name"]
    with LibvirtClient(params.get("uri") or "qemu:///system", conn=conn) as client:
        dom = client.find(name)
        if dom is None:
            raise NotFound("VM %s does not exist on %s: check the name and the node (userdetails.yml lists VMs)"
                           % (name, client.uri), name=name)
        config = dom.describe(config=True)
        tenancy.check_access(name, config["metadata"].get("owner"), params.get("owner"))
        live = dom.describe() if rules.is_active(config["state"]) else None
        if live is not None:
            live["metadata"] = config["metadata"]
        disk = root_disk(live or config)
        if req["disk_gib"] and (disk is None or disk["capacity"] is None):
            raise OperationFailed("cannot read the disk size of %s on %s" % (name, client.uri))
        if req["disk_gib"] and live is not None and not rules.is_executing(config["state"]):
            raise InvalidInput("%s is %s: resume it (resumevm.yml, or startvm.yml to wake it) so its disk can grow "
                               "online, or shut it down; nothing was changed" % (name, config["state"]))
        steps = scaling.plan(req, config, live, disk["capacity"] if disk and req["disk_gib"] else 0)
        before = sizes(live or config)
        before["next_boot"] = {k: config[k] for k in NEXT_BOOT_KEYS}
        ex = ScaleExecutor(client, dom, req, params, check_mode)
        ex.apply_definition(steps)
        if live is not None:
            ex.apply_live(live, steps)
        for step in steps:
            if step["what"] == "disk":
                if step["scope"] == "live":
                    ex.grow_online(live, step)
                else:
                    ex.grow_offline(config, step)
        if req["disk_gib"] and not any(s["what"] == "disk" for s in steps) and live is not None:
            ex.finish_inside(live)
        # the definition holds what the running VM does not have: from this run, or an earlier one
        pending = live is not None and (any(s["scope"] == "config" for s in steps) or any(
            config[k] != live[k] for k in ("vcpus", "max_vcpus", "max_memory_mib")))
        if pending and params.get("restart"):
            ex.power_cycle(int(params.get("shutdown_timeout") or 120))
            pending = False
        elif pending:
            ex.log.note("%s takes the new vCPU/memory definition at its next power cycle (shutdownvm.yml, then "
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
            now_config = dom.describe(config=True)
            now_live = dom.describe() if rules.is_active(dom.state()) else None
            after = sizes(now_live or now_config)
            after["next_boot"] = {k: now_config[k] for k in NEXT_BOOT_KEYS}
        node = client.hostname()
        uri = client.uri
    return ex.log.result(before, after, name=name, node=node, uri=uri, applied=scaling.summary(steps),
                         restart_pending=bool(pending), vm=after, guest=ex.guest_report)
