# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import scaling
from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import build_domain, parse_domain, resize_config
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

GIB = 1024 ** 3


def view(vcpus=1, max_vcpus=2, memory=384, max_memory=512, topology=None):
    return {"vcpus": vcpus, "max_vcpus": max_vcpus, "memory_mib": memory, "max_memory_mib": max_memory,
            "topology": topology}


def steps(params, config=None, live="same", capacity=4 * GIB):
    config = config or view()
    live = dict(config) if live == "same" else live
    return scaling.plan(scaling.validate(dict(name="web1", **params)), config, live, capacity)


def brief(plan):
    return [(s["what"], s["value"], s["scope"]) for s in plan]


def test_within_the_running_maxima_changes_go_live():
    assert brief(steps({"vcpus": 2, "memory_mib": 512})) == [("vcpus", 2, "live"), ("memory", 512, "live")]


def test_above_the_running_maxima_changes_wait_for_the_next_boot():
    plan = steps({"vcpus": 3, "memory_mib": 640})
    assert brief(plan) == [("max_vcpus", 3, "config"), ("vcpus", 3, "config"),
                           ("max_memory", 640, "config"), ("memory", 640, "config")]
    assert "above the running maximum of 2" in plan[1]["why"]
    assert scaling.summary(plan) == {"vcpus": "next boot", "memory": "next boot", "disk": "unchanged"}


def test_a_stopped_vm_changes_its_definition():
    plan = steps({"vcpus": 2}, live=None)
    assert brief(plan) == [("vcpus", 2, "config")] and plan[0]["why"] == "the VM is not running"


def test_what_is_already_there_is_no_step():
    assert steps({"vcpus": 1, "memory_mib": 384, "disk_gib": 4}) == []


def test_the_balloon_target_in_the_definition_counts_not_the_balloon_actual():
    live = view(memory=371)   # the balloon has not quite reached the 384 asked for
    assert steps({"memory_mib": 384}, live=live) == []


def test_scaling_down_live():
    config = view(vcpus=2, memory=512)
    assert brief(steps({"vcpus": 1, "memory_mib": 256}, config=config)) == [("vcpus", 1, "live"), ("memory", 256, "live")]


def test_topology_sets_the_maximum_for_the_next_boot():
    plan = steps({"topology": {"sockets": 2, "cores": 2, "threads": 1}})
    assert brief(plan) == [("max_vcpus", 4, "config"), ("topology", {"sockets": 2, "cores": 2, "threads": 1}, "config")]
    with pytest.raises(InvalidInput, match="= 4 vCPUs, but the vCPU maximum is 8"):
        steps({"topology": {"sockets": 2, "cores": 2}, "max_vcpus": 8})
    with pytest.raises(InvalidInput, match="above the maximum 4"):
        steps({"vcpus": 6, "topology": {"sockets": 2, "cores": 2}})


def test_an_existing_topology_must_fit_a_new_maximum():
    config = view(topology={"sockets": 1, "cores": 2, "threads": 1})
    with pytest.raises(InvalidInput, match="does not fit 3 vCPUs"):
        steps({"vcpus": 3}, config=config)


def test_disk_grows_online_or_offline_and_never_shrinks():
    assert brief(steps({"disk_gib": 5})) == [("disk", 5 * GIB, "live")]
    assert brief(steps({"disk_gib": 5}, live=None)) == [("disk", 5 * GIB, "offline")]
    with pytest.raises(InvalidInput, match=r"smaller than the disk of web1 \(4 GiB\).*xfs\) cannot shrink.*nothing was changed"):
        steps({"disk_gib": 3})


def test_a_refusal_comes_before_any_step():
    with pytest.raises(InvalidInput, match="cannot shrink"):
        steps({"vcpus": 2, "disk_gib": 3})


