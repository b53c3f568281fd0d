# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record every check a molecule scenario's verify makes, one JSON line each, for the box tier's count.

Active only when CLOUD1_BOX_CHECKS names a file, and only in playbooks named verify.yml. A check is a PASS/FAIL
line printed by the Python check scripts (tests/box/*.py), or else one task result per host (ok = passed,
failed = failed; skipped results and tasks that only print or set variables do not count).

Every playbook molecule runs for a scenario (create, converge, idempotence, verify, ...: the playbooks in the
scenario's directory, not those the checks run inside verify) also writes one line with its wall time, so that the
box tier can print each scenario's time and its drift shows from one run to the next."""

from __future__ import annotations

DOCUMENTATION = r"""
name: cloud1_checks
type: aggregate
short_description: Records the box scenarios' checks as JSON lines (tests only)
description:
  - Writes one JSON line per check to the file named by the environment variable CLOUD1_BOX_CHECKS.
requirements:
  - CLOUD1_BOX_CHECKS set (the box tier of scripts/test.sh sets it)
"""

import json
import os
import re
import time

from ansible.plugins.callback import CallbackBase

LINE = re.compile(r"\] (PASS|FAIL) (.*)$")
NOT_CHECKS = {"debug", "set_fact", "include_tasks", "import_tasks", "include_role", "meta", "setup", "gather_facts",
              "ansible.builtin.debug", "ansible.builtin.set_fact", "ansible.builtin.include_tasks",
              "ansible.builtin.meta", "ansible.builtin.setup", "ansible.builtin.gather_facts",
              "ansible.builtin.include_role", "ansible.builtin.import_tasks"}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cloud1_checks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.path = os.environ.get("CLOUD1_BOX_CHECKS")
        self.scenario = os.environ.get("MOLECULE_SCENARIO_NAME", "unknown")
        self.active = False
        self.playbook, self.started, self.timed = None, None, False

    def v2_playbook_on_start(self, playbook):
        self.playbook, self.started = os.path.basename(playbook._file_name), time.monotonic()
        self.active = bool(self.path) and self.playbook == "verify.yml"
        scenario_dir = os.environ.get("MOLECULE_SCENARIO_DIRECTORY")
        self.timed = bool(scenario_dir) and (os.path.dirname(os.path.realpath(playbook._file_name))
                                             == os.path.realpath(scenario_dir))

    def v2_playbook_on_stats(self, stats):
        if self.path and self.timed:
            self._append({"scenario": self.scenario, "playbook": self.playbook,
                          "seconds": round(time.monotonic() - self.started, 1)})

    def _append(self, record):
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def _write(self, ok, what):
        self._append({"scenario": self.scenario, "ok": bool(ok), "check": what})

    def _record(self, result, failed):
        if not self.active or result._task.action in NOT_CHECKS:
            return
        res = result._result
        lines = [LINE.search(line) for line in (res.get("stdout") or "").splitlines()]
        lines = [m for m in lines if m]
        for match in lines:
            self._write(match.group(1) == "PASS", match.group(2))
        if failed and not any(m.group(1) == "FAIL" for m in lines):   # a failure no PASS/FAIL line names
            why = " ".join(x for x in (res.get("msg"), (res.get("stderr") or "").strip()[-300:]) if x)
            self._write(False, "%s on %s: %s" % (result._task.get_name(), result._host.get_name(), why))
        elif not lines and not failed:
            self._write(True, "%s on %s" % (result._task.get_name(), result._host.get_name()))

    def v2_runner_on_ok(self, result):
        if "results" not in result._result:   # a loop's items were counted one by one
            self._record(result, False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if "results" not in result._result and not ignore_errors:
            self._record(result, True)

    def v2_runner_item_on_ok(self, result):
        self._record(result, False)

    def v2_runner_item_on_failed(self, result):
        self._record(result, True)
