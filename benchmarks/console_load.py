#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Load check of the console (bounded, local only): N concurrent sessions (default 50) read the VM list
(/api/vms) for D seconds (default 60) from the console served by uvicorn over TLS in this process, with libvirt's
test driver as the node holding V VMs of several tenants, while tenants submit jobs (real playbook runs through
ansible-runner). Prints the latency of a read (p50, p95, max) under load against the same reads by one session
alone measured first in the same run (the baseline), the errors, and the jobs submitted vs ended (none lost).

Usage: .venv/bin/python benchmarks/console_load.py [--sessions 50] [--seconds 60] [--vms 40] [--jobs 6]"""

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "build", "collections"))
sys.path.insert(0, os.path.join(REPO, "console"))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

import httpx2 as httpx  # noqa: E402
import libvirt  # noqa: E402
import uvicorn  # noqa: E402
from serving import certificate, free_port  # noqa: E402

from cloud1_console.app import create_app  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.state.accounts import Accounts  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import storage  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient  # noqa: E402

PASSWORD = "load-check-password"
TENANTS = ["tenant%02d" % i for i in range(10)]


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))] if ordered else float("nan")


def session(base, name, verify):
    client = httpx.Client(base_url=base, verify=verify, timeout=30)
    res = client.post("/login", data={"name": name, "password": PASSWORD}, follow_redirects=False)
    assert res.status_code == 303, (name, res.status_code, res.text[-300:])
    return client


def reader(client, until, out, errors):
    while time.monotonic() < until:
        t0 = time.perf_counter()
        try:
            res = client.get("/api/vms")
            ok = res.status_code == 200 and "vms" in res.json()
        except httpx.HTTPError as exc:
            ok, res = False, exc
        took = time.perf_counter() - t0
        (out if ok else errors).append(took if ok else repr(res)[:120])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--vms", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=6)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cloud1-console-load-")
    conn = libvirt.open("test:///default")
    client = LibvirtClient("test:///default", conn=conn)
    storage.pool_for_dir(client, "/images").createXML(
        "<volume><name>debian12.qcow2</name><capacity unit='M'>512</capacity><target><format type='qcow2'/></target>"
        "</volume>", 0)
    for i in range(args.vms):
        vm.ensure(dict(uri="test:///default", image_dir="/images", disk_dir="/images", bridge="br0", domain_type="test",
                       image="debian12.qcow2", vcpus=1, memory_mib=256, name="vm%03d" % i,
                       owner=TENANTS[i % len(TENANTS)], state="running"), conn=conn)
    inv = {"all": {"children": {"master": {"hosts": {"localhost": {"ansible_connection": "local",
                                                                   "ansible_python_interpreter": sys.executable}}},
                                "hypervisors": {"hosts": {}}}}}
    with open(os.path.join(tmp, "inv.json"), "w") as handle:
        json.dump(inv, handle)
    env = {"ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, "build", "collections"), "ANSIBLE_NOCOLOR": "1",
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    settings = {"db": os.path.join(tmp, "console.db"), "nodes": {"node0": "test:///default"},
                "playbook_dir": os.path.join(REPO, "build", "collections", "ansible_collections", "cloud1", "iaas",
                                             "playbooks"),
                "inventory": os.path.join(tmp, "inv.json"), "jobs_dir": os.path.join(tmp, "jobs"), "job_env": env}
    accounts = Accounts(settings["db"])
    for name in TENANTS:
        accounts.ensure(name, time.time(), role="tenant", password=PASSWORD)
    app = create_app(settings)
    console = app.state.console
    cert, key, _spki = certificate(pathlib.Path(tmp))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, ssl_certfile=cert, ssl_keyfile=key,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    base = "https://127.0.0.1:%d" % port
    # the baseline: one session alone, the same reads
    alone, errors = [], []
    one = session(base, TENANTS[0], cert)
    reader(one, time.monotonic() + min(10.0, args.seconds / 4), alone, errors)
    print("baseline: 1 session, %d reads, p50 %.1f ms, p95 %.1f ms"
          % (len(alone), 1000 * pct(alone, 50), 1000 * pct(alone, 95)), flush=True)
    clients = [session(base, TENANTS[i % len(TENANTS)], cert) for i in range(args.sessions)]
    loaded, errors = [], []
    until = time.monotonic() + args.seconds
    threads = [threading.Thread(target=reader, args=(c, until, loaded, errors)) for c in clients]
    for t in threads:
        t.start()
    submitted = []
    for i in range(args.jobs):   # tenants ask for operations while the pages are read
        time.sleep(args.seconds / (args.jobs + 1))
        c = clients[i]
        token = c.get("/jobs").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        res = c.post("/api/jobs", json={"operation": "reboot", "vm": "vm%03d" % (i % len(TENANTS))},
                     headers={"x-csrf-token": token})
        if res.status_code == 202:
            submitted.append(res.json()["job"])
        else:
            errors.append("job refused: %d %s" % (res.status_code, res.text[:100]))
    for t in threads:
        t.join()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and any(console.jobs.get(j)["status"] in ("queued", "running")
                                              for j in submitted):
        time.sleep(1)
    ended = [j for j in submitted if console.jobs.get(j)["status"] not in ("queued", "running")]
    print("load: %d sessions for %.0f s, %d reads (%.0f/s), p50 %.1f ms, p95 %.1f ms, max %.1f ms; errors %d"
          % (args.sessions, args.seconds, len(loaded), len(loaded) / args.seconds, 1000 * pct(loaded, 50),
             1000 * pct(loaded, 95), 1000 * max(loaded or [0]), len(errors)))
    for err in errors[:5]:
        print("  error: %s" % err)
    print("jobs: %d submitted during the load, %d ended (%s), %d lost" % (
        len(submitted), len(ended), ", ".join(sorted({console.jobs.get(j)["status"] for j in ended})),
        len(submitted) - len(ended)))
    print("ratio p95 under load / p95 alone: %.1f; p50 ratio %.1f" % (
        pct(loaded, 95) / pct(alone, 95), statistics.median(loaded) / statistics.median(alone)))
    server.should_exit = True
    conn.close()
    return 0 if not errors and len(ended) == len(submitted) else 1


if __name__ == "__main__":
    sys.exit(main())