@pytest.mark.parametrize("params, message", [
    ({}, "nothing to scale"),
    ({"vcpus": 0}, "vcpus must be between 1 and 256 \\(got 0\\)"),
    ({"vcpus": "two"}, "vcpus must be a whole number"),
    ({"memory_mib": 64}, "memory_mib must be between 128"),
    ({"disk_gib": 0}, "disk_gib must be between 1 and 4096"),
    ({"vcpus": 4, "max_vcpus": 2}, "vcpus 4 is above max_vcpus 2"),
    ({"memory_mib": 1024, "max_memory_mib": 512}, "memory_mib 1024 is above max_memory_mib 512"),
    ({"topology": {"sockets": 0}}, "sockets must be between 1 and 256 \\(got 0\\)"),
    ({"vcpus": True}, "whole number"),
])
def test_bad_requests_are_refused(params, message):
    with pytest.raises(InvalidInput, match=message):
        scaling.validate(dict(name="web1", **params))


def test_bad_names_are_refused():
    with pytest.raises(InvalidInput, match="not valid"):
        scaling.validate({"name": "../etc", "vcpus": 1})


VM = {"name": "web1", "vcpus": 2, "memory_mib": 512, "disks": [{"device": "disk", "capacity": 4 * GIB}]}


def test_scale_request_in_the_seeds_forms():
    up = scaling.scale_request({"name": "web1", "direction": "up", "size": 1, "resource": "disk"}, VM)
    assert up["disk_gib"] == 5 and up["vcpus"] is None
    assert scaling.scale_request({"name": "web1", "size": 4, "resource": "cpu"}, VM)["vcpus"] == 4
    assert scaling.scale_request({"name": "web1", "size": 768, "resource": "memory"}, VM)["memory_mib"] == 768
    assert scaling.scale_request({"name": "web1", "direction": "down", "cpu": 1}, VM)["vcpus"] == 1
    assert scaling.scale_request({"name": "web1", "max_cpu": 4, "max_memory": 1024}, VM)["max_vcpus"] == 4


@pytest.mark.parametrize("request_, message", [
    ({"direction": "up", "cpu": 1}, "scaleup cannot lower the vCPUs of web1 from 2 to 1"),
    ({"direction": "down", "memory": 1024}, "scaledown cannot raise the memory"),
    ({"direction": "down", "disk": 3}, "scaledown cannot shrink the disk.*xfs"),
    ({"direction": "sideways", "cpu": 1}, "direction must be one of"),
    ({"size": 1}, "size needs a resource"),
    ({"size": 0, "resource": "disk"}, "at least 1 GiB"),
    ({"size": "x", "resource": "cpu"}, "whole number"),
])
def test_scale_request_refusals(request_, message):
    with pytest.raises(InvalidInput, match=message):
        scaling.scale_request(dict(request_, name="web1"), VM)


def test_resize_config_rewrites_the_definition():
    xml = build_domain({"name": "web1", "vcpus": 1, "max_vcpus": 2, "memory_mib": 384, "max_memory_mib": 512,
                        "disk": "/d/web1.qcow2", "metadata": {"owner": "alice"}})
    new = parse_domain(resize_config(xml, vcpus=3, max_vcpus=4, topology={"sockets": 2, "cores": 2, "threads": 1},
                                     memory_mib=640, max_memory_mib=1024))
    assert (new["vcpus"], new["max_vcpus"], new["memory_mib"], new["max_memory_mib"]) == (3, 4, 640, 1024)
    assert new["topology"] == {"sockets": 2, "dies": 1, "cores": 2, "threads": 1}
    assert new["metadata"]["owner"] == "alice" and new["disks"][0]["source"] == "/d/web1.qcow2"
    kept = parse_domain(resize_config(xml, memory_mib=256))
    assert (kept["vcpus"], kept["max_vcpus"], kept["memory_mib"], kept["max_memory_mib"]) == (1, 2, 256, 512)
    assert ET.fromstring(resize_config(xml, max_vcpus=2)).find("vcpu").get("current") == "1"
    with pytest.raises(InvalidInput, match="= 2 vCPUs, but the vCPU maximum is 3"):
        resize_config(xml, max_vcpus=3, topology={"sockets": 2, "cores": 1, "threads": 1})


def test_cpu_lists():
    assert [scaling.cpu_count(t) for t in ("0", "0-1", "0-2,4", "", None, "0,2-3")] == [1, 2, 4, 0, 0, 3]
