# -*- coding: utf-8 -*-
"""One validator per rule: the disagreements the core had are gone (a boolean is not a count anywhere, the
topology rule is one, a pmsuspended VM is handled the same way everywhere)."""

from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import (
    domain,
    lifecycle,
    migration,
    rotation,
    rules,
    scaling,
    vmspec,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

XML = domain.build_domain({"name": "web1", "vcpus": 1, "max_vcpus": 2, "memory_mib": 256, "disk": "/d/web1.qcow2"})


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("entry", [
    lambda v: vmspec.validate({"name": "web1", "vcpus": v}),
    lambda v: vmspec.validate({"name": "web1", "memory_mib": v}),
    lambda v: vmspec.validate({"name": "web1", "disk_gib": v}),
    lambda v: vmspec.validate({"name": "web1", "topology": {"sockets": v}}),
    lambda v: scaling.validate({"name": "web1", "vcpus": v}),
    lambda v: scaling.validate({"name": "web1", "disk_gib": v}),
    lambda v: scaling.scale_request({"name": "web1", "size": v, "resource": "cpu"},
                                    {"vcpus": 1, "memory_mib": 256, "disks": []}),
    lambda v: migration.validate({"name": "web1", "dest": "test:///default", "bandwidth_mib": v}),
    lambda v: migration.validate({"name": "web1", "dest": "test:///default", "timeout": v}),
    lambda v: rotation.select([], keep=v),
    lambda v: domain.resize_config(XML, topology={"sockets": v}),
], ids=["vmspec.vcpus", "vmspec.memory", "vmspec.disk", "vmspec.topology", "scaling.vcpus", "scaling.disk",
        "scale_request.size", "migration.bandwidth", "migration.timeout", "rotation.keep", "domain.topology"])
def test_a_boolean_is_not_a_count_anywhere(entry, value):
    with pytest.raises(InvalidInput, match="must be a whole number, not (True|False)"):
        entry(value)


@pytest.mark.parametrize("value,expected", [(3, 3), ("3", 3), (3.0, 3), (None, None)])
def test_whole_numbers(value, expected):
    assert rules.whole(value, "n", 1, 10) == expected


@pytest.mark.parametrize("value", [2.5, "2.5", "two", [1], {}])
def test_not_whole_numbers(value):
    with pytest.raises(InvalidInput, match="n must be a whole number"):
        rules.whole(value, "n")


def test_one_topology_rule_everywhere():
    """vmspec, scaling, the domain builder and the definition rewrite refuse the same topology the same way."""
    topo = {"sockets": 2, "cores": 2, "threads": 1}
    message = "= 4 vCPUs, but the vCPU maximum is 2"
    entries = [
        lambda: vmspec.validate({"name": "web1", "max_vcpus": 2, "topology": topo}),
        lambda: scaling.plan(scaling.validate({"name": "web1", "max_vcpus": 2, "topology": topo}),
                             domain.parse_domain(XML), None, 0),
        lambda: domain.build_domain({"name": "web1", "vcpus": 1, "max_vcpus": 2, "memory_mib": 256, "disk": "/d",
                                     "topology": topo}),
        lambda: domain.resize_config(XML, topology=topo),
    ]
    for entry in entries:
        with pytest.raises(InvalidInput, match=message):
            entry()
    assert rules.topology(topo, 4) == topo
    assert rules.topology({"sockets": 2}, 2) == {"sockets": 2, "cores": 1, "threads": 1}
    with pytest.raises(InvalidInput, match="unknown keys sockts"):
        rules.topology({"sockts": 2})


def test_state_classes_partition_libvirts_states():
    names = set(rules.STATES.values())
    assert set(rules.ACTIVE_STATES) | set(rules.INACTIVE_STATES) == names
    assert not set(rules.ACTIVE_STATES) & set(rules.INACTIVE_STATES)
    assert set(rules.EXECUTING_STATES) < set(rules.ACTIVE_STATES)


def test_pmsuspended_is_handled_one_way():
    """A VM suspended to RAM is active (it holds memory and a QEMU process) but not executing: every decision
    says so the same way."""
    assert rules.is_active("pmsuspended") and not rules.is_executing("pmsuspended")
    # lifecycle: it is woken first, never started (it is active) nor asked to shut down while asleep
    assert lifecycle.plan("pmsuspended", "running") == (["wake"], "running")
    assert lifecycle.plan("pmsuspended", "stopped") == (["wake", "shutdown"], "shutoff")
    assert lifecycle.plan("pmsuspended", "paused") == (["wake", "pause"], "paused")
    assert lifecycle.plan("pmsuspended", "stopped", force=True) == (["destroy"], "shutoff")
    # migration: refused with what to do, not sent as an offline move of a running domain
    with pytest.raises(InvalidInput, match="suspended to RAM"):
        migration.kind("web1", "pmsuspended")
    assert migration.kind("web1", "paused") == "live" and migration.kind("web1", "shutoff") == "offline"


@pytest.mark.parametrize("state,wanted,force,steps,result", [
    ("shutoff", "running", False, ["start"], "running"),
    ("running", "running", False, [], "running"),
    ("paused", "running", False, ["resume"], "running"),
    ("running", "paused", False, ["pause"], "paused"),
    ("shutoff", "paused", False, ["start_paused"], "paused"),
    ("paused", "paused", False, [], "paused"),
    ("running", "restarted", False, ["reboot"], "running"),
    ("paused", "restarted", False, ["resume", "reboot"], "running"),
    ("shutoff", "restarted", False, ["start"], "running"),
    ("running", "stopped", False, ["shutdown"], "shutoff"),
    ("paused", "stopped", False, ["resume", "shutdown"], "shutoff"),
    ("running", "stopped", True, ["destroy"], "shutoff"),
    ("shutoff", "stopped", False, [], "shutoff"),
    ("crashed", "stopped", False, [], "crashed"),
    ("crashed", "running", False, ["start"], "running"),
    ("running", "present", False, [], "running"),
])
def test_lifecycle_plan(state, wanted, force, steps, result):
    assert lifecycle.plan(state, wanted, force) == (steps, result)


def test_names_are_matched_in_full():
    """A trailing newline does not slip past the rules (a regex ``$`` matches before it)."""
    for entry in (lambda: vmspec.check_name("web1\n"), lambda: vmspec.check_owner("alice\n"),
                  lambda: vmspec.check_hostname("web1\n"), lambda: rotation.check_snapshot_name("s1\n")):
        with pytest.raises(InvalidInput):
            entry()
