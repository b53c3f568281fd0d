# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parts of a live migration that touch the nodes: the shared-storage and CPU checks, the snapshot
metadata libvirt will not migrate, and the migration itself in a thread while this one watches its job
(progress, completion timeout: abort, or force with post-copy or a pause)."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
import xml.etree.ElementTree as ET

from ansible_collections.cloud1.iaas.plugins.module_utils.core import migration
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error, OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import storage
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.wait import Waiter

UNLIMITED_MIB = 1000000   # MiB/s: no limit in practice (a forced completion sends the rest as fast as it can)


def shared_storage(dest, info):
    """(ok, reason): each disk's directory is the same directory on the destination (a marker written next to
    the disk here must appear in the destination's pool for that directory)."""
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
                seen = storage.find_volume(dest, os.path.join(directory, marker), patience=60) is not None
            except Cloud1Error:
                seen = False
            if not seen:
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


def cpu_check(dest, dom):
    """(ok, reason): the destination's hypervisor provides the VM's CPU."""
    root = ET.fromstring(dom.xml())
    cpu = root.find("cpu")
    if cpu is None:
        return True, "no CPU model to compare (the hypervisor default)"
    os_type = root.find("os/type")
    ok = dest.compare_cpu(os_type.get("arch"), os_type.get("machine"), root.get("type"),
                          ET.tostring(cpu, encoding="unicode"))
    if ok is None:
        return True, "CPU comparison not available on the destination; libvirt checks it when migrating"
    if not ok:
        return False, ("the VM's CPU (%s) is not available on the destination's hypervisor: choose another node or a "
                       "more generic CPU model" % (cpu.findtext("model") or cpu.get("mode")))
    return True, "the destination's hypervisor provides the VM's CPU"


ABORT_RETRY_S = 3   # a job still running this long after an abort is asked again
CALL_WAIT_S = 5     # a watcher's call libvirt has not answered in this long counts as failed (it is asked elsewhere)
REOPEN_MAX = 3      # new connections the watcher may open when its handle stops finding the VM


class Watcher:
    """The migration's job, watched from this thread while another runs it."""

    def __init__(self, dom, req, reopen=None, cancel_incoming=None, call_wait=CALL_WAIT_S):
        # dom: the VM's handle on a connection of its own, not the one running the migration (on the box an
        # abortJob or suspend asked on that one was answered only when the move ended, 100 s later, with "Domain
        # not found", while the same call on another connection acted at once). reopen: () -> the VM's handle on
        # a new connection to the source, for when a call fails or is not answered within call_wait seconds.
        # cancel_incoming: () -> (cancelled, what it did), the destination's way to end a pre-copy migration the
        # source cannot be asked to abort
        self.dom, self.req, self.reopen, self.cancel_incoming = dom, req, reopen, cancel_incoming
        self.call_wait = call_wait
        self.progress = []      # [(seconds since start, percent remaining)]
        self.last = {}
        self.forced = None
        self.t0 = time.monotonic()
        self.asked = float("-inf")     # when the job was last asked to abort
        self.aborted, self.abort_error = False, None
        self.reopened = 0

    def poll(self):
        """Record the job's progress; True while the job runs."""
        try:
            stats = self._ask(lambda dom: dom.job_stats())
        except OperationFailed:
            return False
        if not self.dom.job_active(stats):
            return False
        self.last = stats
        pct = migration.percent_remaining(stats)
        if pct is not None:
            self.progress.append((round(time.monotonic() - self.t0, 1), pct))
        return True

    def on_timeout(self, active=True):
        req = self.req
        now = time.monotonic()
        if not req["timeout"] or now - self.t0 < req["timeout"]:
            return
        if req["timeout_action"] == "abort":
            self._abort(active, now)
            return
        if self.forced:
            return
        try:
            if req["postcopy"]:
                self.forced = "switched to post-copy after %d s (timeout_action=force)" % req["timeout"]
                self._ask(lambda dom: dom.start_postcopy())
            else:
                self.forced = ("paused the VM after %d s so the migration completes, without bandwidth limit "
                               "(timeout_action=force)" % req["timeout"])
                self._ask(lambda dom: dom.suspend())
                if req["bandwidth_mib"]:
                    self._ask(lambda dom: dom.set_migration_speed(UNLIMITED_MIB))
        except OperationFailed as exc:
            self.forced = (self.forced or "timeout") + " - failed: %s" % exc.message

    def _ask(self, call):
        """``call(handle)``; when it fails or is not answered in time, once more with a handle on a new connection
        (kept after)."""
        try:
            return self._bounded(call, self.dom)
        except OperationFailed:
            if self.reopen is None or self.reopened >= REOPEN_MAX:
                raise
            self.reopened += 1
            try:
                fresh = self.reopen()
            except Cloud1Error:
                fresh = None
            if fresh is None:
                raise
            self.dom = fresh
            return self._bounded(call, fresh)

    def _bounded(self, call, dom):
        """``call(dom)`` in a thread of its own: OperationFailed when libvirt has not answered within call_wait
        seconds (the call may still end later; nothing waits for it)."""
        box = {}

        def target():
            try:
                box["value"] = call(dom)
            except OperationFailed as exc:
                box["error"] = exc
            except Exception as exc:   # noqa: BLE001 - reported to the watcher, never lost in the thread
                box["error"] = OperationFailed(repr(exc))

        thread = threading.Thread(target=target, name="migration-watch", daemon=True)
        thread.start()
        thread.join(self.call_wait)
        if thread.is_alive():
            raise OperationFailed("libvirt did not answer within %g s" % self.call_wait)
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def _abort(self, active, now):
        """Cancel the job; ask again while it still runs, or while no cancel was accepted yet and the move goes
        on (a job the handle cannot see is still a job). A cancel that reaches QEMU before it has begun sending
        (the destination still starting, slow on a loaded node) cancels nothing and the migration goes on."""
        if (not active and self.aborted) or now - self.asked < ABORT_RETRY_S:
            return
        self.asked = now
        where = ""
        try:
            self._ask(lambda dom: dom.abort_job())
            self.aborted, self.abort_error = True, None
        except OperationFailed as exc:
            self.abort_error = exc.message
            if self.cancel_incoming is not None and not self.req["postcopy"]:
                cancelled, what = self.cancel_incoming()
                if cancelled:
                    self.aborted = True
                    where = (" at the destination (%s; the source could not be asked: %s)"
                             % (what, self.abort_error))
                else:
                    self.abort_error += "; at the destination: %s" % what
        self.forced = "aborted after %d s (timeout_action=abort)%s" % (self.req["timeout"], where)
        if not self.aborted:
            self.forced += " - failed: %s" % self.abort_error


