# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement: which node gets a new VM. Pure Python (no Ansible, no libvirt): the ``place`` filter of
createvm.yml and the migration's capacity check share it (so will the balancer and the console).

The seed's algorithm, made explicit: take every node's current state, add the request to it, rank the
nodes, the best one gets the VM. Here in two stages, each with its reasons:

1. filters drop nodes that cannot take the VM (dead, wrong architecture, not enough capacity once the
   overcommit ratios are applied);
2. weighers score the rest (0..1, higher is better) and a weighted sum ranks them. One weigher is the
   seed's view: a node's usage after placement falls in a band, low (<=30%), medium (<=70%), high
   (<=95%) or full (>95%: no more requests); the other weighers prefer free memory and free vCPUs and
   a low peak (the node's busiest dimension after placement), which keeps the cluster's peak near the optimum
   (benchmarks/placement.py).

Inputs are plain dicts: the allocations read from libvirt (node_info) and, when gmetad answers, each
node's live usage from Ganglia (``live``: cpu, memory, io and disk in per cent, and whether Ganglia counts
the node alive). A node Ganglia calls dead is dropped with Ganglia's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BANDS = ((30.0, "low"), (70.0, "medium"), (95.0, "high"))


def band(percent):
    """The seed's load band of a usage percentage."""
    for limit, name in BANDS:
        if percent <= limit:
            return name
    return "full"


@dataclass
class NodeState:
    name: str
    alive: bool = True
    arch: str = "x86_64"
    cpus: int = 1                   # host CPUs
    memory_mib: int = 0             # host memory
    vcpus_allocated: int = 0        # sum of the vCPUs of the node's VMs
    memory_allocated_mib: int = 0   # sum of the (maximum) memory of the node's VMs
    disk_free_gib: float | None = None   # free space where new disks go; None: unknown, not filtered
    # live usage in percent (cpu, memory, io, disk), from the metrics source when there is one
    metrics: dict = field(default_factory=dict)
    why_dead: str = "node is not alive"


@dataclass
class Request:
    vcpus: int
    memory_mib: int
    disk_gib: float = 0.0
    arch: str = "x86_64"
    io: str = "medium"              # the seed's io class: low, medium, high


@dataclass
class Policy:
    cpu_overcommit: float = 4.0     # vCPUs per host CPU
    memory_overcommit: float = 1.0  # no memory overcommit by default: guests are not ballooned down
    reserved_memory_mib: int = 1024  # for the node itself (libvirtd, qemu overhead, page cache)
    weights: dict = field(default_factory=lambda: {"memory": 1.0, "cpu": 1.0, "band": 2.0, "io": 1.0, "peak": 2.0})


@dataclass
class Decision:
    node: str | None
    scores: dict                    # node -> total score, for the nodes that passed the filters
    reasons: dict                   # node -> list of reasons (why dropped, or how it scored)

    def as_dict(self):
        return {"node": self.node, "scores": self.scores, "reasons": self.reasons}


# ---------------------------------------------------------------------------------------- filters

def _filter(node, req, policy):
    """None when the node can take the request, else why not."""
    if not node.alive:
        return node.why_dead
    if node.arch != req.arch:
        return "architecture %s, the VM needs %s" % (node.arch, req.arch)
    vcpu_cap = int(node.cpus * policy.cpu_overcommit)
    if node.vcpus_allocated + req.vcpus > vcpu_cap:
        return "vCPUs: %d allocated + %d requested > %d (%d CPUs x overcommit %.1f)" % (
            node.vcpus_allocated, req.vcpus, vcpu_cap, node.cpus, policy.cpu_overcommit)
    mem_cap = int((node.memory_mib - policy.reserved_memory_mib) * policy.memory_overcommit)
    if node.memory_allocated_mib + req.memory_mib > mem_cap:
        return "memory: %d MiB allocated + %d MiB requested > %d MiB usable" % (
            node.memory_allocated_mib, req.memory_mib, mem_cap)
    if node.disk_free_gib is not None and req.disk_gib > node.disk_free_gib:
        return "disk: %.1f GiB requested > %.1f GiB free" % (req.disk_gib, node.disk_free_gib)
    full = ["%s %.0f%%" % (dim, node.metrics[dim]) for dim in ("cpu", "memory", "disk")
            if band(node.metrics.get(dim) or 0.0) == "full"]
    if full:
        return "live load from Ganglia above 95%% (%s): the node takes no more requests" % ", ".join(full)
    return None


def fits(node, request, policy=None):
    """None when ``node`` (a NodeState) can take ``request``, else why not (the placement filters)."""
    return _filter(node, request, policy or Policy())


# ---------------------------------------------------------------------------------------- weighers

