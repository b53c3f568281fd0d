#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark: how good placement's choices are (pure core, no cluster).

  batch:  --instances random 50-node instances (nodes partly used already); a batch of VMs (--batch sizes, a
          light and a heavy one by default) placed together by core.placement.decide_batch (loadbalance.yml's
          plan of a batch) and, for comparison, one by one in arrival order by core.placement.decide (as
          createvm.yml runs place each VM as it comes); the peak node utilisation afterwards (the highest of a
          node's CPU and memory allocation shares) against the optimum of the same instance, solved as a MILP
          with HiGHS (highspy): minimise the peak, every VM on exactly one node. Target: the batch within 2 %
          of the optimum.
  churn:  --events arrivals and departures on 50 nodes, placed by core.placement, by the seed's plain rank
          (the node with the lowest sum of CPU and memory load) and by a weigher like Nova's (the most free
          RAM); the mean and the worst peak utilisation over the run, and the arrivals refused for want of room.

Usage: .venv/bin/python benchmarks/placement.py [--instances 5] [--batch 40 120] [--events 10000] [--time-limit 60]
"""

import argparse
import os
import random
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils.core import placement  # noqa: E402

POLICY = placement.Policy()


def capacity(node):
    return (node["cpus"] * POLICY.cpu_overcommit,
            (node["memory_mib"] - POLICY.reserved_memory_mib) * POLICY.memory_overcommit)


def peak(nodes):
    worst = 0.0
    for n in nodes.values():
        cpu_cap, mem_cap = capacity(n)
        worst = max(worst, n["vcpus_allocated"] / cpu_cap, n["memory_allocated_mib"] / mem_cap)
    return worst


def instance(rnd, count=50):
    nodes = {}
    for i in range(count):
        cpus, mem = rnd.choice([(16, 65536), (32, 131072), (8, 32768)])
        nodes["n%02d" % i] = {"cpus": cpus, "memory_mib": mem, "arch": "x86_64",
                              "vcpus_allocated": int(cpus * POLICY.cpu_overcommit * rnd.uniform(0, 0.5)),
                              "memory_allocated_mib": int((mem - 1024) * rnd.uniform(0, 0.5))}
    return nodes


def vm_size(rnd):
    return rnd.choice([1, 2, 2, 4, 8]), rnd.choice([512, 1024, 2048, 4096, 8192, 16384])


def place_ours(nodes, vcpus, mem):
    return placement.decide(nodes, vcpus, mem)["node"]


def place_seed(nodes, vcpus, mem):
    """The seed's plain rank: the node whose CPU + memory load (after placing) is lowest, if it fits."""
    best = None
    for name, n in sorted(nodes.items()):
        cpu_cap, mem_cap = capacity(n)
        cpu, memory = (n["vcpus_allocated"] + vcpus) / cpu_cap, (n["memory_allocated_mib"] + mem) / mem_cap
        if cpu <= 1 and memory <= 1 and (best is None or cpu + memory < best[0]):
            best = (cpu + memory, name)
    return best and best[1]


def place_nova(nodes, vcpus, mem):
    """A weigher like Nova's default RAM weigher: the most free RAM, if it fits."""
    best = None
    for name, n in sorted(nodes.items()):
        cpu_cap, mem_cap = capacity(n)
        free = mem_cap - n["memory_allocated_mib"] - mem
        if n["vcpus_allocated"] + vcpus <= cpu_cap and free >= 0 and (best is None or free > best[0]):
            best = (free, name)
    return best and best[1]


def add(nodes, name, vcpus, mem, sign=1):
    nodes[name]["vcpus_allocated"] += sign * vcpus
    nodes[name]["memory_allocated_mib"] += sign * mem


