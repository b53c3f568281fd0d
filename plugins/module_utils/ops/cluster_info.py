# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``cluster_info`` module: every node's offer and VMs, read from one host (read-only).

Each node is read as ``node_info`` reads one (``node_facts``), through its libvirt URI, all of them at once in
threads: the survey of the VM playbooks is one module run on the master instead of one per node. A node that
fails or has not answered within the timeout is reported failed with the reason, like a survey task that failed
on it; the others are reported as they answered."""

from __future__ import annotations

import threading
import time

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error, ConnectionFailed, InvalidInput
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.node_info import disk_free_gib, node_facts

ARGUMENT_SPEC = dict(nodes=dict(type="dict", required=True), disk_dir=dict(type="path"),
                     vms=dict(type="bool", default=True), timeout=dict(type="int", default=30),
                     workers=dict(type="int", default=32))
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def _read(name, uri, vms, results, slots, retry_after=1.0):
    with slots:
        try:
            try:
                results[name] = node_facts(uri, vms=vms)
            except ConnectionFailed:
                # once more: a node's sshd drops new connections beyond its MaxStartups while many start at once
                time.sleep(retry_after)
                results[name] = node_facts(uri, vms=vms)
        except Cloud1Error as exc:
            results[name] = {"failed": True, "msg": exc.message, "uri": uri}
        except Exception as exc:  # noqa: BLE001 - one node's surprise is that node's failure, not the survey's
            results[name] = {"failed": True, "msg": "reading %s failed unexpectedly: %s: %s"
                             % (uri, type(exc).__name__, exc), "uri": uri}


def survey(nodes, disk_dir=None, vms=True, timeout=30, workers=32, clock=time.monotonic, retry_after=1.0):
    """{node name: its node_facts, or {failed, msg, uri}} for ``nodes`` (name -> libvirt URI), read in at most
    ``workers`` threads at once (a node that refused the connection is asked once more after ``retry_after``
    seconds); a node without an answer after ``timeout`` seconds is failed. The free space of
    ``disk_dir`` (the shared image storage, as mounted where this runs) is every answering node's
    ``disk_free_gib``."""
    if timeout < 1 or workers < 1:
        raise ValueError("timeout and workers must be at least 1 (got %s, %s)" % (timeout, workers))
    results = {}
    slots = threading.BoundedSemaphore(workers)
    # daemon threads: a node that hangs must not hold the module's exit after its timeout
    threads = [threading.Thread(target=_read, args=(name, uri, vms, results, slots, retry_after),
                                daemon=True)
               for name, uri in nodes.items()]
    for thread in threads:
        thread.start()
    deadline = clock() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - clock()))
    free = disk_free_gib(disk_dir)
    out = {}
    for name, uri in nodes.items():
        answer = results.get(name)
        if answer is None:
            answer = {"failed": True, "uri": uri,
                      "msg": "%s did not answer within %d s at %s: check that the node is up, that libvirtd runs "
                             "there, and that this host reaches it by SSH with a key (ssh %s true)"
                             % (name, timeout, uri, name)}
        elif not answer.get("failed"):
            answer["disk_free_gib"] = free
        out[name] = answer
    return out


def ensure(params, check_mode=False):
    try:
        nodes = survey(params["nodes"], disk_dir=params.get("disk_dir"), vms=params["vms"],
                       timeout=params["timeout"], workers=params["workers"])
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    failed = sorted(name for name, answer in nodes.items() if answer.get("failed"))
    return {"changed": False, "nodes": nodes, "answered": len(nodes) - len(failed), "failed_nodes": failed}