def _after(node, req, policy):
    """Usage percentages once the VM is placed: allocation-based, raised to live metrics when known."""
    vcpu_cap = max(1.0, node.cpus * policy.cpu_overcommit)
    mem_cap = max(1.0, (node.memory_mib - policy.reserved_memory_mib) * policy.memory_overcommit)
    cpu = 100.0 * (node.vcpus_allocated + req.vcpus) / vcpu_cap
    mem = 100.0 * (node.memory_allocated_mib + req.memory_mib) / mem_cap
    cpu = max(cpu, float(node.metrics.get("cpu") or 0.0))
    mem = max(mem, float(node.metrics.get("memory") or 0.0))
    return {"cpu": min(cpu, 100.0), "memory": min(mem, 100.0), "io": float(node.metrics.get("io") or 0.0),
            "disk": float(node.metrics.get("disk") or 0.0)}


_BAND_SCORE = {"low": 1.0, "medium": 0.6, "high": 0.2, "full": 0.0}
_IO_NEED = {"low": 0.0, "medium": 0.5, "high": 1.0}


def _weigh(node, req, policy):
    usage = _after(node, req, policy)
    worst = band(max(usage["cpu"], usage["memory"], usage["disk"]))
    parts = {
        "memory": 1.0 - usage["memory"] / 100.0,
        "cpu": 1.0 - usage["cpu"] / 100.0,
        "band": _BAND_SCORE[worst],
        # the node's busiest dimension after placement: keeps the cluster's peak low (the balancer's 80 % line)
        "peak": 1.0 - max(usage["cpu"], usage["memory"]) / 100.0,
        # an io-heavy VM avoids io-busy nodes; an io-light one hardly cares
        "io": 1.0 - _IO_NEED.get(req.io, 0.5) * usage["io"] / 100.0,
    }
    total = sum(policy.weights.get(k, 0.0) * v for k, v in parts.items())
    reason = "after placement cpu %.0f%%, memory %.0f%%, io %.0f%%, disk %.0f%% (band %s%s); score %.3f" % (
        usage["cpu"], usage["memory"], usage["io"], usage["disk"], worst,
        "; live load from Ganglia" if node.metrics else "; allocations only", total)
    return total, reason


def place(nodes, request, policy=None):
    """Choose a node for ``request`` among ``nodes``; ties go to the lexically first node name."""
    policy = policy or Policy()
    scores, reasons = {}, {}
    for node in nodes:
        why_not = _filter(node, request, policy)
        if why_not:
            reasons[node.name] = ["rejected: " + why_not]
            continue
        total, reason = _weigh(node, request, policy)
        scores[node.name] = round(total, 6)
        reasons[node.name] = [reason]
    best = None
    if scores:
        best = sorted(scores, key=lambda n: (-scores[n], n))[0]
    return Decision(node=best, scores=scores, reasons=reasons)


# ------------------------------------------------------------------------ plain-data entry point

def node_from_facts(name, facts):
    """A NodeState from what node_info reported for a node (None or a failed result: not alive)."""
    if not facts or facts.get("failed") or facts.get("unreachable") or "cpus" not in facts:
        return NodeState(name=name, alive=False)
    return NodeState(
        name=name, alive=True, arch=facts.get("arch") or "x86_64", cpus=int(facts["cpus"]),
        memory_mib=int(facts["memory_mib"]), vcpus_allocated=int(facts.get("vcpus_allocated") or 0),
        memory_allocated_mib=int(facts.get("memory_allocated_mib") or 0),
        disk_free_gib=facts.get("disk_free_gib"), metrics=dict(facts.get("metrics") or {}))


def merge_live(node, live):
    """Merge a node's live state from Ganglia ({alive, why, cpu, memory, io, disk}) into ``node``."""
    if not live:
        return node
    if node.alive and live.get("alive") is False:
        node.alive = False
        node.why_dead = "Ganglia counts the node dead: %s" % (live.get("why") or "no recent report")
    for dim in ("cpu", "memory", "io", "disk"):
        if live.get(dim) is not None:
            node.metrics[dim] = float(live[dim])
    return node


def decide(facts_by_node, vcpus, memory_mib, disk_gib=0.0, io="medium", arch="x86_64", policy=None, pending=None,
           live=None):
    """Placement from plain data: {node name: node_info result} and the request; returns
    Decision.as_dict(). ``policy`` is a dict of Policy fields to override. ``pending``: {node: {vcpus,
    memory_mib}} of creations under way there (not yet defined, so not in node_info's allocations).
    ``live``: {node: live state} from Ganglia (ganglia_info's ``nodes``), or None when there is none."""
    nodes = [node_from_facts(name, facts) for name, facts in sorted(facts_by_node.items())]
    for node in nodes:
        extra = (pending or {}).get(node.name) or {}
        node.vcpus_allocated += int(extra.get("vcpus") or 0)
        node.memory_allocated_mib += int(extra.get("memory_mib") or 0)
        merge_live(node, (live or {}).get(node.name))
    request = Request(vcpus=int(vcpus), memory_mib=int(memory_mib), disk_gib=float(disk_gib or 0), io=io or "medium",
                      arch=arch)
    return place(nodes, request, Policy(**(policy or {}))).as_dict()
