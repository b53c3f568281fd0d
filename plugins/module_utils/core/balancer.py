# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The balancer's policy: the seed's thresholds with hysteresis, culprit VMs and proposals. Pure Python (no
Ansible, no libvirt, no clock of its own): one call of ``cycle`` takes the cluster's live view (nodes and VMs
with their usage in per cent, from ``core.metrics.live_view``), the allocations placement needs, the time and
the stored state, and returns the proposals of this cycle with their reasons and the new state. The same
inputs give the same proposals (everything is visited in sorted order).

The rules (every number a ``Settings`` field with the seed's default):

- VM scale up: CPU, memory or disk >= ``high`` (80 %) for ``wait`` (600 s), or >= ``at_once`` (90 %) -> grow
  that dimension by its step; when the VM's node cannot hold the larger VM, move it (target from placement)
  and then grow it.
- VM scale down: CPU or memory <= ``low`` (10 %) for ``wait``, or at ``zero`` (0 %) -> shrink by a step, never
  below the VM's floor and never a disk (xfs does not shrink).
- Node relief: CPU, memory or I/O >= ``high`` for ``wait`` or >= ``at_once`` -> move the culprit (the VM whose
  share of the hot dimension is largest among those that fit elsewhere and whose move lowers the node's peak
  most) to the node placement picks; >= ``forced`` (95 %): act without waiting for consent.
- No flapping: a watch re-arms only after its subject fell below ``reset_high`` (70 %) / rose above
  ``reset_low`` (20 %); a VM just moved or resized waits out ``cooldown``; at most ``moves_per_node`` moves per
  node and ``moves_per_cycle`` per cycle; never a move that puts the target above ``target_cap`` (80 %).

State (a plain dict, JSON-able; the store keeps it in SQLite): ``watches`` {key: {"since", "armed", "seen"}} (a
level counts as held only while cycles keep reading it: a reading more than ``gap`` seconds after the previous
one starts the hold over),
``cooldown`` {vm: until}.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ansible_collections.cloud1.iaas.plugins.module_utils.core import placement
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

VM_UP_DIMS = ("cpu", "memory", "disk")
VM_DOWN_DIMS = ("cpu", "memory")
NODE_DIMS = ("cpu", "memory", "io")


@dataclass
class Settings:
    high: float = 80.0
    at_once: float = 90.0
    forced: float = 95.0
    reset_high: float = 70.0
    low: float = 10.0
    zero: float = 0.0
    reset_low: float = 20.0
    wait: float = 600.0             # seconds a level must hold
    gap: float = 300.0              # seconds between two readings beyond which a hold starts over (not watched)
    cooldown: float = 1800.0        # seconds a moved or resized VM is left alone
    moves_per_node: int = 1
    moves_per_cycle: int = 3
    target_cap: float = 80.0        # no move may put its target above this (per cent)
    cpu_step: int = 1               # vCPUs added or removed
    memory_step_mib: int = 256
    disk_step_gib: int = 2
    min_vcpus: int = 1              # the floor of a scale-down
    min_memory_mib: int = 256

    @classmethod
    def from_dict(cls, values):
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values or {}) - known)
        if unknown:
            raise InvalidInput("unknown balancer setting(s) %s: the settings are %s"
                               % (", ".join(unknown), ", ".join(sorted(known))))
        out = cls(**(values or {}))
        if not (out.reset_high < out.high <= out.at_once <= out.forced <= 100):
            raise InvalidInput("balancer levels must rise: reset_high %g < high %g <= at_once %g <= forced %g <= 100"
                               % (out.reset_high, out.high, out.at_once, out.forced))
        if not (out.zero <= out.low < out.reset_low):
            raise InvalidInput("balancer low levels must rise: zero %g <= low %g < reset_low %g"
                               % (out.zero, out.low, out.reset_low))
        if out.wait < 0 or out.cooldown < 0 or out.gap <= 0:
            raise InvalidInput("wait and cooldown are seconds, not negative; gap is seconds, more than 0")
        return out


def new_state():
    return {"watches": {}, "cooldown": {}}


# ------------------------------------------------------------------------------------------ watches

def _watch(state, key, value, now, s, up=True):
    """Advance one watch; returns "now" (at once), "held" (past the wait), or None. A watch that fired is
    disarmed until its value crosses back over the reset level."""
    w = state["watches"].setdefault(key, {"since": None, "armed": True})
    seen, w["seen"] = w.get("seen"), now
    if seen is not None and not 0 <= now - seen <= s.gap:
        w["since"] = None   # nobody watched in between (the loop stopped): a level is held only while watched
    if up:
        crossed, instant, reset = value >= s.high, value >= s.at_once, value < s.reset_high
    else:
        crossed, instant, reset = value <= s.low, value <= s.zero, value > s.reset_low
    if reset:
        w["armed"] = True
    if not crossed:
        w["since"] = None
        return None
    if w["since"] is None:
        w["since"] = now
    if not w["armed"]:
        return None
    if instant:
        return "now"
    if now - w["since"] >= s.wait:
        return "held"
    return None


