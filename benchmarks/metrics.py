#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark: the live-metrics path at scale, and what the per-VM collector costs a node.

  reader:     a synthetic gmetad XML of --hosts nodes x 30 metrics plus --vms VMs x 11 metrics (the collector's),
              read the way ganglia_info reads it: parse (core.metrics.parse_gmetad), the live view (node and VM
              load, bands), and placement's input from it (placement.decide over every node with live=).
              Baseline in the same run: ElementTree alone parsing the same text (the floor any reader pays).
              Prints the time per read of each step, and the ratios to the baseline.
  collector:  on a box node (--node, needs the box up and converged): the cloud1-vm-metrics service's CPU time
              (itself and its gmetric children, from /proc/PID/stat) over --window seconds, per running VM, and
              scaled to 10 VMs as per cent of one core; the node's gmond over the same window is the baseline.

Usage: .venv/bin/python benchmarks/metrics.py [--hosts 1000] [--vms 10000] [--rounds 3] [--collector --node node1]
"""

import argparse
import os
import random
import sys
import time
import xml.etree.ElementTree as ET

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "build", "collections"))
sys.path.insert(0, os.path.join(REPO, "tests", "box"))
from timing import best_of  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics, placement  # noqa: E402

NODE_METRICS = ["cpu_user", "cpu_system", "cpu_idle", "cpu_nice", "cpu_aidle", "cpu_wio", "cpu_intr", "cpu_sintr",
                "load_one", "load_five", "load_fifteen", "proc_run", "proc_total", "mem_total", "mem_free",
                "mem_shared", "mem_buffers", "mem_cached", "swap_free", "swap_total", "bytes_in", "bytes_out",
                "pkts_in", "pkts_out", "disk_total", "disk_free", "part_max_used", "io_busymax", "cpu_num",
                "boottime"]


def _metric(name, val, kind="float", units=""):
    return ('<METRIC NAME="%s" VAL="%s" TYPE="%s" UNITS="%s" TN="7" TMAX="60" DMAX="0" SLOPE="both" '
            'SOURCE="gmond">\n<EXTRA_DATA>\n<EXTRA_ELEMENT NAME="GROUP" VAL="x"/>\n</EXTRA_DATA>\n</METRIC>\n'
            % (name, val, kind, units))


def synthetic(hosts, vms, seed=12):
    rnd = random.Random(seed)
    out = ['<?xml version="1.0" encoding="ISO-8859-1" standalone="yes"?>\n<GANGLIA_XML VERSION="3.7.2" '
           'SOURCE="gmetad">\n<GRID NAME="cloud1" AUTHORITY="http://master/ganglia/" LOCALTIME="2000000000">\n'
           '<CLUSTER NAME="cloud1" LOCALTIME="2000000000" OWNER="x" LATLONG="x" URL="x">\n']
    for i in range(hosts):
        address = "10.%d.%d.%d" % (i // 65536, i // 256 % 256, i % 256)
        out.append('<HOST NAME="node%d" IP="%s" REPORTED="1999999990" TN="%d" TMAX="20" DMAX="0" LOCATION="x" '
                   'GMOND_STARTED="0" TAGS="">\n' % (i, address, rnd.choice([5, 10, 15, 200])))
        for name in NODE_METRICS:
            val = {"mem_total": 8000000, "disk_total": 100.0, "cpu_num": 8,
                   "mem_free": rnd.randint(500000, 7000000), "mem_cached": 200000, "mem_buffers": 10000,
                   "disk_free": round(rnd.uniform(10, 90), 1)}.get(name, round(rnd.uniform(0, 100), 1))
            out.append(_metric(name, val))
        out.append("</HOST>\n")
    for j in range(vms):
        out.append('<HOST NAME="vm%d" IP="10.200.%d.%d" REPORTED="1999999990" TN="8" TMAX="20" DMAX="3600" '
                   'LOCATION="x" GMOND_STARTED="0" TAGS="">\n' % (j, j // 256 % 256, j % 256))
        for name, (kind, units, _title) in metrics.VM_METRICS.items():
            val = "node%d" % (j % max(1, hosts)) if kind == "string" else round(rnd.uniform(0, 100), 1)
            out.append(_metric(name, "guest agent" if name == "vm_disk_status" else val, kind, units))
        out.append("</HOST>\n")
    out.append("</CLUSTER>\n</GRID>\n</GANGLIA_XML>\n")
    return "".join(out)


def reader(args):
    text = synthetic(args.hosts, args.vms)
    print("synthetic gmetad XML: %d nodes x %d metrics + %d VMs x %d metrics, %.1f MB"
          % (args.hosts, len(NODE_METRICS), args.vms, len(metrics.VM_METRICS), len(text) / 1e6))
    base, _root = best_of(args.rounds, lambda: ET.fromstring(text))
    parse, parsed = best_of(args.rounds, lambda: metrics.parse_gmetad(text))
    view_t, view = best_of(args.rounds, lambda: metrics.live_view(parsed))
    facts = {n: {"cpus": 8, "memory_mib": 32768, "arch": "x86_64", "vcpus_allocated": 4,
                 "memory_allocated_mib": 4096} for n in view["nodes"]}
    place_t, decision = best_of(args.rounds, lambda: placement.decide(facts, 1, 512, live=view["nodes"]))
    dead = sum(1 for n in view["nodes"].values() if not n["alive"])
    print("%-44s %9.3f s" % ("baseline: ElementTree.fromstring alone", base))
    print("%-44s %9.3f s  %5.2fx baseline" % ("parse_gmetad (hosts, metrics, alive/dead)", parse, parse / base))
    print("%-44s %9.3f s  %5.2fx baseline" % ("live_view (loads, bands of %d nodes, %d VMs)" % (
        len(view["nodes"]), len(view["vms"])), view_t, view_t / base))
    print("%-44s %9.3f s  %5.2fx baseline" % ("placement over every node with live load", place_t, place_t / base))
    total = parse + view_t + place_t
    print("%-44s %9.3f s  %5.2fx baseline   (%d dead nodes dropped; chosen %s)"
          % ("one read, end to end", total, total / base, dead, decision["node"]))


def _cpu_ticks(node, unit):
    import boxlib
    res = boxlib.ssh_node(node, "pid=$(systemctl show -p MainPID --value %s); cat /proc/$pid/stat; "
                                "getconf CLK_TCK" % unit)
    stat, tck = res.stdout.strip().rsplit("\n", 1)
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / float(tck)   # utime stime cutime cstime


def collector(args):
    import boxlib
    running = [name for name, identity in boxlib.domains().get(args.node, {}).items() if identity[0] == 1]
    if not running:
        sys.exit("no VM runs on %s: start one (createvm.yml -e node=%s) to measure the collector" % (args.node, args.node))
    c0, g0 = _cpu_ticks(args.node, "cloud1-vm-metrics"), _cpu_ticks(args.node, "ganglia-monitor")
    time.sleep(args.window)
    c1, g1 = _cpu_ticks(args.node, "cloud1-vm-metrics"), _cpu_ticks(args.node, "ganglia-monitor")
    per_vm = 100.0 * (c1 - c0) / args.window / len(running)
    gmond = 100.0 * (g1 - g0) / args.window
    print("collector on %s over %d s with %d running VMs: %.2f %% of one core per VM -> %.1f %% for 10 VMs"
          % (args.node, args.window, len(running), per_vm, 10 * per_vm))
    print("baseline: the node's gmond over the same window: %.2f %% of one core; collector per VM / gmond = %.2fx"
          % (gmond, per_vm / gmond if gmond else float("nan")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--collector", action="store_true", help="also measure the collector on a box node")
    parser.add_argument("--node", default="node1")
    parser.add_argument("--window", type=int, default=60)
    args = parser.parse_args()
    reader(args)
    if args.collector:
        collector(args)


if __name__ == "__main__":
    main()
