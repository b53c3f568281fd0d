# -*- coding: utf-8 -*-
"""The one module entry: typed errors become a failed task with their message, anything else a failed task with
the traceback; warnings go through module.warn. (The module object is a stand-in recording what it was told;
the test-driver tier runs the same path through ansible-playbook.)"""

from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.actions import ActionLog
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


class Exited(Exception):
    pass


class Module:
    _name = "cloud1.iaas.test"
    params = {"name": "web1"}
    check_mode = False

    def __init__(self):
        self.warned, self.outcome = [], None

    def warn(self, text):
        self.warned.append(text)

    def exit_json(self, **result):
        self.outcome = ("exit", result)
        raise Exited

    def fail_json(self, **result):
        self.outcome = ("fail", result)
        raise Exited


def outcome(fn):
    module = Module()
    with pytest.raises(Exited):
        run(module, lambda params, check_mode: fn())
    return module


def test_a_result_and_its_warnings():
    module = outcome(lambda: {"changed": False, "warnings": ["the agent did not answer"]})
    assert module.outcome == ("exit", {"changed": False}) and module.warned == ["the agent did not answer"]


def test_a_typed_error_is_a_failed_task_with_its_message():
    def fn():
        raise InvalidInput("vcpus must be a whole number, not True", name="web1")
    kind, result = outcome(fn).outcome
    assert kind == "fail" and result["msg"] == "vcpus must be a whole number, not True"
    assert result["error"] == "InvalidInput" and result["name"] == "web1" and "exception" not in result


def test_a_wrapped_error_carries_the_traceback():
    def fn():
        try:
            raise ValueError("this function is not supported by the connection driver")
        except ValueError:
            raise OperationFailed("failed to resize the disk vda of web1 on test:///default: not supported")
    kind, result = outcome(fn).outcome
    assert kind == "fail" and result["msg"].startswith("failed to resize the disk vda")
    assert isinstance(result["exception"].__context__, ValueError)


def test_any_other_exception_is_a_failed_task_with_the_traceback():
    def fn():
        return {}["missing"]
    kind, result = outcome(fn).outcome
    assert kind == "fail" and result["error"] == "KeyError"
    assert "failed unexpectedly: KeyError" in result["msg"] and isinstance(result["exception"], KeyError)
    assert result["exception"].__traceback__ is not None


def test_the_action_log_builds_changed_actions_and_diff():
    done = []
    log = ActionLog(check_mode=False)
    log.note("web1 is running")
    log.change("pause web1", done.append, "paused")
    assert done == ["paused"]
    assert log.result({"state": "running"}, {"state": "paused"}, name="web1") == {
        "name": "web1", "changed": True, "actions": ["web1 is running", "pause web1"],
        "diff": {"before": {"state": "running"}, "after": {"state": "paused"}}}
    check = ActionLog(check_mode=True)
    check.change("pause web1", done.append, "again")
    assert done == ["paused"] and check.changed
    assert "diff" not in ActionLog().result({"a": 1}, {"a": 1})
