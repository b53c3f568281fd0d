#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark: migrate.yml against a bare libvirt-python migration of the same guest, in the same run; the
downtime of an idle 256 MiB guest; and the cost of encrypting the migration.

  bare:        libvirt-python on the box host: migrateToURI3 peer-to-peer, live, persistent on the
               destination, undefined on the source (the flags vm_migrate uses), downtime from the
               destination's completed job statistics
  migrate.yml: ansible-playbook playbooks/migrate.yml -e vm=... -e to=... (survey, every check, the
               migration as an async task with progress polling)
  encryption:  each of the two, once tunnelled (VIR_MIGRATE_TUNNELLED through the qemu+ssh connection: the
               nodes' SSH encrypts the memory; vm_migrate's default) and once as QEMU's plain stream
               (encryption=none)

Each round moves the guest node0 -> node1 with migrate.yml and back with the bare call, first tunnelled and
then plain. Prints each move and the ratios migrate.yml / bare and tunnelled / plain (migration time and
downtime from libvirt's job statistics). Needs the box up and converged (make demo or the box tier); makes
its own VM (bench-mig, 256 MiB, idle) and deletes it.
Usage: .venv/bin/python benchmarks/migrate.py [--rounds N]
"""

import argparse
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "box"))
import boxlib  # noqa: E402
import libvirt  # noqa: E402

VM = "bench-mig"
FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_PERSIST_DEST
         | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)


def bare(src, dest, encryption):
    uris = boxlib.node_uris()
    conn = libvirt.open(uris[src])
    try:
        dom = conn.lookupByName(VM)
        t0 = time.monotonic()
        flags = FLAGS | (libvirt.VIR_MIGRATE_TUNNELLED if encryption == "tunnel" else 0)
        dom.migrateToURI3("qemu+ssh://root@%s/system" % dest, {}, flags)
        took = time.monotonic() - t0
    finally:
        conn.close()
    conn = libvirt.open(uris[dest])
    try:
        stats = conn.lookupByName(VM).jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    finally:
        conn.close()
    return took, stats.get("downtime"), stats.get("time_elapsed")


def playbook(dest, encryption):
    rc, out, took = boxlib.playbook("migrate.yml", {"vm": VM, "to": dest, "encryption": encryption})
    assert rc == 0, out[-3000:]
    match = re.search(r"total (\d+) ms, downtime (\d+) ms", out)
    return took, int(match.group(2)) if match else None, int(match.group(1)) if match else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    rc, out, took = boxlib.playbook("createvm.yml", {"vm": VM, "owner": "bench", "memory": 256, "cpu": 1,
                                                     "node": "node0"})
    assert rc == 0, out[-3000:]
    print("%s created on node0 in %.1f s; idle 30 s" % (VM, took), flush=True)
    time.sleep(30)
    runs = {}   # (tool, encryption) -> [(wall s, migration ms, downtime ms)]
    try:
        for i in range(args.rounds):
            for enc in ("tunnel", "none"):
                took, down, total = playbook("node1", enc)
                runs.setdefault(("migrate.yml", enc), []).append((took, total, down))
                print("round %d migrate.yml      node0->node1 %-6s %6.2f s wall (migration %s ms, downtime %s ms)"
                      % (i + 1, enc, took, total, down), flush=True)
                took, down, total = bare("node1", "node0", enc)
                runs.setdefault(("bare", enc), []).append((took, total, down))
                print("round %d bare libvirt     node1->node0 %-6s %6.2f s wall (migration %s ms, downtime %s ms)"
                      % (i + 1, enc, took, total, down), flush=True)
    finally:
        boxlib.playbook("deletevm.yml", {"vm": VM})

    def med(key, field):
        known = [r[field] for r in runs[key] if r[field] is not None]
        return statistics.median(known) if known else None

    b, r = med(("migrate.yml", "tunnel"), 0), med(("bare", "tunnel"), 0)
    print("migrate.yml %.2f s / bare libvirt-python %.2f s = ratio %.2f (tunnelled, median of %d round(s), idle "
          "256 MiB, TCG)" % (b, r, b / r, args.rounds))
    for tool in ("migrate.yml", "bare"):
        t_ms, p_ms = med((tool, "tunnel"), 1), med((tool, "none"), 1)
        t_down, p_down = med((tool, "tunnel"), 2), med((tool, "none"), 2)
        print("encryption cost (%s): migration %s ms tunnelled / %s ms plain = %s; downtime %s ms / %s ms = %s" % (
            tool, t_ms, p_ms, "%.2f" % (t_ms / p_ms) if t_ms and p_ms else "-", t_down, p_down,
            "%.2f" % (t_down / p_down) if t_down and p_down else "-"))
    known = [row[2] for rows in runs.values() for row in rows if row[2] is not None]
    print("downtime of an idle 256 MiB guest: median %s ms (min %s, max %s, %d migrations)"
          % (statistics.median(known) if known else None, min(known or [None]), max(known or [None]), len(known)))


if __name__ == "__main__":
    main()
