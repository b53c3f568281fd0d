# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console's settings: one JSON file written by the ``console`` role (or by a test), read once at start.

    {"db": ".../console.db",                   accounts, sessions and jobs (SQLite, the master's disk)
     "nodes": {"node0": "qemu+ssh://root@10.77.0.10/system", ...},   what the VM list reads (read-only)
     "gmetad": {"host": "localhost", "port": 8651},      live load (optional: without it, no live figures)
     "graphs_dir": "/var/lib/ganglia/graphs/cloud1",     PNGs drawn by the master's graphs timer
     "proposals_db": ".../balancer.db",                  the balancer's proposals (optional)
     "playbook_dir": ".../playbooks", "inventory": "...", "jobs_dir": "...",   what jobs run and where
     "job_env": {"ANSIBLE_COLLECTIONS_PATH": "..."},     the environment of a job's ansible-playbook
     "workers": 2, "view_ttl": 5}                        jobs at once; seconds a cluster reading is reused
"""

from __future__ import annotations

import json

REQUIRED = ("db", "nodes", "playbook_dir", "inventory", "jobs_dir")
DEFAULTS = {"gmetad": None, "graphs_dir": None, "proposals_db": None, "job_env": {}, "workers": 2, "view_ttl": 5.0,
            "cluster": None}


def load(path):
    """The settings in the JSON file ``path``; ValueError naming what is missing or wrong."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return check(data)


def check(data):
    if not isinstance(data, dict):
        raise ValueError("console settings: a JSON object is expected")
    missing = [k for k in REQUIRED if not data.get(k)]
    if missing:
        raise ValueError("console settings: missing %s" % ", ".join(missing))
    if not isinstance(data["nodes"], dict) or not all(isinstance(v, str) for v in data["nodes"].values()):
        raise ValueError("console settings: nodes maps each node's name to its libvirt URI")
    unknown = sorted(set(data) - set(REQUIRED) - set(DEFAULTS))
    if unknown:
        raise ValueError("console settings: unknown keys %s" % ", ".join(unknown))
    out = dict(DEFAULTS, **data)
    if int(out["workers"]) < 1:
        raise ValueError("console settings: workers is at least 1")
    return out
