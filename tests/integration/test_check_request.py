# -*- coding: utf-8 -*-
"""cloud1.iaas.check_request through ansible-playbook: a request that breaks a rule fails with the rule's own
message as the task's one msg; a good one becomes the normalised fact."""

import pytest

BAD = [
    ({"name": "a/b"}, "VM name 'a/b' is not valid"),
    ({"name": "web1\n"}, "VM name 'web1\\n' is not valid"),
    ({"name": "web1", "vcpus": True}, "vcpus must be a whole number"),
    ({"name": "web1", "owner": "bad owner"}, "owner 'bad owner' is not valid"),
    ({"name": "web1", "memory_mib": 64}, "memory_mib must be between 128"),
]


@pytest.mark.parametrize("request_, message", BAD)
def test_a_broken_rule_is_one_clean_msg(task, request_, message):
    res = task("cloud1.iaas.check_request", {"request": request_})
    assert res["failed"] is True and res["error"] == "InvalidInput"
    assert res["msg"].startswith(message), res["msg"]
    assert "Finalization" not in res["msg"] and "filter" not in res["msg"]


def test_a_good_request_is_normalised(task):
    res = task("cloud1.iaas.check_request", {"request": {"name": "web1", "owner": "alice", "vcpus": "2",
                                                         "memory_mib": "1024", "state": "running"}})
    assert not res.get("failed") and res["changed"] is False
    assert res["request"]["vcpus"] == 2 and res["request"]["memory_mib"] == 1024
    assert res["ansible_facts"]["cloud1_request"] == res["request"]


def test_options_are_checked(task):
    res = task("cloud1.iaas.check_request", {"request": {"name": "web1"}, "kind": "grow"})
    assert res["failed"] and "kind must be one of vm, scale" in res["msg"]
    res = task("cloud1.iaas.check_request", {"request": "web1"})
    assert res["failed"] and "request must be a dict" in res["msg"]
    res = task("cloud1.iaas.check_request", {"request": {"name": "web1"}, "extra": 1})
    assert res["failed"] and "unknown option(s) extra" in res["msg"]
    res = task("cloud1.iaas.check_request", {"request": {"name": "web1"}, "nodes": "node1"})
    assert res["failed"] and "nodes must be a list" in res["msg"]
    res = task("cloud1.iaas.check_request", {"request": {"name": "ghost", "cpu": 2}, "kind": "scale"})
    assert res["failed"] and "ghost" in res["msg"]


def test_a_creation_may_not_take_a_nodes_name(task):
    res = task("cloud1.iaas.check_request", {"request": {"name": "node1", "owner": "alice"}, "nodes": ["node0", "node1"]})
    assert res["failed"] is True and res["error"] == "InvalidInput"
    assert res["msg"].startswith("VM name 'node1' is the name of a node of the cluster"), res["msg"]
    res = task("cloud1.iaas.check_request", {"request": {"name": "web1", "owner": "alice"}, "nodes": ["node0", "node1"]})
    assert not res.get("failed") and res["request"]["name"] == "web1"
