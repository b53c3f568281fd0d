# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the console shows of the cluster, read with the collection's own readers: every node's VMs through
libvirt (ops.vm_info.node_vms, read-only, the same reading as the vm_info module and the cluster inventory) and
the live load from gmetad (virt.ganglia + core.metrics, as status.yml). One reading serves every page for
``ttl`` seconds, so many open pages do not each survey the nodes. Reading changes nothing."""

from __future__ import annotations

import threading
import time

from ansible_collections.cloud1.iaas.plugins.module_utils.core import accounts as account_rules
from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.vm_info import node_vms
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import ganglia


class ClusterView:
    def __init__(self, nodes, gmetad=None, cluster=None, ttl=5.0, clock=time.monotonic):
        self.nodes = dict(nodes)
        self.gmetad = gmetad
        self.cluster = cluster
        self.ttl = float(ttl)
        self.clock = clock
        self._lock = threading.Lock()
        self._cached = None
        self._at = None

    def _read(self):
        vms, problems, node_rows = [], [], {}
        for node, uri in sorted(self.nodes.items()):
            try:
                found = node_vms(uri)["vms"]
            except Cloud1Error as exc:
                problems.append("node %s cannot be read: %s" % (node, exc.message))
                node_rows[node] = {"name": node, "reachable": False, "vms": 0}
                continue
            node_rows[node] = {"name": node, "reachable": True, "vms": len(found)}
            for vm in found:
                meta = vm.get("metadata") or {}
                vms.append({"name": vm["name"], "node": node, "state": vm["state"], "vcpus": vm["vcpus"],
                            "memory_mib": vm["memory_mib"], "owner": meta.get("owner"), "ip": meta.get("ip"),
                            "os": meta.get("os"), "io": meta.get("io"), "disks": len(vm.get("disks") or [])})
        live, live_error = {"nodes": {}, "vms": {}}, None
        if self.gmetad:
            try:
                parsed = ganglia.read(self.gmetad.get("host", "localhost"), int(self.gmetad.get("port", 8651)),
                                      timeout=float(self.gmetad.get("timeout", 5)))
                live = metrics.live_view(parsed, self.cluster)
            except Cloud1Error as exc:
                live_error = "no live load: %s" % exc.message
        else:
            live_error = "no live load: gmetad is not configured"
        for name, row in node_rows.items():
            load = live["nodes"].get(name)
            row["alive"] = load["alive"] if load else None
            row["why"] = load["why"] if load else live_error
            row["load"] = {dim: load.get(dim) for dim in metrics.DIMENSIONS} if load else {}
            row["bands"] = load.get("bands", {}) if load else {}
        for vm in vms:
            load = live["vms"].get(vm["name"])
            vm["load"] = {dim: load.get(dim) for dim in metrics.DIMENSIONS} if load else {}
        return {"nodes": [node_rows[n] for n in sorted(node_rows)], "vms": sorted(vms, key=lambda v: v["name"]),
                "problems": problems + ([live_error] if live_error and self.gmetad else []),
                "read_at": time.time()}

    def view(self, fresh=False):
        """The whole cluster as the admin sees it (a reading at most ``ttl`` seconds old unless ``fresh``)."""
        with self._lock:
            now = self.clock()
            if fresh or self._cached is None or now - self._at >= self.ttl:
                self._cached, self._at = self._read(), now
            return self._cached

    def for_account(self, account, fresh=False):
        """What ``account`` may see: an admin everything; a tenant its own VMs and no node."""
        whole = self.view(fresh)
        if account_rules.owner_filter(account) is None:
            return whole
        return {"nodes": [], "vms": [vm for vm in whole["vms"] if account_rules.visible(account, vm)],
                "problems": [], "read_at": whole["read_at"]}

    def vm(self, account, name, fresh=False):
        """The VM ``name`` if ``account`` may see it, else None (another tenant's VM does not exist for it)."""
        found = self.vm_everywhere(account, name, fresh)
        return found[0] if found else None

    def vm_everywhere(self, account, name, fresh=False):
        """Every node's domain of that name ``account`` may see (two while a migration runs: the source's and the
        destination's incoming one)."""
        return [vm for vm in self.for_account(account, fresh)["vms"] if vm["name"] == name]
