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

import copy
import heapq
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
    reasons: dict                   # node -> list of reasons (why dropped, or how it scored: see EXPLAIN_ALL)

    def as_dict(self):
        return {"node": self.node, "scores": self.scores, "reasons": self.reasons}


# ---------------------------------------------------------------------------------------- filters

_FULL = BANDS[-1][0]   # above it a dimension is "full": the node takes no more requests


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
    live = node.metrics
    if live and any((live.get(dim) or 0.0) > _FULL for dim in ("cpu", "memory", "disk")):
        full = ["%s %.0f%%" % (dim, live[dim]) for dim in ("cpu", "memory", "disk") if (live.get(dim) or 0.0) > _FULL]
        return "live load from Ganglia above 95%% (%s): the node takes no more requests" % ", ".join(full)
    return None


def fits(node, request, policy=None):
    """None when ``node`` (a NodeState) can take ``request``, else why not (the placement filters)."""
    return _filter(node, request, policy or Policy())


# ---------------------------------------------------------------------------------------- weighers

_BAND_SCORE = {"low": 1.0, "medium": 0.6, "high": 0.2, "full": 0.0}
_IO_NEED = {"low": 0.0, "medium": 0.5, "high": 1.0}
_WEIGHERS = ("memory", "cpu", "band", "peak", "io")


def _evaluator(req, policy):
    """The function of one decision that filters and scores a node (the policy and the request looked up
    once): node -> (None, total score, the figures of its reason (see _explain), peak after placement) when it
    can take the VM, else (why not, None, None, None). Each
    weigher gives 0..1, higher is better: free memory, free vCPUs, the seed's band of the busiest dimension,
    the node's peak after placement (keeps the cluster's peak low: the balancer's 80 % line), and for an
    io-heavy VM a node that is not io-busy."""
    w_mem, w_cpu, w_band, w_peak, w_io = (float(policy.weights.get(k, 0.0)) for k in _WEIGHERS)
    io_need = _IO_NEED.get(req.io, 0.5)
    over_cpu, over_mem, reserved = policy.cpu_overcommit, policy.memory_overcommit, policy.reserved_memory_mib
    vcpus, memory, arch = req.vcpus, req.memory_mib, req.arch
    (low, _l), (medium, _m), (high, _h) = BANDS

    def evaluate(node):
        if not node.alive or node.arch != arch:
            return _filter(node, req, policy), None, None, None
        vcpu_room, mem_room = node.cpus * over_cpu, (node.memory_mib - reserved) * over_mem
        cpu_alloc, mem_alloc = node.vcpus_allocated + vcpus, node.memory_allocated_mib + memory
        live = node.metrics
        if live:
            get = live.get
            # floats already (node_from_facts and merge_live make them so)
            live_cpu, live_mem, io, disk = get("cpu") or 0.0, get("memory") or 0.0, get("io") or 0.0, get("disk") or 0.0
        else:
            live_cpu = live_mem = io = disk = 0.0
        if (cpu_alloc > int(vcpu_room) or mem_alloc > int(mem_room) or live_cpu > high or live_mem > high
                or disk > high or (node.disk_free_gib is not None and req.disk_gib > node.disk_free_gib)):
            return _filter(node, req, policy), None, None, None
        cpu = 100.0 * cpu_alloc / (vcpu_room if vcpu_room > 1.0 else 1.0)
        cpu = 100.0 if cpu > 100.0 else cpu if cpu > live_cpu else live_cpu
        mem = 100.0 * mem_alloc / (mem_room if mem_room > 1.0 else 1.0)
        mem = 100.0 if mem > 100.0 else mem if mem > live_mem else live_mem
        peak = cpu if cpu > mem else mem
        top = peak if peak > disk else disk
        worst = "low" if top <= low else "medium" if top <= medium else "high" if top <= high else "full"
        total = (w_mem * (1.0 - mem / 100.0) + w_cpu * (1.0 - cpu / 100.0) + w_band * _BAND_SCORE[worst]
                 + w_peak * (1.0 - peak / 100.0) + w_io * (1.0 - io_need * io / 100.0))
        return None, total, (cpu, mem, io, disk, worst, _LIVE if live else _ALLOC, total), peak
    return evaluate