def optimum(nodes, batch, time_limit):
    import highspy
    h = highspy.Highs()
    h.silent()
    h.setOptionValue("time_limit", float(time_limit))
    names = sorted(nodes)
    x = {(j, n): h.addBinary() for j in range(len(batch)) for n in names}
    u = h.addVariable(lb=0.0, ub=10.0)
    for j in range(len(batch)):
        h.addConstr(sum(x[j, n] for n in names) == 1)
    for n in names:
        cpu_cap, mem_cap = capacity(nodes[n])
        # (used + added) / capacity <= u, written as used + added - capacity * u <= 0
        cpu = sum(batch[j][0] * x[j, n] for j in range(len(batch)))
        mem = sum(batch[j][1] * x[j, n] for j in range(len(batch)))
        h.addConstr(cpu - cpu_cap * u <= -nodes[n]["vcpus_allocated"])
        h.addConstr(mem - mem_cap * u <= -nodes[n]["memory_allocated_mib"])
    h.minimize(u)
    info = h.getInfo()
    return h.getObjectiveValue(), getattr(info, "mip_gap", float("nan"))


def batch_quality(args, size):
    print("batch: %d instances of 50 nodes, %d VMs each; peak utilisation after placement vs the MILP optimum (HiGHS)"
          % (args.instances, size))
    ratios, online_ratios = [], []
    for k in range(args.instances):
        rnd = random.Random(100 + k)
        nodes = instance(rnd)
        batch = [vm_size(rnd) for _vm in range(size)]
        t0 = time.perf_counter()
        opt, gap = optimum(nodes, batch, args.time_limit)
        solve = time.perf_counter() - t0
        online = {n: dict(v) for n, v in nodes.items()}
        for vcpus, mem in batch:
            add(online, place_ours(online, vcpus, mem), vcpus, mem)
        together = {n: dict(v) for n, v in nodes.items()}
        vms = [{"name": "vm%03d" % j, "vcpus": vcpus, "memory_mib": mem} for j, (vcpus, mem) in enumerate(batch)]
        t0 = time.perf_counter()
        plan = placement.decide_batch(nodes, vms)
        took = time.perf_counter() - t0
        for vm in vms:
            add(together, plan["placement"][vm["name"]], vm["vcpus"], vm["memory_mib"])
        got, one = peak(together), peak(online)
        ratios.append(got / opt)
        online_ratios.append(one / opt)
        print("  instance %d: optimum %.4f (solver's gap %.4f, %.1f s); place_batch %.4f (%.3f s): %.3fx; one by one "
              "%.4f: %.3fx" % (k, opt, gap, solve, got, took, got / opt, one, one / opt))
    print("  place_batch: worst %.3fx, mean %.3fx of the optimum (target <= 1.02x)"
          % (max(ratios), sum(ratios) / len(ratios)))
    print("  one by one in arrival order (createvm.yml runs, each placed as it comes): worst %.3fx, mean %.3fx"
          % (max(online_ratios), sum(online_ratios) / len(online_ratios)))


def churn(args):
    print("churn: %d arrivals and departures on 50 nodes" % args.events)
    for label, chooser in (("core.placement", place_ours), ("seed's plain rank (sum of loads)", place_seed),
                           ("Nova-like (free RAM only)", place_nova)):
        rnd = random.Random(7)
        nodes = {n: dict(v, vcpus_allocated=0, memory_allocated_mib=0) for n, v in instance(random.Random(1)).items()}
        live, peaks, refused = [], [], 0
        for _event in range(args.events):
            if live and (rnd.random() < 0.45 or len(live) > 900):
                name, vcpus, mem = live.pop(rnd.randrange(len(live)))
                add(nodes, name, vcpus, mem, -1)
            else:
                vcpus, mem = vm_size(rnd)
                name = chooser(nodes, vcpus, mem)
                if name is None:
                    refused += 1
                    continue
                add(nodes, name, vcpus, mem)
                live.append((name, vcpus, mem))
            peaks.append(peak(nodes))
        print("  %-34s mean peak %.3f, worst peak %.3f, %d arrivals refused" % (label, sum(peaks) / len(peaks),
                                                                                max(peaks), refused))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--batch", type=int, nargs="+", default=[40, 120])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    for size in args.batch:
        batch_quality(args, size)
    churn(args)


if __name__ == "__main__":
    main()
