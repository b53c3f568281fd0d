#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark: the cluster-in-a-box at growing node counts, every playbook that touches all the nodes timed.

For each node count (ascending; the box grows, the nodes it had stay converged):
  box up         tools/box/box.py up --nodes N
  site first     site.yml on the grown box (converges the new nodes; shown, not compared)
  site again     site.yml once more: the no-change run (its recap must report changed=0 on every node)
  site ctl CPU   the controller's CPU seconds in that run (ansible-playbook, its workers, ssh): the part that
                 grows with the node count on a real cluster, where every node's own work runs on its own CPUs
                 (here all the nodes share this machine's cores, so the wall time grows with their sum)
  site nodes CPU the CPU seconds all the nodes used in that run (the box's cgroup): divided by the node count,
                 what one node of a real cluster spends on its own cores
  mitogen again  the same no-change run with Mitogen's mitogen_linear strategy (inventory/ansible.cfg's option:
  mitogen ctl CPU  one Python interpreter kept on each node for the whole run, modules imported once), and its
  mitogen nodes CPU  controller's and nodes' CPU seconds
  noop           the baseline for site again: a playbook of --noop-tasks tasks that each only stat / on every
  noop mitogen   node (no facts), with each strategy: what Ansible itself costs per task and node on this
                 machine, so site.yml's growth can be read against the least any playbook of its length grows
then for each count of stopped VMs per node (defined with the collection's vm module on every node at once):
  survey         playbooks/survey.yml (one cluster_info run on the master reads every node: facts and VMs)
  survey per node the survey as it was (one node_info run on each node): the baseline
  createvm       createvm.yml --check (request check, survey, placement; nothing created)
  status         status.yml (gmetad's view on the master)
Each timed figure is the best of --rounds runs. Prints the table, then for each figure the ratio of the largest
node count to the smallest (target for 30 against 6 nodes: within 2x) and the survey against its baseline.
The VMs it defined are deleted at the end; the box is left up (make box-down).

Not a CI step: 30 nodes take the machine for a long while.
Usage: .venv/bin/python benchmarks/scale.py [--nodes 6,12,30] [--stopped 0,2] [--rounds 3]
                                            [--site-again both|linear|mitogen|none] [--noop-tasks 100]
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "box"))
import boxlib  # noqa: E402
from timing import best_of  # noqa: E402

BOX = os.path.join(boxlib.REPO, "tools", "box", "box.py")
ANSIBLE = os.path.join(os.path.dirname(sys.executable), "ansible")
OWNER = "bench"

# the survey as the VM playbooks asked it before the master read every node: one node_info run on each node
PER_NODE = """---
- name: Survey the hypervisors, one module run on each node
  hosts: hypervisors
  gather_facts: false
  ignore_unreachable: true
  tasks:
    - name: What the node offers and its VMs
      cloud1.iaas.node_info:
        disk_dir: "{{ cloud1_disk_dir | default('/var/lib/cloud1/images') }}"
        vms: true
      register: cloud1_node
"""


def noop_playbook(tasks):
    """A playbook of ``tasks`` tasks that each only stat / on every node: Ansible's own cost of one task on
    one node (a worker, the connection, a module run, its result), with no work of the collection's."""
    body = "".join("    - name: Task %d\n      ansible.builtin.stat:\n        path: /\n" % i for i in range(tasks))
    return ("---\n- name: As many tasks as site.yml runs on a node, each doing nothing\n  hosts: hypervisors\n"
            "  gather_facts: false\n  tasks:\n" + body)


def must(ok, what):
    if not ok:
        sys.exit("scale: %s" % what)


def controller_cpu():
    """CPU seconds (user and system) the finished child processes of this benchmark used: the controller's
    share of a run (ansible-playbook and its workers, ssh), apart from the nodes' (their modules run in the
    nodes' containers, which are no children of it)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


sys.path.insert(0, os.path.dirname(BOX))
import box  # noqa: E402  pylint: disable=wrong-import-position

# the box's nodes' parent cgroup (tools/box/box.py makes it)
NODES_CPUACCT = os.path.join(box.CGROUP_ROOT, "cpuacct", box.CGROUP_PARENT, "cpuacct.usage")


def nodes_cpu():
    """CPU seconds all the box's nodes have used so far (their parent cgroup's cpuacct): the nodes' share of a run
    (the modules running on them, their libvirtd, sshd) apart from the controller's."""
    try:
        with open(NODES_CPUACCT) as handle:
            return int(handle.read()) / 1e9
    except (OSError, ValueError) as exc:
        sys.exit("scale: cannot read the box nodes' CPU time from %s: %s" % (NODES_CPUACCT, exc))


