# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a console job: one of the collection's playbooks through ansible-runner (the library AWX is built on),
its events recorded as they come (one line each), its end recorded with the return code, the play recap and,
when it failed, the message of the task that failed. The job says which playbook and which extra variables
(core.jobs made them: a tenant's job carries owner=<tenant>); nothing here decides what may run."""

from __future__ import annotations

import os
import re
import shutil
import time

import ansible_runner

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
LINE_MAX = 2000


def _line(event):
    data = event.get("event_data") or {}
    text = _ANSI.sub("", event.get("stdout") or "").strip()
    res = data.get("res") or {}
    if event.get("event") in ("runner_on_failed", "runner_on_unreachable") and res.get("msg"):
        text = "%s failed on %s: %s" % (data.get("task") or "a task", data.get("host") or "?", res["msg"])
    return text[:LINE_MAX], data.get("task"), data.get("host")


def run(jobs, job_id, playbook_dir, inventory, private_dir, env=None, clock=time.time):
    """Run job ``job_id`` of ``jobs`` (state.jobs.Jobs) to its end; returns the finished job. ``playbook_dir``:
    the collection's playbooks; ``inventory``: the cluster's inventory (a path); ``private_dir``: ansible-runner's
    working directory for this job (made, and removed when the job ends: its events and outcome are in the jobs
    database, and a directory per job would pile up on the master); ``env``: environment variables of the run
    (ANSIBLE_COLLECTIONS_PATH among them)."""
    job = jobs.get(job_id)
    jobs.start(job_id, clock())
    failures, stats = [], {}

    def on_event(event):
        line, task, host = _line(event)
        kind = event.get("event") or "verbose"
        if kind in ("runner_on_failed", "runner_on_unreachable"):
            failures.append(line)
        if kind == "playbook_on_stats":
            data = event.get("event_data") or {}
            stats.update({k: data.get(k) or {} for k in ("ok", "changed", "failures", "dark", "skipped")})
        if line:
            jobs.event(job_id, int(event.get("counter") or 0), kind, line, task, host)
        return False   # recorded here: ansible-runner keeps no copy in its artifacts

    os.makedirs(private_dir, mode=0o700, exist_ok=True)
    try:
        result = ansible_runner.run(private_data_dir=private_dir, project_dir=playbook_dir,
                                    playbook=os.path.join(playbook_dir, job["playbook"]), inventory=inventory,
                                    extravars=job["extravars"], envvars=dict(env or {}), event_handler=on_event,
                                    quiet=True, json_mode=False)
    finally:
        shutil.rmtree(private_dir, ignore_errors=True)
    ok = result.status == "successful" and result.rc == 0
    summary = {"status": result.status, "stats": stats, "failed": failures[-1] if failures else None}
    jobs.finish(job_id, ok, result.rc, summary, clock())
    return jobs.get(job_id)
