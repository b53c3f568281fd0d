# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import migration
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

DEST = "qemu+ssh://root@node2/system"


def test_a_good_request():
    req = migration.validate({"name": "web1", "dest": DEST, "bandwidth_mib": 100, "max_downtime_ms": 300,
                              "timeout": 600, "timeout_action": "force", "postcopy": True, "encryption": "none",
                              "migrate_uri": "tcp://10.99.0.12"})
    assert req["bandwidth_mib"] == 100 and req["timeout_action"] == "force" and req["postcopy"]
    assert req["encryption"] == "none" and req["migrate_uri"] == "tcp://10.99.0.12"
    plain = migration.validate({"name": "web1", "dest": DEST})
    assert plain["timeout_action"] == "abort" and plain["encryption"] == "tunnel" and plain["migrate_uri"] is None


@pytest.mark.parametrize("params, message", [
    ({"dest": DEST}, "a VM name is required"),
    ({"name": "../x", "dest": DEST}, "not valid"),
    ({"name": "web1"}, "dest .* is required"),
    ({"name": "web1", "dest": DEST, "bandwidth_mib": 0}, "bandwidth_mib must be between 1 and 100000 \\(got 0\\)"),
    ({"name": "web1", "dest": DEST, "max_downtime_ms": "fast"}, "whole number"),
    ({"name": "web1", "dest": DEST, "timeout_action": "retry"}, "timeout_action must be one of abort, force"),
    ({"name": "web1", "dest": DEST, "timeout_action": "force"}, "needs timeout"),
    ({"name": "web1", "dest": DEST, "encryption": "aes"}, "encryption must be one of tunnel, none"),
    ({"name": "web1", "dest": DEST, "postcopy": True}, "postcopy cannot travel through the encrypted tunnel"),
    ({"name": "web1", "dest": DEST, "migrate_uri": "tcp://10.99.0.12"}, "give encryption=none with it"),
])
def test_bad_requests(params, message):
    with pytest.raises(InvalidInput, match=message):
        migration.validate(params)


FACTS = {"cpus": 2, "memory_mib": 4096, "arch": "x86_64", "vcpus_allocated": 2, "memory_allocated_mib": 1024}
VM = {"max_vcpus": 2, "max_memory_mib": 1024}


def test_capacity_uses_the_placement_filters():
    assert migration.capacity("node2", FACTS, VM) is None
    assert "memory: 1024 MiB allocated + 2560 MiB requested > 3072 MiB usable" in migration.capacity(
        "node2", FACTS, dict(VM, max_memory_mib=2560))
    assert "vCPUs" in migration.capacity("node2", FACTS, dict(VM, max_vcpus=7))
    assert migration.capacity("node2", None, VM) == "the survey has no answer from it"
    assert migration.capacity("node2", FACTS, dict(VM, max_vcpus=7), {"cpu_overcommit": 8}) is None


def test_decide_goes_only_when_every_check_passes():
    ok = migration.decide([("destination", True, "answers"), ("storage", True, "shared")])
    assert ok["go"] and ok["why_not"] == "" and [c["check"] for c in ok["checks"]] == ["destination", "storage"]
    no = migration.decide([("destination", True, "answers"), ("storage", False, "not shared"), ("cpu", False, "old")])
    assert not no["go"] and no["why_not"] == "not shared; old"


def test_progress_and_report():
    stats = {"data_total": 400, "data_remaining": 100, "memory_total": 300, "memory_remaining": 50}
    assert migration.percent_remaining(stats) == 25.0
    assert migration.percent_remaining({"memory_total": 200, "memory_remaining": 50}) == 25.0
    assert migration.percent_remaining({"type": 0}) is None
    done = migration.report({"time_elapsed": 1730, "downtime": 160, "data_processed": 139460000,
                             "memory_total": 268435456})
    assert done["total_time_ms"] == 1730 and done["downtime_ms"] == 160 and done["data_transferred_bytes"] == 139460000
    assert migration.report({}, elapsed_s=2.5)["total_time_ms"] == 2500