def _firing(state, prefix, subject, dims, now, s, pending, up=True, suffix=""):
    """(value, dim, key, how) for each of ``subject``'s watches that fires now and has no open proposal, advancing
    each watch as it is reached (a generator: a caller that stops early leaves the later watches as they were)."""
    for dim in dims:
        value = subject.get(dim)
        if value is None:
            continue
        key = "%s:%s%s" % (prefix, dim, suffix)
        how = _watch(state, key, float(value), now, s, up=up)
        if how and key not in pending:
            yield float(value), dim, key, how


def _fired(state, key):
    """A watch that produced a proposal waits to re-arm (a decline keeps it so while the load stays)."""
    state["watches"][key]["armed"] = False


def _level_text(value, how, s, up=True):
    if how == "now":
        return "%.0f%% %s %g%% at once" % (value, ">=" if up else "<=", s.at_once if up else s.zero)
    return "%.0f%% %s %g%% for %d s" % (value, ">=" if up else "<=", s.high if up else s.low, s.wait)


# ---------------------------------------------------------------------------------------- proposals

def _move_allocation(facts, vm, src, dst):
    """Account a proposed move in the allocations placement sees (``facts`` is this cycle's copy)."""
    for node, sign in ((src, -1), (dst, 1)):
        if node in facts:
            facts[node]["vcpus_allocated"] = int(facts[node].get("vcpus_allocated") or 0) + sign * int(vm["vcpus"])
            used = int(facts[node].get("memory_allocated_mib") or 0)
            facts[node]["memory_allocated_mib"] = used + sign * int(vm["memory_mib"])


def _share(vm, node_facts, dim):
    """The VM's use of its node's ``dim``, in per cent of the node (what its move takes off the node)."""
    cpus = max(1, int(node_facts.get("cpus") or 1))
    mem = max(1, int(node_facts.get("memory_mib") or 1))
    if dim == "cpu":
        return float(vm.get("cpu") or 0) * int(vm["vcpus"]) / cpus
    if dim == "memory":
        return float(vm.get("memory") or 0) * int(vm["memory_mib"]) / mem
    return float(vm.get("io") or 0)   # the VM's I/O rate as a share of a full disk (core.metrics.vm_load)


def _target(vm_name, vm, src, view, facts, s, live_loads, load=None):
    """The node placement picks for ``vm`` (its sizes) away from ``src`` without going above the target cap
    with the load it brings (``load``: the VM as it runs now, default ``vm``), or None and why."""
    load = load or vm
    candidates = {n: f for n, f in facts.items() if n != src}
    if not candidates:
        return None, "no other node"
    live = {n: dict(view["nodes"].get(n) or {}) for n in candidates}
    for n, extra in live_loads.items():
        if n in live:
            for dim, add in extra.items():
                if live[n].get(dim) is not None:
                    live[n][dim] = live[n][dim] + add
    decision = placement.decide(candidates, vm["vcpus"], vm["memory_mib"], live=live)
    for name in sorted(decision["scores"], key=lambda n: (-decision["scores"][n], n)):
        after = {dim: float(live[name].get(dim) or 0) + _share(load, facts[name], dim) for dim in ("cpu", "memory")}
        if max(after.values()) <= s.target_cap:
            return name, (decision["reasons"].get(name) or ["score %.3f" % decision["scores"][name]])[0]
    return None, "no node stays under %g%% with %s: %s" % (s.target_cap, vm_name, decision["reasons"])


