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


def test_module_choices_and_defaults_are_the_cores():
    """The argument specs take their choices and defaults from the core's constants (no second copy to drift)."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.core import migration, rotation, vmspec
    from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm, vm_migrate, vm_snapshot
    spec = vm.ARGUMENT_SPEC
    assert spec["state"]["choices"] == list(vmspec.STATES) and spec["state"]["default"] == vmspec.DEFAULT_STATE
    assert spec["clone"]["choices"] == list(vmspec.CLONE_MODES) and spec["clone"]["default"] == vmspec.DEFAULT_CLONE
    assert spec["io"]["choices"] == list(vmspec.IO_CLASSES) and spec["os"]["choices"] == list(vmspec.OS_FAMILIES)
    assert spec["network_config"]["choices"] == list(vmspec.NETWORK_CONFIGS)
    assert spec["image_dir"]["default"] == vmspec.DEFAULT_IMAGE_DIR
    assert vm_migrate.ARGUMENT_SPEC["timeout_action"]["choices"] == list(migration.TIMEOUT_ACTIONS)
    assert vm_migrate.ARGUMENT_SPEC["timeout_action"]["default"] == migration.DEFAULT_TIMEOUT_ACTION
    assert vm_snapshot.ARGUMENT_SPEC["prefix"]["default"] == rotation.DEFAULT_PREFIX
    # and the core applies the same defaults when a caller (a filter, a test) leaves them out
    assert vmspec.validate({"name": "web1"})["state"] == vmspec.DEFAULT_STATE
    assert migration.validate({"name": "web1", "dest": "test:///default"})["timeout_action"] == migration.DEFAULT_TIMEOUT_ACTION
