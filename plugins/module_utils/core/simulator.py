# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster simulated cycle by cycle over the balancer's own core, without libvirt: hosts with capacities,
VMs that arrive (placed by ``core.placement``), leave and change load along a trace; each cycle builds the
live view from the VMs' loads, runs ``core.balancer.cycle`` and carries out what it proposes (every proposal
approved, as if every owner said yes). Used by the tests and the benchmarks: migrations per simulated day,
moves back and forth, peak node load.

A load is a callable ``load(t) -> {"cpu": %, "memory": %, "disk": %}`` of the VM's sizes at its arrival: the
work stays the same when the VM grows, so its per cent falls (a VM grown from 2 to 4 vCPUs at 80 % shows 40 %)."""

from __future__ import annotations

import math

from ansible_collections.cloud1.iaas.plugins.module_utils.core import balancer, placement


def diurnal(base, amplitude, peak_hour=14.0, memory=40.0, disk=30.0, phase=0.0):
    """A load that follows the day: ``base`` + ``amplitude`` x a cosine peaking at ``peak_hour``."""
    def load(t):
        hour = (t / 3600.0 + phase) % 24
        cpu = base + amplitude * max(0.0, math.cos((hour - peak_hour) / 24.0 * 2 * math.pi))
        return {"cpu": max(0.0, min(100.0, cpu)), "memory": memory, "disk": disk}
    return load


def constant(cpu, memory=40.0, disk=30.0):
    return lambda t: {"cpu": cpu, "memory": memory, "disk": disk}


class Simulator:
    def __init__(self, hosts, settings=None, interval=60.0):
        """``hosts``: {name: {"cpus", "memory_mib"}}."""
        self.hosts = {n: dict(h) for n, h in hosts.items()}
        self.settings = settings
        self.interval = interval
        self.vms = {}
        self.state = None
        self.now = 0.0
        self.moves = []       # (t, vm, from, to)
        self.resizes = []     # (t, vm, what, value)
        self.rejected = []    # arrivals no node could take
        self.peaks = []       # the highest node CPU of each cycle

    # -- the trace ----------------------------------------------------------------------------------

    def allocations(self):
        facts = {n: {"cpus": h["cpus"], "memory_mib": h["memory_mib"], "arch": "x86_64", "vcpus_allocated": 0,
                     "memory_allocated_mib": 0} for n, h in self.hosts.items()}
        for vm in self.vms.values():
            facts[vm["node"]]["vcpus_allocated"] += vm["vcpus"]
            facts[vm["node"]]["memory_allocated_mib"] += vm["memory_mib"]
        return facts

    def arrive(self, name, vcpus, memory_mib, load, disk_gib=10, owner="tenant"):
        """Place a new VM where placement puts it now (on live load); False when no node can take it."""
        view = self.view()
        decision = placement.decide(self.allocations(), vcpus, memory_mib, live=view["nodes"])
        if decision["node"] is None:
            self.rejected.append(name)
            return False
        sizes = {"vcpus": vcpus, "memory_mib": memory_mib, "disk_gib": disk_gib}
        self.vms[name] = dict(sizes, node=decision["node"], owner=owner, load=load, base=dict(sizes))
        return True

    def depart(self, name):
        self.vms.pop(name, None)

    # -- one cycle ----------------------------------------------------------------------------------

    def view(self, t=None):
        t = self.now if t is None else t
        nodes = {n: {"alive": True, "cpu": 0.0, "memory": 0.0, "io": 0.0, "disk": 30.0} for n in self.hosts}
        vms = {}
        for name, vm in sorted(self.vms.items()):
            work = vm["load"](t)
            use = {dim: min(100.0, work[dim] * vm["base"][size] / max(1, vm[size]))
                   for dim, size in (("cpu", "vcpus"), ("memory", "memory_mib"), ("disk", "disk_gib"))}
            host = self.hosts[vm["node"]]
            nodes[vm["node"]]["cpu"] += use["cpu"] * vm["vcpus"] / host["cpus"]
            nodes[vm["node"]]["memory"] += use["memory"] * vm["memory_mib"] / host["memory_mib"]
            vms[name] = {"node": vm["node"], "cpu": use["cpu"], "memory": use["memory"], "disk": use["disk"],
                         "io": 0.0, "vcpus": vm["vcpus"], "memory_mib": vm["memory_mib"], "disk_gib": vm["disk_gib"],
                         "owner": vm["owner"]}
        for node in nodes.values():
            node["cpu"] = min(100.0, node["cpu"])
            node["memory"] = min(100.0, node["memory"])
        return {"nodes": nodes, "vms": vms}

    def step(self):
        view = self.view()
        self.peaks.append(max([n["cpu"] for n in view["nodes"].values()] or [0.0]))
        res = balancer.cycle(view, self.allocations(), self.now, self.state, self.settings)
        self.state = res["state"]
        for p in res["proposals"]:
            self.apply(p)
        self.now += self.interval
        return res["proposals"]

    def apply(self, proposal):
        action, vm = proposal["action"], self.vms.get(proposal["subject"])
        if vm is None:
            return
        if "to" in action:
            self.moves.append((self.now, proposal["subject"], vm["node"], action["to"]))
            vm["node"] = action["to"]
        for what in ("vcpus", "memory_mib", "disk_gib"):
            if what in action:
                vm[what] = action[what]
                self.resizes.append((self.now, proposal["subject"], what, action[what]))

    def run(self, seconds):
        end = self.now + seconds
        while self.now < end:
            self.step()

    # -- what it shows ------------------------------------------------------------------------------

    def back_and_forth(self, within=86400.0):
        """Moves that undo an earlier move of the same VM (A -> B, then B -> A) within ``within`` seconds."""
        found = []
        last = {}
        for t, vm, src, dst in self.moves:
            prev = last.get(vm)
            if prev and prev[1] == dst and prev[2] == src and t - prev[0] <= within:
                found.append((vm, prev[0], t))
            last[vm] = (t, src, dst)
        return found
