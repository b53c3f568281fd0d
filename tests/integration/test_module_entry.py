# -*- coding: utf-8 -*-
"""A libvirtError raised inside an executor reaches the user, through ansible-playbook, as a failed task with a
message naming the operation, the VM and the node, and the traceback (libvirt's error included) in
``exception``; nothing is left half-done."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))


def test_a_libvirt_error_inside_an_executor_is_a_failed_task_with_message_and_traceback(task):
    # the test driver's own running domain "test" has a disk vda of 1 TiB; its driver has no block resize, so
    # growing it online makes libvirt raise inside vm_scale's executor
    res = task("cloud1.iaas.vm_scale", {"name": "test", "uri": "test:///default", "disk_gib": 2000,
                                        "guest_access": "ssh"}, env={"ANSIBLE_DISPLAY_TRACEBACK": "error"})
    assert res.get("failed") is True, res
    assert res["msg"].startswith("failed to resize the disk vda of test on test:///default"), res["msg"]
    assert "not supported" in res["msg"] and res["error"] == "OperationFailed"
    assert "libvirt.libvirtError" in res["exception"] and "virDomainBlockResize" in res["exception"]
    assert "Traceback" in res["exception"]


def test_a_refused_request_is_a_failed_task_with_only_the_rule(task):
    res = task("cloud1.iaas.vm_scale", {"name": "test", "uri": "test:///default", "vcpus": 0})
    assert res.get("failed") is True and res["error"] == "InvalidInput"
    assert res["msg"] == "vcpus must be between 1 and 256 (got 0)"