_REASON = "after placement cpu %.0f%%, memory %.0f%%, io %.0f%%, disk %.0f%% (band %s%s); score %.3f"
_LIVE, _ALLOC = "; live load from Ganglia", "; allocations only"


# Every node's reason is written out for a cluster of up to EXPLAIN_ALL nodes; in a larger one, the reasons of
# the EXPLAIN_TOP best nodes and of every node the filters rejected (nobody reads a thousand lines, and writing
# them would cost a fifth of the decision; every node's score is still given)
EXPLAIN_ALL = 100
EXPLAIN_TOP = 10


def _explain(scores, details, reasons, count):
    shown = details if count <= EXPLAIN_ALL else heapq.nsmallest(EXPLAIN_TOP, details,
                                                                 key=lambda n: (-scores[n], n))
    for name in shown:
        reasons[name] = [_REASON % details[name]]


def place(nodes, request, policy=None):
    """Choose a node for ``request`` among ``nodes``; ties go to the lexically first node name."""
    policy = policy or Policy()
    evaluate = _evaluator(request, policy)
    scores, reasons, details = {}, {}, {}
    best, best_score = None, None
    for node in nodes:
        why_not, total, detail, _peak = evaluate(node)
        name = node.name
        if why_not:
            reasons[name] = ["rejected: " + why_not]
            continue
        score = scores[name] = round(total, 6)
        details[name] = detail
        if best is None or score > best_score or (score == best_score and name < best):
            best, best_score = name, score
    _explain(scores, details, reasons, len(nodes))
    return Decision(node=best, scores=scores, reasons=reasons)


def _size(request, room):
    """A request's largest share of the cluster's room (vCPUs, memory): the order of a batch."""
    return max(request.vcpus / room[0], request.memory_mib / room[1])


def place_batch(nodes, requests, policy=None):
    """Place several VMs together: {name: Decision} for ``requests`` ({VM name: Request}). The largest first
    (its largest share of the cluster's vCPU or memory room), each on the node that can take it whose peak
    after placement (its busiest dimension) is lowest, the usual score breaking ties, then the name; each choice
    counts on its node for the next. One by one, in arrival order, the biggest VMs come last and find every
    node half full; placed together, the cluster's peak lands near the optimum (benchmarks/placement.py). The
    ``nodes`` passed in are not changed."""
    policy = policy or Policy()
    nodes = [copy.copy(node) for node in nodes]
    room = (max(1.0, sum(n.cpus * policy.cpu_overcommit for n in nodes if n.alive)),
            max(1.0, sum((n.memory_mib - policy.reserved_memory_mib) * policy.memory_overcommit
                         for n in nodes if n.alive)))
    order = sorted(requests, key=lambda name: (-_size(requests[name], room), name))
    out = {}
    for vm in order:
        request = requests[vm]
        evaluate = _evaluator(request, policy)
        scores, reasons, details, best, best_key = {}, {}, {}, None, None
        for node in nodes:
            why_not, total, detail, peak = evaluate(node)
            if why_not:
                reasons[node.name] = ["rejected: " + why_not]
                continue
            scores[node.name] = round(total, 6)
            details[node.name] = detail
            key = (round(peak, 6), -scores[node.name], node.name)
            if best_key is None or key < best_key:
                best, best_key = node, key
        _explain(scores, details, reasons, len(nodes))
        if best is not None:
            reasons.setdefault(best.name, [_REASON % details[best.name]])
            best.vcpus_allocated += request.vcpus
            best.memory_allocated_mib += request.memory_mib
            if best.disk_free_gib is not None:
                best.disk_free_gib -= request.disk_gib
            reasons[best.name].insert(0, "placed with the batch: the lowest peak after placement (%.0f%%)"
                                      % best_key[0])
        out[vm] = Decision(node=best.name if best else None, scores=scores, reasons=reasons)
    return out


# ------------------------------------------------------------------------ plain-data entry point

def node_from_facts(name, facts):
    """A NodeState from what node_info reported for a node (None or a failed result: not alive)."""
    if not facts or facts.get("failed") or facts.get("unreachable") or "cpus" not in facts:
        why = (facts or {}).get("msg")
        return NodeState(name=name, alive=False, why_dead="the survey has no answer from it%s"
                         % (": %s" % " ".join(str(why).split())[:300] if why else ""))
    get = facts.get
    metrics = get("metrics")
    # positional, in NodeState's field order (name, alive, arch, cpus, memory_mib, vcpus_allocated,
    # memory_allocated_mib, disk_free_gib, metrics): placement builds one per node per decision
    return NodeState(name, True, get("arch") or "x86_64", int(facts["cpus"]), int(facts["memory_mib"]),
                     int(get("vcpus_allocated") or 0), int(get("memory_allocated_mib") or 0), get("disk_free_gib"),
                     {k: float(v) for k, v in metrics.items() if v is not None} if metrics else {})