def cycle(view, allocations, now, state=None, settings=None, pending=()):
    """One balancer cycle. ``view``: {"nodes": {name: {alive, cpu, memory, io, disk}}, "vms": {name: {node,
    cpu, memory, disk, io, vcpus, memory_mib, disk_gib, owner}}}; ``allocations``: {node: node_info facts};
    ``pending``: keys of proposals still waiting for an answer (not raised again). Returns {"proposals":
    [...], "state": new state}."""
    s = settings if isinstance(settings, Settings) else Settings.from_dict(settings)
    state = {"watches": dict((k, dict(v)) for k, v in ((state or {}).get("watches") or {}).items()),
             "cooldown": dict((state or {}).get("cooldown") or {})}
    state["cooldown"] = {vm: until for vm, until in state["cooldown"].items() if until > now}
    pending = set(pending)
    vms = {n: v for n, v in sorted(view.get("vms", {}).items()) if v.get("node") in allocations}
    proposals = []
    facts = {n: dict(f) for n, f in allocations.items()}   # allocations after this cycle's proposed moves
    by_node = {}
    for vm_name, vm in vms.items():
        by_node.setdefault(vm["node"], []).append(vm_name)
    moved = {}
    live_loads = {}   # per cent added to a target node by this cycle's moves
    moves_from = {}

    def may_move(node):
        return len(moved) < s.moves_per_cycle and moves_from.get(node, 0) < s.moves_per_node

    def record_move(vm_name, src, dst):
        moved[vm_name] = (src, dst)
        moves_from[src] = moves_from.get(src, 0) + 1
        vm = vms[vm_name]
        add = live_loads.setdefault(dst, {})
        for dim in ("cpu", "memory"):
            add[dim] = add.get(dim, 0.0) + _share(vm, facts[dst], dim)
        _move_allocation(facts, vm, src, dst)

    # 1. node relief (the hottest dimension of each hot node; culprit VM; forced above the forced level)
    for node_name, node in sorted(view.get("nodes", {}).items()):
        if node_name not in allocations or not node.get("alive", True):
            continue
        hot = list(_firing(state, "node:%s" % node_name, node, NODE_DIMS, now, s, pending))
        if not hot:
            continue
        value, dim, key, how = max(hot)
        if not may_move(node_name):
            continue
        # the culprit: the largest share of the hot dimension among the residents that fit elsewhere
        residents = sorted(((-_share(vms[n], facts[node_name], dim), n) for n in by_node.get(node_name, [])
                            if n not in moved and n not in state["cooldown"]))
        best = None
        for neg_share, vm_name in residents:
            target, why = _target(vm_name, vms[vm_name], node_name, view, facts, s, live_loads)
            if target is not None:
                best = (vm_name, target, why, -neg_share)
                break
        if best is None:
            continue
        vm_name, target, why, share = best
        forced = value >= s.forced
        level = _level_text(value, how, s)
        reason = "node %s %s %s; %s takes %.0f%% of it; %s: %s" % (node_name, dim, level, vm_name, share, target, why)
        if forced:
            reason += "; forced (>= %g%%): done without waiting for consent" % s.forced
        proposals.append({
            "key": key, "kind": "move", "subject": vm_name, "node": node_name, "dimension": dim,
            "owner": vms[vm_name].get("owner"), "forced": forced,
            "action": {"vm": vm_name, "from": node_name, "to": target},
            "reason": reason,
        })
        _fired(state, key)
        record_move(vm_name, node_name, target)
        state["cooldown"][vm_name] = now + s.cooldown

    # 2. VMs: scale up (move first when the node cannot hold it) and scale down
    for vm_name, vm in vms.items():
        if vm_name in state["cooldown"]:
            for dim in VM_UP_DIMS:   # the watches still follow the load
                if vm.get(dim) is not None:
                    _watch(state, "vm:%s:%s:up" % (vm_name, dim), float(vm[dim]), now, s)
            continue
        for value, dim, key, how in _firing(state, "vm:%s" % vm_name, vm, VM_UP_DIMS, now, s, pending, suffix=":up"):
            proposal = _grow(vm_name, vm, dim, value, how, key, facts, view, s, live_loads, may_move)
            if proposal:
                proposals.append(proposal)
                _fired(state, key)
                if proposal["kind"] == "move_and_grow":
                    record_move(vm_name, vm["node"], proposal["action"]["to"])
                break
        else:
            for value, dim, key, how in _firing(state, "vm:%s" % vm_name, vm, VM_DOWN_DIMS, now, s, pending, up=False,
                                                suffix=":down"):
                proposal = _shrink(vm_name, vm, dim, value, how, key, s)
                if proposal:
                    proposals.append(proposal)
                    _fired(state, key)
                    break
    return {"proposals": proposals, "state": state}