def mitogen_env():
    """The environment that runs a playbook with Mitogen's mitogen_linear strategy (from this Python's
    packages: requirements.txt pins mitogen)."""
    try:
        import ansible_mitogen  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        sys.exit("scale: the mitogen strategy needs the mitogen package (make deps installs it): %s" % exc)
    strategies = os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy")
    return {"ANSIBLE_STRATEGY_PLUGINS": strategies, "ANSIBLE_STRATEGY": "mitogen_linear"}


def timed_playbook(path, extra=None, check_mode=False, env_extra=None):
    """Seconds of one run of the playbook at ``path``; exits with its output when it fails."""
    cmd = [boxlib.ANSIBLE_PLAYBOOK, "-i", boxlib.INVENTORY, path]
    for key, value in (extra or {}).items():
        cmd += ["-e", json.dumps({key: value})]
    if check_mode:
        cmd.append("--check")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", **(env_extra or {}))
    t0 = time.monotonic()
    res = subprocess.run(cmd, cwd=boxlib.REPO, env=env, capture_output=True, text=True, timeout=7200, check=False)
    took = time.monotonic() - t0
    tail = (res.stdout + res.stderr)[-3000:]
    must(res.returncode == 0, "%s failed (rc %d):\n%s" % (os.path.basename(path), res.returncode, tail))
    return took, res.stdout


