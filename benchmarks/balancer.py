#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark: the balancer's policy cycle and one placement decision at scale (pure core, no cluster).

  cycle:      one balancer cycle over --hosts nodes and --vms VMs with random live load (seeded), then a second
              cycle 700 s later (the waits ripen); target <= 1 s each
  placement:  one placement decision over --hosts nodes with live load; target <= 5 ms
  baseline:   copying the same view once (dict copies of every node and VM), the floor of any pass over it
  day:        the simulator (core.simulator) over one simulated day of a diurnal trace on --day-hosts hosts with
              5 VMs each, every proposal approved: migrations, moves back and forth, resizes, the peak node
              CPU; baseline: the same day with the hysteresis and the cool-down turned off

Prints each figure, its ratio to the baseline and to its target.
Usage: .venv/bin/python benchmarks/balancer.py [--hosts 1000] [--vms 10000] [--rounds 3] [--day-hosts 20]
"""

import argparse
import os
import random
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "build", "collections"))
from timing import best_of  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.core import balancer, placement, simulator  # noqa: E402


def cluster(hosts, vms, seed=3):
    rnd = random.Random(seed)
    nodes = {"node%d" % i: {"alive": rnd.random() > 0.01, "cpu": rnd.uniform(5, 97), "memory": rnd.uniform(5, 90),
                            "io": rnd.uniform(0, 50), "disk": rnd.uniform(10, 80)} for i in range(hosts)}
    alloc = {n: {"cpus": 32, "memory_mib": 262144, "arch": "x86_64", "vcpus_allocated": 20,
                 "memory_allocated_mib": 40960} for n in nodes}
    guests = {"vm%d" % j: {"node": "node%d" % (j % hosts), "cpu": rnd.uniform(0, 100), "memory": rnd.uniform(0, 100),
                           "disk": rnd.uniform(10, 95), "io": rnd.uniform(0, 20), "vcpus": 2, "memory_mib": 2048,
                           "disk_gib": 20, "owner": "tenant%d" % (j % 50)} for j in range(vms)}
    return {"nodes": nodes, "vms": guests}, alloc


def day(hosts, settings):
    sim = simulator.Simulator({"h%02d" % i: {"cpus": 8, "memory_mib": 65536} for i in range(hosts)}, settings)
    for i in range(hosts * 5):
        sim.arrive("vm%03d" % i, 2, 2048, simulator.diurnal(10.0 + (i % 7) * 7, 55.0, phase=(i % 6) * 1.5))
    sim.run(86400)
    return sim


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--day-hosts", type=int, default=20)
    args = parser.parse_args()
    view, alloc = cluster(args.hosts, args.vms)
    base, _copy = best_of(args.rounds, lambda: ({n: dict(v) for n, v in view["nodes"].items()},
                                                {n: dict(v) for n, v in view["vms"].items()}))
    first, res = best_of(args.rounds, lambda: balancer.cycle(view, alloc, 0.0))
    second, res2 = best_of(args.rounds, lambda: balancer.cycle(view, alloc, 700.0, res["state"]))
    place, decision = best_of(args.rounds, lambda: placement.decide(alloc, 2, 2048, live=view["nodes"]))
    print("%d nodes, %d VMs" % (args.hosts, args.vms))
    print("%-40s %9.4f s" % ("baseline: one copy of the view", base))
    for what, took, target, extra in (("policy cycle (first)", first, 1.0, "%d proposals" % len(res["proposals"])),
                                      ("policy cycle (700 s later)", second, 1.0, "%d proposals" % len(res2["proposals"])),
                                      ("placement decision", place, 0.005, "chose %s" % decision["node"])):
        print("%-40s %9.4f s  %7.1fx baseline  %5.2fx target (%g s)  %s" % (what, took, took / base, took / target,
                                                                            target, extra))

    with_h = day(args.day_hosts, None)
    without = day(args.day_hosts, {"reset_high": 79.9, "reset_low": 10.1, "cooldown": 0})
    print("one simulated day, %d hosts, %d VMs, diurnal load, every proposal approved:" % (args.day_hosts,
                                                                                           args.day_hosts * 5))
    for what, sim in (("with hysteresis and cool-down", with_h), ("baseline: without them", without)):
        print("  %-32s %4d migrations, %3d back and forth, %4d resizes, peak node CPU %.0f%%"
              % (what, len(sim.moves), len(sim.back_and_forth()), len(sim.resizes), max(sim.peaks)))
    print("  migrations with / without: %.2fx" % (len(with_h.moves) / max(1, len(without.moves))))


if __name__ == "__main__":
    main()
