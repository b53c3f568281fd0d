# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The box tier's count of checks and its time per scenario (scripts/box_checks.py)."""
from __future__ import annotations

import importlib.util
import json
import os

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "box_checks.py")


def run(tmp_path, capsys, records, scenarios=("default", "lifecycle")):
    spec = importlib.util.spec_from_file_location("box_checks", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name in scenarios:
        (tmp_path / "molecule" / name).mkdir(parents=True)
        (tmp_path / "molecule" / name / "molecule.yml").write_text("---\n")
    checks = tmp_path / "checks.jsonl"
    checks.write_text("".join(json.dumps(r) + "\n" for r in records))
    mod.main(str(checks), str(tmp_path / "molecule"))
    out = capsys.readouterr()
    return out.out.split(), out.err.splitlines()


def test_counts_checks_and_times_each_step_in_order(tmp_path, capsys):
    totals, lines = run(tmp_path, capsys, [
        {"scenario": "default", "playbook": "create.yml", "seconds": 7.2},
        {"scenario": "default", "ok": True, "check": "a"},
        {"scenario": "default", "ok": True, "check": "b"},
        {"scenario": "default", "playbook": "converge.yml", "seconds": 201.0},
        {"scenario": "default", "playbook": "converge.yml", "seconds": 96.8},
        {"scenario": "lifecycle", "ok": False, "check": "web1 answers"},
        {"scenario": "lifecycle", "playbook": "verify.yml", "seconds": 700.0},
    ])
    assert totals == ["2", "1"]
    assert "[test] box: FAIL in lifecycle: web1 answers" in lines
    default = next(x for x in lines if "scenario default" in x)
    assert "2 checks passed, 0 failed" in default
    assert default.endswith("305s (create 7s, converge 201s, converge 97s)")
    assert next(x for x in lines if "scenario lifecycle" in x).endswith("700s (verify 700s)")


def test_a_scenario_without_checks_is_a_failure_even_with_times(tmp_path, capsys):
    totals, lines = run(tmp_path, capsys, [
        {"scenario": "default", "ok": True, "check": "a"},
        {"scenario": "lifecycle", "playbook": "converge.yml", "seconds": 40.0},
    ])
    assert totals == ["1", "1"]
    assert "(NO CHECK RAN)" in next(x for x in lines if "scenario lifecycle" in x)