def changed_in_recap(out):
    """{host: changed count} from a run's PLAY RECAP."""
    return {host: int(n) for host, n in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", out, re.M)}


def playbook(name):
    return os.path.join(boxlib.REPO, "playbooks", name)


def stopped_vms(count, state):
    """``count`` stopped VMs on every node (the collection's vm module, all nodes at once), or (``state``
    absent) the ones an earlier call defined."""
    v = boxlib.box_vars()
    for i in range(count):
        fields = (i, OWNER, v["cloud1_base_image"], v["cloud1_image_dir"], v["cloud1_disk_dir"], state)
        args = ("name=scale-{{ inventory_hostname }}-%d owner=%s image=%s image_dir=%s disk_dir=%s bridge=br0 "
                "memory_mib=128 state=%s" % fields)
        res = subprocess.run([ANSIBLE, "-i", boxlib.INVENTORY, "hypervisors", "-m", "cloud1.iaas.vm", "-a", args],
                             cwd=boxlib.REPO, capture_output=True, text=True, timeout=1800, check=False)
        must(res.returncode == 0,
             "vm state=%s on every node failed:\n%s" % (state, (res.stdout + res.stderr)[-3000:]))


def measure(nodes, stopped, rounds, per_node):
    row = {}
    stopped_vms(stopped, "stopped")
    doms = boxlib.domains()
    counts = {node: len([d for d in names if d.startswith("scale-")]) for node, names in doms.items()}
    must(len(counts) == nodes and set(counts.values()) == {stopped},
         "expected %d stopped VMs on each of %d nodes, found %s" % (stopped, nodes, counts))
    request = {"vm": "scalecheck", "owner": OWNER, "memory": 256, "disk": 3, "cpu": 1, "os": "debian", "io": "low"}
    runs = {"survey": lambda: timed_playbook(playbook("survey.yml")),
            "survey per node": lambda: timed_playbook(per_node),
            "createvm --check": lambda: timed_playbook(playbook("createvm.yml"), request, check_mode=True),
            "status": lambda: timed_playbook(playbook("status.yml"))}
    for figure, run in runs.items():
        row[figure] = best_of(rounds, run)[0]
    stopped_vms(stopped, "absent")
    return row


def cell(seconds):
    return "-" if seconds is None else "%.1fs" % seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--nodes", default="6,12,30", help="node counts, ascending (default 6,12,30)")
    ap.add_argument("--stopped", default="0,2", help="stopped VMs per node (default 0,2)")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs of each figure, the best kept (default 3)")
    ap.add_argument("--site-again", choices=["both", "linear", "mitogen", "none"], default="both",
                    help="time site.yml's no-change run with Ansible's linear strategy, with Mitogen's, both "
                         "(default) or neither")
    ap.add_argument("--noop-tasks", type=int, default=100,
                    help="tasks of the no-op baseline playbook, timed with the same strategies (default 100, about "
                         "what site.yml runs on a worker node; 0: not timed)")
    args = ap.parse_args()
    counts = sorted(int(n) for n in args.nodes.split(","))
    stopped = sorted(int(n) for n in args.stopped.split(","))
    strategies = {"linear": {}, "mitogen": mitogen_env() if args.site_again in ("both", "mitogen") else None}
    runs = [k for k in ("linear", "mitogen") if args.site_again in (k, "both")]
    names = {"linear": ("site again", "site ctl CPU", "site nodes CPU"),
             "mitogen": ("mitogen again", "mitogen ctl CPU", "mitogen nodes CPU")}
    noop_names = {"linear": "noop", "mitogen": "noop mitogen"} if args.noop_tasks > 0 else {}
    table = {}
    with tempfile.TemporaryDirectory() as tmp:
        per_node = os.path.join(tmp, "survey-per-node.yml")
        with open(per_node, "w") as handle:
            handle.write(PER_NODE)
        noop = os.path.join(tmp, "noop.yml")
        with open(noop, "w") as handle:
            handle.write(noop_playbook(args.noop_tasks))
        for n in counts:
            t0 = time.monotonic()
            res = subprocess.run([sys.executable, BOX, "up", "--nodes", str(n)], cwd=boxlib.REPO, check=False)
            must(res.returncode == 0, "box up --nodes %d failed" % n)
            up = time.monotonic() - t0
            first = timed_playbook(playbook("site.yml"))[0]
            site = {"box up": up, "site first": first}
            for kind in runs:
                cpu0, nodes0 = controller_cpu(), nodes_cpu()
                again, out = timed_playbook(playbook("site.yml"), env_extra=strategies[kind])
                again_cpu, again_nodes = controller_cpu() - cpu0, nodes_cpu() - nodes0
                changed = {h: c for h, c in changed_in_recap(out).items() if c}
                must(changed_in_recap(out) and not changed,
                     "site.yml's second run (%s) on %d nodes changed something: %s" % (kind, n, changed))
                site.update(zip(names[kind], (again, again_cpu, again_nodes)))
                boxlib.log("%d nodes: site.yml again (%s) %.0f s, no change; CPU: controller %.0f s, nodes %.0f s"
                           % (n, kind, again, again_cpu, again_nodes))
                if kind in noop_names:
                    noop_run = best_of(args.rounds, lambda env=strategies[kind]: timed_playbook(noop, env_extra=env))
                    site[noop_names[kind]] = noop_run[0]
                    boxlib.log("%d nodes: %d no-op tasks (%s) %.1f s" % (n, args.noop_tasks, kind, noop_run[0]))
            for k in stopped:
                row = dict(site)
                row.update(measure(n, k, args.rounds, per_node))
                table[(n, k)] = row
                boxlib.log("%d nodes, %d stopped VMs each: %s" % (
                    n, k, ", ".join("%s %s" % (f, cell(v)) for f, v in row.items())))
    site = [f for kind in runs for f in names[kind] + ((noop_names[kind],) if kind in noop_names else ())]
    figures = site + ["survey", "survey per node", "createvm --check", "status"]
    print("\n%-7s %-8s %s" % ("nodes", "stopped", " ".join("%17s" % f for f in ["box up", "site first"] + figures)))
    for (n, k), row in sorted(table.items()):
        print("%-7d %-8d %s" % (n, k, " ".join("%17s" % cell(row[f]) for f in ["box up", "site first"] + figures)))
    lo, hi = counts[0], counts[-1]
    print("\nratio %d nodes / %d nodes (target <= 2.0):" % (hi, lo))
    for k in stopped:
        print("  %d stopped VMs per node: %s" % (k, ", ".join(
            "%s %.2f" % (f, table[(hi, k)][f] / table[(lo, k)][f]) for f in figures)))
    for kind in runs:
        if kind in noop_names:
            row_lo, row_hi = table[(lo, stopped[0])], table[(hi, stopped[0])]
            again = names[kind][0]
            print("site.yml's no-change run (%s) against the no-op baseline: ratio %d/%d %.2f against the "
                  "baseline's %.2f; site.yml / baseline %.2f at %d nodes, %.2f at %d" % (
                      kind, hi, lo, row_hi[again] / row_lo[again], row_hi[noop_names[kind]] / row_lo[noop_names[kind]],
                      row_lo[again] / row_lo[noop_names[kind]], lo, row_hi[again] / row_hi[noop_names[kind]], hi))
    if len(runs) == 2:
        print("site.yml's no-change run, mitogen / linear (time, controller CPU, nodes CPU):")
        for (n, k), row in sorted(table.items()):
            if k == stopped[0]:
                print("  %d nodes: %s" % (n, ", ".join("%.2f" % (row[m] / row[l]) for m, l in zip(
                    names["mitogen"], names["linear"]))))
    print("survey from the master / survey with a module run on each node (the baseline):")
    for (n, k), row in sorted(table.items()):
        print("  %d nodes, %d stopped each: %.2f" % (n, k, row["survey"] / row["survey per node"]))


if __name__ == "__main__":
    main()