def merge_live(node, live):
    """Merge a node's live state from Ganglia ({alive, why, cpu, memory, io, disk}) into ``node``."""
    if not live:
        return node
    if node.alive and live.get("alive") is False:
        node.alive = False
        node.why_dead = "Ganglia counts the node dead: %s" % (live.get("why") or "no recent report")
    metrics = node.metrics
    for dim in _LIVE_DIMS:
        value = live.get(dim)
        if value is not None:
            metrics[dim] = float(value)
    return node


_LIVE_DIMS = ("cpu", "memory", "io", "disk")


def decide(facts_by_node, vcpus, memory_mib, disk_gib=0.0, io="medium", arch="x86_64", policy=None, pending=None,
           live=None):
    """Placement from plain data: {node name: node_info result} and the request; returns
    Decision.as_dict(). ``policy`` is a dict of Policy fields to override. ``pending``: {node: {vcpus,
    memory_mib}} of creations under way there (not yet defined, so not in node_info's allocations).
    ``live``: {node: live state} from Ganglia (ganglia_info's ``nodes``), or None when there is none."""
    request = Request(vcpus=int(vcpus), memory_mib=int(memory_mib), disk_gib=float(disk_gib or 0), io=io or "medium",
                      arch=arch)
    return place(_nodes(facts_by_node, pending, live), request, Policy(**(policy or {}))).as_dict()


def _nodes(facts_by_node, pending, live):
    """NodeStates of ``facts_by_node`` with the creations under way and the live state merged (see decide)."""
    pending, live = pending or {}, live or {}
    nodes = []
    for name in sorted(facts_by_node):
        node = node_from_facts(name, facts_by_node[name])
        extra = pending.get(name)
        if extra:
            node.vcpus_allocated += int(extra.get("vcpus") or 0)
            node.memory_allocated_mib += int(extra.get("memory_mib") or 0)
        if name in live:
            merge_live(node, live[name])
        nodes.append(node)
    return nodes


def decide_batch(facts_by_node, vms, policy=None, pending=None, live=None):
    """Batch placement from plain data (see place_batch; the other arguments as for decide): ``vms`` a list
    of {name, vcpus, memory_mib, disk_gib, io, arch}. Returns {"placement": {VM: node or None}, "decisions":
    {VM: Decision.as_dict()}, "unplaced": [VMs no node can take]}. A name given twice is a ValueError."""
    requests = {}
    for i, vm in enumerate(vms or ()):
        name = vm.get("name") if isinstance(vm, dict) else None
        if not name:
            raise ValueError("item %d of the batch has no name: each is {name, vcpus, memory_mib[, disk_gib, io]}" % i)
        if name in requests:
            raise ValueError("%s is asked for twice in the batch" % name)
        try:
            request = Request(vcpus=int(vm.get("vcpus") or 0), memory_mib=int(vm.get("memory_mib") or 0),
                              disk_gib=float(vm.get("disk_gib") or 0), io=vm.get("io") or "medium",
                              arch=vm.get("arch") or "x86_64")
        except (TypeError, ValueError):
            raise ValueError("%s: vcpus, memory_mib and disk_gib are numbers, got %s" % (name, vm)) from None
        if request.vcpus < 1 or request.memory_mib < 1 or request.disk_gib < 0 or request.io not in _IO_NEED:
            raise ValueError("%s: at least 1 vCPU and 1 MiB, a disk of 0 GiB or more and io low, medium or high, "
                             "got %s" % (name, vm))
        requests[name] = request
    decisions = place_batch(_nodes(facts_by_node, pending, live), requests, Policy(**(policy or {})))
    return {"placement": {vm: d.node for vm, d in decisions.items()},
            "decisions": {vm: d.as_dict() for vm, d in decisions.items()},
            "unplaced": sorted(vm for vm, d in decisions.items() if d.node is None)}