STASH_DIR = ".cloud1-snapshots"
FALLBACK_STASH = "/var/lib/cloud1/snapshots"


def stash_path(info):
    """Where a VM's lifted snapshot metadata waits during a migration: next to its first disk (on the shared
    storage, so source and destination both see it), or under /var/lib/cloud1 on the source."""
    disks = [d["source"] for d in info["disks"] if d["device"] == "disk" and d["source"]]
    directory = os.path.join(os.path.dirname(disks[0]), STASH_DIR) if disks else FALLBACK_STASH
    return os.path.join(directory, "%s.json" % info["name"])


def _write_stash(path, vm_uuid, saved):
    """Write the stash durably (temporary file, fsync, rename) before any metadata is deleted."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"uuid": vm_uuid, "snapshots": [{"xml": xml, "current": current} for xml, current in saved]}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(tmp, path)


def read_stash(path, vm_uuid):
    """[(xml, current)] a crashed migration left in ``path`` for the VM ``vm_uuid``, or []."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return []
    if data.get("uuid") != vm_uuid:
        return []   # another VM of that name: not its snapshots
    return [(item["xml"], bool(item["current"])) for item in data.get("snapshots") or []]


def drop_stash(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def lift_snapshots(dom, info):
    """libvirt refuses to migrate a domain with snapshot metadata, though internal snapshots live in its
    qcow2 on the shared storage and arrive with it: keep each snapshot's XML, written to the stash first (a
    crash in between loses nothing: ``restore_stash`` puts it back), then drop the metadata only (newest
    first); return [(xml, current)] oldest first for ``put_snapshots``."""
    snaps = dom.snapshots()
    if not snaps:
        return []
    current = dom.current_snapshot()
    saved = sorted((int(ET.fromstring(xml).findtext("creationTime") or 0), name, xml) for name, xml in snaps)
    ordered = [(xml, name == current) for _created, name, xml in saved]
    try:
        _write_stash(stash_path(info), info["uuid"], ordered)
    except OSError as exc:
        raise OperationFailed("cannot keep the snapshot metadata of %s in %s before the migration: %s; nothing "
                              "was changed" % (info["name"], stash_path(info), exc))
    for _created, name, _xml in reversed(saved):
        dom.delete_snapshot(name, metadata_only=True)
    return ordered


def put_snapshots(dom, saved):
    """Redefine snapshot metadata set aside by ``lift_snapshots`` (oldest first, the current one marked);
    returns the names that could not be redefined, with why."""
    failed = []
    for xml, current in saved:
        try:
            dom.redefine_snapshot(xml, current=current)
        except OperationFailed as exc:
            failed.append("%s (%s)" % (ET.fromstring(xml).findtext("name"), exc.message))
    return failed


def restore_stash(dom, info):
    """A migration that crashed after lifting the snapshots left them in the stash: define those the domain
    lacks again, then drop the stash. Returns the names restored ([] when there was nothing to do)."""
    path = stash_path(info)
    saved = read_stash(path, info["uuid"])
    if not saved:
        return []
    have = {name for name, _xml in dom.snapshots()}
    missing = [(xml, current) for xml, current in saved if ET.fromstring(xml).findtext("name") not in have]
    lost = put_snapshots(dom, missing)
    if lost:
        raise OperationFailed("the snapshot metadata of %s kept in %s could not be defined again: %s; the file is "
                              "kept" % (info["name"], path, ", ".join(lost)))
    drop_stash(path)
    return [ET.fromstring(xml).findtext("name") for xml, _current in missing]


def run(src, dest, dom, info, req, dest_name):
    """Run the migration; return the result parts. Raises OperationFailed saying where the VM is on failure."""
    live = migration.kind(req["name"], info["state"]) == "live"
    if live and req["max_downtime_ms"]:
        dom.set_migration_downtime(req["max_downtime_ms"])
    outcome = {}

    def move():
        try:
            dom.migrate(req["dest"], live, bandwidth_mib=req["bandwidth_mib"], migrate_uri=req.get("migrate_uri"),
                        auto_converge=req["auto_converge"], postcopy=req["postcopy"],
                        tunnelled=req["encryption"] == "tunnel")
        except Cloud1Error as exc:   # libvirt's own words: the message composed below says what and where
            outcome["error"] = str(exc.__context__) if exc.__context__ is not None else exc.message
        except Exception as exc:   # noqa: BLE001 - reported below, never lost in the thread
            outcome["error"] = repr(exc)

    saved = lift_snapshots(dom, info)
    fresh = []

    def reopen():
        client = type(src)(src.uri)
        client.open()
        fresh.append(client)
        return client.find(req["name"])

    def cancel_incoming():
        """The destination's half of a pre-copy migration, destroyed while it still waits for the source's data
        (libvirt's own way to cancel an incoming migration): the migration fails and the source, which keeps
        the VM until the destination has taken over, goes on running it. Anything else is left alone."""
        try:
            incoming = dest.find(req["name"])
            if incoming is None:
                return False, "no incoming %s there" % req["name"]
            if not incoming.incoming_migration():
                state = incoming.state()
                return False, "%s there is %s, not waiting for a migration: left alone" % (req["name"], state)
            incoming.destroy()
            return True, "its incoming %s destroyed before it took over" % req["name"]
        except Cloud1Error as exc:
            return False, exc.message

    try:   # the watcher's own connection: a call on the one running the migration may wait for its end
        watched = reopen() or dom
    except Cloud1Error:
        watched = dom
    watcher = Watcher(watched, req, reopen=reopen, cancel_incoming=cancel_incoming)
    thread = threading.Thread(target=move, name="migrate-%s" % req["name"], daemon=True)

    def probe():
        thread.join(1.0)
        if thread.is_alive() and live:
            watcher.on_timeout(watcher.poll())
        return not thread.is_alive(), None

    thread.start()
    # no deadline of its own: the completion timeout (abort/force) and libvirt end the job
    try:
        Waiter(float("inf"), interval=0).until(probe)
    finally:
        for client in fresh:
            client.close()
    elapsed = time.monotonic() - watcher.t0
    if "error" in outcome:
        text = _failure(src, req, dest_name, outcome["error"], watcher)
        if saved:
            back = src.find(req["name"])
            if back is None:
                text += ("; its snapshots' metadata could not be put back on the source (the VM is not defined "
                         "there); it is kept in %s, and migrate.yml run again restores it" % stash_path(info))
            else:
                lost = put_snapshots(back, saved)
                text += "; its %d snapshot(s) are defined on the source again%s" % (
                    len(saved), (" except " + ", ".join(lost)) if lost else "")
                if not lost:
                    drop_stash(stash_path(info))
        raise OperationFailed(text, name=req["name"])
    # the destination's view of the finished job (the source's domain is gone)
    stats, lost = {}, [ET.fromstring(xml).findtext("name") for xml, _current in saved]
    try:
        new = dest.find(req["name"])
    except Cloud1Error as exc:   # moved, but the destination cannot be read now: nothing counts as moved
        new = None
        lost = ["%s (the destination could not be read: %s)" % (n, exc.message) for n in lost]
    if new is not None:
        lost = put_snapshots(new, saved)
    if saved and not lost:
        drop_stash(stash_path(info))
    elif saved:
        lost = [n + "; kept in %s, migrate.yml run again restores it" % stash_path(info) for n in lost]
    if new is not None:
        try:
            stats = new.job_stats(completed=True)
        except OperationFailed:
            stats = {}
        if live and info["state"] != "paused" and new.state() == "paused":
            new.resume()   # paused by timeout_action=force: it ran before, it runs after
    return {"report": migration.report(dict(watcher.last, **stats), elapsed), "progress": watcher.progress,
            "forced": watcher.forced, "live": live, "snapshots_moved": len(saved) - len(lost),
            "snapshots_lost": lost}


def _failure(src, req, dest_name, error, watcher):
    """What a failed migration left: the VM looked up on the source again."""
    try:
        dom = src.find(req["name"])
    except Cloud1Error as exc:
        dom, where = False, "its state on the source could not be read (%s)" % exc.message
    if dom is None:
        where = "%s is no longer on the source: look for it on %s" % (req["name"], dest_name)
    elif dom:
        state = dom.state()
        where = "%s is still defined on the source, %s" % (req["name"], state)
        if state == "paused" and watcher.forced and "paused" in watcher.forced:
            dom.resume()
            where += " (resumed after the forced pause)"
    text = "migration of %s to %s failed: %s; %s" % (req["name"], dest_name, error, where)
    if watcher.forced:
        text += "; " + watcher.forced
    return text
