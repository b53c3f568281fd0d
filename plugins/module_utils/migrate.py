# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live migration of one VM from the node the module runs on (or ``uri``) to ``dest``: peer-to-peer (the
source libvirtd talks to the destination's over qemu+ssh with keys), persistent on the destination,
undefined on the source, never with VIR_MIGRATE_UNSAFE.

Before anything moves, the checks (``migration.decide``): not the same node, destination reachable, no VM
of that name there, capacity, every disk on storage the destination sees as the same files (a marker
written next to each disk here must appear there), CPU compatible. The migration runs in a thread while
this one watches its job: progress, completion timeout (abort, or force: post-copy or pause), and what
happened when it fails (the VM is looked up on the source again and reported).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import xml.etree.ElementTree as ET

from ansible_collections.cloud1.iaas.plugins.module_utils import migration, storage
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import (
    Cloud1Error,
    ConnectionFailed,
    InvalidInput,
    NotFound,
    OperationFailed,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.libvirt_client import LibvirtClient, libvirt

LIVE_STATES = ("running", "blocked", "paused")
UNLIMITED_MIB = 1000000   # MiB/s: no limit in practice (a forced completion sends the rest as fast as it can)


def _checks_shared(src, dest, info):
    """(ok, reason): each disk's directory is the same directory on the destination."""
    for disk in info["disks"]:
        if disk["device"] != "disk" or not disk["source"]:
            continue
        directory = os.path.dirname(disk["source"])
        if not os.path.isdir(directory):
            return False, ("the disk %s is not visible where the module runs: run it on the source node "
                           "(delegate_to) so shared storage can be checked" % disk["source"])
        marker = ".cloud1-shared-%s" % uuid.uuid4().hex
        path = os.path.join(directory, marker)
        try:
            with open(path, "w") as handle:
                handle.write("cloud1.iaas shared storage check\n")
            try:
                pool = storage.pool_for_dir(dest, directory)
                storage.refresh(dest, pool, patience=60)
                pool.storageVolLookupByName(marker)
            except (Cloud1Error, libvirt.libvirtError):
                return False, ("the disk %s is not on shared storage: its directory %s on the destination is not the "
                               "same directory (a marker written here does not appear there); put the VM's disk on "
                               "the shared storage (cloud1_disk_dir) to move it live, a live migration of local "
                               "disks is refused rather than forced unsafe" % (disk["source"], directory))
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
    return True, "every disk is on storage the destination shares"


def _cpu_check(dest, dom):
    root = ET.fromstring(dom.XMLDesc(0))
    cpu = root.find("cpu")
    if cpu is None:
        return True, "no CPU model to compare (the hypervisor default)"
    os_type = root.find("os/type")
    try:
        result = dest.conn.compareHypervisorCPU(None, os_type.get("arch"), os_type.get("machine"), root.get("type"),
                                                ET.tostring(cpu, encoding="unicode"), 0)
    except libvirt.libvirtError as exc:
        return True, "CPU comparison not available on the destination (%s); libvirt checks it when migrating" % exc
    if result == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE:
        return False, ("the VM's CPU (%s) is not available on the destination's hypervisor: choose another node or a "
                       "more generic CPU model" % (cpu.findtext("model") or cpu.get("mode")))
    return True, "the destination's hypervisor provides the VM's CPU"


class Watcher:
    """The migration's job, watched from this thread while another runs it."""

    def __init__(self, dom, req):
        self.dom, self.req = dom, req
        self.progress = []      # [(seconds since start, percent remaining)]
        self.last = {}
        self.forced = None
        self.t0 = time.monotonic()

    def poll(self):
        try:
            stats = self.dom.jobStats(0)
        except libvirt.libvirtError:
            return
        if stats.get("type") in (None, libvirt.VIR_DOMAIN_JOB_NONE):
            return
        self.last = stats
        pct = migration.percent_remaining(stats)
        if pct is not None:
            self.progress.append((round(time.monotonic() - self.t0, 1), pct))

    def on_timeout(self):
        if self.forced or not self.req["timeout"] or time.monotonic() - self.t0 < self.req["timeout"]:
            return
        try:
            if self.req["timeout_action"] == "abort":
                self.forced = "aborted after %d s (timeout_action=abort)" % self.req["timeout"]
                self.dom.abortJob()
            elif self.req["postcopy"]:
                self.forced = "switched to post-copy after %d s (timeout_action=force)" % self.req["timeout"]
                self.dom.migrateStartPostCopy(0)
            else:
                self.forced = ("paused the VM after %d s so the migration completes, without bandwidth limit "
                               "(timeout_action=force)" % self.req["timeout"])
                self.dom.suspend()
                if self.req["bandwidth_mib"]:
                    self.dom.migrateSetMaxSpeed(UNLIMITED_MIB, 0)
        except libvirt.libvirtError as exc:
            self.forced = (self.forced or "timeout") + " - failed: %s" % exc


def lift_snapshots(src, dom):
    """libvirt refuses to migrate a domain with snapshot metadata, though internal snapshots live in its
    qcow2 on the shared storage and arrive with it: keep each snapshot's XML, drop the metadata only
    (newest first), and return [(xml, current)] oldest first for ``put_snapshots``."""
    snaps = src._call("list the snapshots of %s" % dom.name(), dom.listAllSnapshots, 0)
    if not snaps:
        return []
    current = dom.snapshotCurrent(0).getName() if dom.hasCurrentSnapshot(0) else None
    saved = []
    for snap in snaps:
        xml = snap.getXMLDesc(libvirt.VIR_DOMAIN_SNAPSHOT_XML_SECURE)
        created = int(ET.fromstring(xml).findtext("creationTime") or 0)
        saved.append((created, snap.getName(), xml))
    saved.sort()
    for _created, name, _xml in reversed(saved):
        snap = dom.snapshotLookupByName(name, 0)
        src._call("set aside the metadata of snapshot %s" % name, snap.delete,
                  libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
    return [(xml, name == current) for _created, name, xml in saved]


def put_snapshots(client, dom, saved):
    """Redefine snapshot metadata set aside by ``lift_snapshots`` (oldest first, the current one marked);
    returns the names that could not be redefined, with why."""
    failed = []
    for xml, current in saved:
        flags = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE
        if current:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT
        try:
            dom.snapshotCreateXML(xml, flags)
        except libvirt.libvirtError as exc:
            failed.append("%s (%s)" % (ET.fromstring(xml).findtext("name"), exc))
    return failed


def migrate(src, dest, dom, info, req, dest_name):
    """Run the migration; return the result parts. Raises OperationFailed saying where the VM is on failure."""
    live = info["state"] in LIVE_STATES
    flags = libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    if live:
        flags |= libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_ABORT_ON_ERROR
        if req["auto_converge"]:
            flags |= libvirt.VIR_MIGRATE_AUTO_CONVERGE
        if req["postcopy"]:
            flags |= libvirt.VIR_MIGRATE_POSTCOPY
    else:
        flags |= libvirt.VIR_MIGRATE_OFFLINE
    params = {}
    if req["bandwidth_mib"]:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = req["bandwidth_mib"]
    if req.get("migrate_uri"):
        params[libvirt.VIR_MIGRATE_PARAM_URI] = req["migrate_uri"]
    if live and req["max_downtime_ms"]:
        src._call("set the maximum downtime of %s" % req["name"], dom.migrateSetMaxDowntime, req["max_downtime_ms"], 0)
    outcome = {}

    def run():
        try:
            dom.migrateToURI3(req["dest"], params, flags)
        except libvirt.libvirtError as exc:
            outcome["error"] = str(exc)
        except Exception as exc:   # noqa: BLE001 - reported below, never lost in the thread
            outcome["error"] = repr(exc)

    saved = lift_snapshots(src, dom)
    watcher = Watcher(dom, req)
    thread = threading.Thread(target=run, name="migrate-%s" % req["name"], daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(1.0)
        if thread.is_alive() and live:
            watcher.poll()
            watcher.on_timeout()
    elapsed = time.monotonic() - watcher.t0
    if "error" in outcome:
        text = _failure(src, req, dest_name, outcome["error"], watcher)
        if saved:
            try:
                lost = put_snapshots(src, src.conn.lookupByName(req["name"]), saved)
                text += "; its %d snapshot(s) are defined on the source again%s" % (
                    len(saved), (" except " + ", ".join(lost)) if lost else "")
            except libvirt.libvirtError as exc:
                text += "; its snapshots' metadata could not be put back on the source (%s)" % exc
        raise OperationFailed(text, name=req["name"])
    # the destination's view of the finished job (the source's domain is gone)
    stats, lost = {}, []
    try:
        new = dest.conn.lookupByName(req["name"])
        lost = put_snapshots(dest, new, saved)
        stats = new.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        if live and info["state"] != "paused" and dest.state(new) == "paused":
            new.resume()   # paused by timeout_action=force: it ran before, it runs after
    except libvirt.libvirtError:
        pass
    return {"report": migration.report(dict(watcher.last, **stats), elapsed), "progress": watcher.progress,
            "forced": watcher.forced, "live": live, "snapshots_moved": len(saved) - len(lost),
            "snapshots_lost": lost}


def _failure(src, req, dest_name, error, watcher):
    """What a failed migration left: the VM looked up on the source again."""
    where = "its state on the source could not be read"
    try:
        dom = src.conn.lookupByName(req["name"])
        state = src.state(dom)
        where = "%s is still defined on the source, %s" % (req["name"], state)
        if state == "paused" and watcher.forced and "paused" in watcher.forced:
            dom.resume()
            where += " (resumed after the forced pause)"
    except libvirt.libvirtError as exc:
        where = "%s is no longer on the source (%s): look for it on %s" % (req["name"], exc, dest_name)
    text = "migration of %s to %s failed: %s; %s" % (req["name"], dest_name, error, where)
    if watcher.forced:
        text += "; " + watcher.forced
    return text


def ensure(params, check_mode=False):
    """The ``vm_migrate`` module."""
    req = migration.validate(params)
    with LibvirtClient(params.get("uri") or "qemu:///system") as src:
        dest = LibvirtClient(req["dest"])
        try:
            dest.open()
        except ConnectionFailed as exc:
            raise ConnectionFailed("the destination %s is not reachable: %s; nothing was changed"
                                   % (req["dest"], exc.message), uri=req["dest"])
        try:
            return _move(src, dest, req, params, check_mode)
        finally:
            dest.close()


def _move(src, dest, req, params, check_mode):
    name = req["name"]
    src_host, dest_host = src.hostname(), dest.hostname()
    if dest_host == src_host:
        raise InvalidInput("%s is already on %s: the destination is the node it runs on, there is nothing to "
                           "move; choose another node" % (name, src_host))
    try:
        dom = src.lookup(name)
    except NotFound:
        try:
            dest.lookup(name)
        except NotFound:
            raise NotFound("VM %s is neither on %s nor on %s" % (name, src_host, dest_host), name=name)
        return {"changed": False, "name": name, "source": src_host, "node": dest_host, "actions": [],
                "msg": "%s is already on %s" % (name, dest_host)}
    info = src.describe(dom)
    checks = [("destination", True, "%s answers (libvirt %s)" % (dest_host, req["dest"]))]
    try:
        dest.lookup(name)
        checks.append(("name", False, "a VM named %s is already defined on %s" % (name, dest_host)))
    except NotFound:
        checks.append(("name", True, "no VM named %s on %s" % (name, dest_host)))
    why = migration.capacity(dest_host, dest.node_facts(), info, params.get("policy"))
    checks.append(("capacity", why is None, why or "%s can hold %d vCPUs and %d MiB" % (
        dest_host, info["max_vcpus"], info["max_memory_mib"])))
    checks.append(("storage",) + _checks_shared(src, dest, info))
    checks.append(("cpu",) + _cpu_check(dest, dom))
    decision = migration.decide(checks)
    kind = "live" if info["state"] in LIVE_STATES else "offline (the VM is %s)" % info["state"]
    result = {"name": name, "source": src_host, "destination": dest_host, "checks": decision["checks"],
              "would_migrate": decision["go"],
              "actions": ["migrate %s %s from %s to %s" % (name, kind, src_host, dest_host)]}
    if not decision["go"]:
        raise InvalidInput("%s cannot move to %s: %s; nothing was changed" % (name, dest_host, decision["why_not"]),
                           checks=decision["checks"])
    diff = {"before": {"node": src_host}, "after": {"node": dest_host}}
    if check_mode:
        return dict(result, changed=True, node=src_host, diff=diff)
    t0 = time.monotonic()
    done = migrate(src, dest, dom, info, dict(req, migrate_uri=params.get("migrate_uri")), dest_host)
    after = dest.describe(dest.lookup(name))
    try:
        src.lookup(name)
        on_source = True
    except NotFound:
        on_source = False
    result.update(changed=True, node=dest_host, state=after["state"], persistent=after["persistent"],
                  still_on_source=on_source, wall_time_s=round(time.monotonic() - t0, 2), diff=diff, **done)
    if done["forced"]:
        result["actions"].append(done["forced"])
    if done["snapshots_moved"] or done["snapshots_lost"]:
        result["actions"].append("snapshot metadata set aside before and defined on %s after: %d%s" % (
            dest_host, done["snapshots_moved"],
            ("; could not redefine " + ", ".join(done["snapshots_lost"])) if done["snapshots_lost"] else ""))
    return result
