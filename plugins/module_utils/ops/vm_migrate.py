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

import time

from ansible_collections.cloud1.iaas.plugins.module_utils.core import migration, tenancy
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import ConnectionFailed, InvalidInput, NotFound
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.actions import ActionLog
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import vm_argument_spec
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import migration as moving
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient

ARGUMENT_SPEC = vm_argument_spec(
    dest=dict(type="str", required=True),
    bandwidth_mib=dict(type="int"),
    max_downtime_ms=dict(type="int"),
    auto_converge=dict(type="bool", default=False),
    postcopy=dict(type="bool", default=False),
    timeout=dict(type="int"),
    timeout_action=dict(type="str", choices=list(migration.TIMEOUT_ACTIONS),
                        default=migration.DEFAULT_TIMEOUT_ACTION),
    migrate_uri=dict(type="str"),
    encryption=dict(type="str", choices=list(migration.ENCRYPTIONS), default=migration.DEFAULT_ENCRYPTION),
    policy=dict(type="dict"),
)
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


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
    log = ActionLog(check_mode)
    src_host, dest_host = src.hostname(), dest.hostname()
    dom = src.find(name)
    info = dom.describe() if dom is not None else None
    if info is not None:   # only its owner (or an admin) moves it: before any other check
        tenancy.check_access(name, info["metadata"].get("owner"), params.get("owner"))
    if dest_host == src_host:
        raise InvalidInput("%s is already on %s: the destination is the node it runs on, there is nothing to "
                           "move; choose another node" % (name, src_host))
    if dom is None:
        there = dest.find(name)
        if there is None:
            raise NotFound("VM %s is neither on %s nor on %s" % (name, src_host, dest_host), name=name)
        there_info = there.describe()
        tenancy.check_access(name, there_info["metadata"].get("owner"), params.get("owner"))
        _restore(log, there, there_info, dest_host)
        log.note("%s is already on %s" % (name, dest_host))
        return log.result(name=name, source=src_host, node=dest_host, msg="%s is already on %s" % (name, dest_host))
    _restore(log, dom, info, src_host)
    kind = migration.kind(name, info["state"])
    checks = [("destination", True, "%s answers (libvirt %s)" % (dest_host, req["dest"]))]
    if dest.find(name) is not None:
        checks.append(("name", False, "a VM named %s is already defined on %s" % (name, dest_host)))
    else:
        checks.append(("name", True, "no VM named %s on %s" % (name, dest_host)))
    why = migration.capacity(dest_host, dest.node_facts(), info, params.get("policy"))
    checks.append(("capacity", why is None, why or "%s can hold %d vCPUs and %d MiB" % (
        dest_host, info["max_vcpus"], info["max_memory_mib"])))
    checks.append(("storage",) + moving.shared_storage(dest, info))
    checks.append(("cpu",) + moving.cpu_check(dest, dom))
    decision = migration.decide(checks)
    if not decision["go"]:
        raise InvalidInput("%s cannot move to %s: %s; nothing was changed" % (name, dest_host, decision["why_not"]),
                           checks=decision["checks"])
    result = {"name": name, "source": src_host, "destination": dest_host, "checks": decision["checks"],
              "would_migrate": decision["go"], "encryption": req["encryption"] if kind == "live" else None}
    before, after = {"node": src_host}, {"node": dest_host}
    what = "live" if kind == "live" else "offline (the VM is %s)" % info["state"]
    if kind == "live":
        what += (", its memory encrypted in the nodes' SSH tunnel" if req["encryption"] == "tunnel" else
                 ", its memory unencrypted (encryption=none)")
    log.change("migrate %s %s from %s to %s" % (name, what, src_host, dest_host))
    if check_mode:
        return log.result(before, after, node=src_host, **result)
    t0 = time.monotonic()
    done = moving.run(src, dest, dom, info, req, dest_host)
    moved = dest.lookup(name).describe()
    if done["forced"]:
        log.note(done["forced"])
    if done["snapshots_moved"] or done["snapshots_lost"]:
        log.note("snapshot metadata set aside before and defined on %s after: %d%s" % (
            dest_host, done["snapshots_moved"],
            ("; could not redefine " + ", ".join(done["snapshots_lost"])) if done["snapshots_lost"] else ""))
    result.update(node=dest_host, state=moved["state"], persistent=moved["persistent"],
                  still_on_source=src.find(name) is not None, wall_time_s=round(time.monotonic() - t0, 2), **done)
    return log.result(before, after, **result)


def _restore(log, dom, info, host):
    """Snapshot metadata an interrupted migration of this VM left in its stash is defined again first."""
    if log.check:
        pending = moving.read_stash(moving.stash_path(info), info["uuid"])
        if pending:
            log.change("define again the %d snapshot(s) of %s an interrupted migration kept in %s" % (
                len(pending), info["name"], moving.stash_path(info)))
        return
    restored = moving.restore_stash(dom, info)
    if restored:
        log.change("defined again on %s the snapshot(s) an interrupted migration kept aside: %s" % (
            host, ", ".join(restored)))