def _grow(vm_name, vm, dim, value, how, key, facts, view, s, live_loads, may_move):
    base = {"key": key, "subject": vm_name, "node": vm["node"], "dimension": dim, "owner": vm.get("owner"),
            "forced": False}
    reason = "%s %s %s" % (vm_name, dim, _level_text(value, how, s))
    if dim == "disk":
        size = int(vm.get("disk_gib") or 0) + s.disk_step_gib
        return dict(base, kind="grow", action={"vm": vm_name, "disk_gib": size},
                    reason="%s: grow its disk online to %d GiB (the owner may give a limit)" % (reason, size))
    grown = dict(vm)
    if dim == "cpu":
        grown["vcpus"] = int(vm["vcpus"]) + s.cpu_step
        action = {"vm": vm_name, "vcpus": grown["vcpus"]}
        what = "%d vCPUs" % grown["vcpus"]
    else:
        grown["memory_mib"] = int(vm["memory_mib"]) + s.memory_step_mib
        action = {"vm": vm_name, "memory_mib": grown["memory_mib"]}
        what = "%d MiB" % grown["memory_mib"]
    here = dict(facts[vm["node"]])
    here["vcpus_allocated"] = int(here.get("vcpus_allocated") or 0) - int(vm["vcpus"])
    here["memory_allocated_mib"] = int(here.get("memory_allocated_mib") or 0) - int(vm["memory_mib"])
    node_state = placement.node_from_facts(vm["node"], here)
    request = placement.Request(vcpus=grown["vcpus"], memory_mib=grown["memory_mib"])
    why_not = placement.fits(node_state, request)
    if why_not is None:
        return dict(base, kind="grow", action=action, reason="%s: grow it to %s" % (reason, what))
    if not may_move(vm["node"]):
        return None
    target, why = _target(vm_name, grown, vm["node"], view, facts, s, live_loads, load=vm)
    if target is None:
        return None
    action = dict(action, to=target, **{"from": vm["node"]})
    return dict(base, kind="move_and_grow", action=action,
                reason="%s: its node %s cannot hold %s (%s): move it to %s (%s), then grow it" % (
                    reason, vm["node"], what, why_not, target, why))


def _shrink(vm_name, vm, dim, value, how, key, s):
    base = {"key": key, "subject": vm_name, "node": vm["node"], "dimension": dim, "owner": vm.get("owner"),
            "forced": False, "kind": "shrink"}
    reason = "%s %s %s" % (vm_name, dim, _level_text(value, how, s, up=False))
    if dim == "cpu":
        size = int(vm["vcpus"]) - s.cpu_step
        if size < max(s.min_vcpus, int(vm.get("min_vcpus") or 0)):
            return None
        return dict(base, action={"vm": vm_name, "vcpus": size}, reason="%s: shrink it to %d vCPUs" % (reason, size))
    size = int(vm["memory_mib"]) - s.memory_step_mib
    if size < max(s.min_memory_mib, int(vm.get("min_memory_mib") or 0)):
        return None
    return dict(base, action={"vm": vm_name, "memory_mib": size}, reason="%s: shrink it to %d MiB" % (reason, size))


def settings_dict(settings):
    return asdict(settings)


def merge_view(live, vms):
    """The balancer's view from Ganglia's live view (``core.metrics.live_view``) and the cluster's VMs as the
    survey read them from libvirt (``core.cluster.cluster_vms``: node, sizes, owner): each running VM that
    Ganglia reports alive, with its usage and its sizes. A VM Ganglia has no live figures for is left out
    (it is judged when it has them, never on stale or missing figures)."""
    out = {"nodes": dict(live.get("nodes") or {}), "vms": {}}
    figures = live.get("vms") or {}
    for vm in vms:
        fig = figures.get(vm["name"])
        if not fig or not fig.get("alive") or vm.get("state") not in (None, "running"):
            continue
        disks = [d for d in vm.get("disks") or [] if d.get("device") == "disk" and d.get("capacity")]
        out["vms"][vm["name"]] = {
            "node": vm.get("host") or vm.get("node"), "cpu": fig.get("cpu"), "memory": fig.get("memory"),
            "disk": fig.get("disk"), "io": fig.get("io"), "vcpus": int(vm.get("vcpus") or 1),
            "memory_mib": int(vm.get("memory_mib") or 0),
            "disk_gib": int(round(disks[0]["capacity"] / 1024 ** 3)) if disks else 0,
            "owner": (vm.get("metadata") or {}).get("owner")}
    return out


def proposal_line(p):
    """A stored proposal as one line a person reads: id, status, what, for whom, why, and how it ended."""
    action = p.get("action") or {}
    what = {"move": "move %s %s -> %s" % (p["subject"], action.get("from", p.get("node")), action.get("to")),
            "move_and_grow": "move %s to %s and grow it" % (p["subject"], action.get("to"))}.get(
        p["kind"], "%s %s" % (p["kind"], p["subject"]))
    sizes = ", ".join("%s %s" % (k, action[k]) for k in ("vcpus", "memory_mib", "disk_gib") if k in action)
    status = p.get("status", "new") + (" (forced)" if p.get("forced") else "")
    sizes = " to " + sizes if sizes else ""
    line = "#%s %s: %s%s (owner %s): %s" % (p.get("id", "-"), status, what, sizes, p.get("owner") or "-", p["reason"])
    if p.get("outcome"):
        line += " -> %s" % p["outcome"]
    return line
