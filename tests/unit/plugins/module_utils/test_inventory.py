# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin's inventory as the master's balancer loop runs it: same hosts, groups and variables; no key file,
SSH option or password of the admin's machine at any level; the master's values win everywhere."""
from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import inventory

EXPORTED = {"all": {
    "vars": {"ansible_user": "admin", "ansible_ssh_private_key_file": "/home/admin/.ssh/id", "cloud1_subnet": "10.0.0.0/24",
             "ansible_ssh_common_args": "-o UserKnownHostsFile=/home/admin/kh", "cloud1_vm_ssh_private_key_file": "/home/admin/vm"},
    "children": {
        "master": {"hosts": {"node0": {"ansible_host": "10.0.0.10", "ansible_become_password": "s3cret"}}},
        "workers": {"hosts": {"node1": {"ansible_host": "10.0.0.11", "cloud1_vm_ssh_private_key_file": "/x"}},
                    "vars": {"ansible_password": "pw", "bridge_interface": "eth1"}},
        "hypervisors": {"children": {"master": {}, "workers": {}}},
    }}}


def test_controller_only_variables_go_and_overrides_win_everywhere():
    out = inventory.for_master(EXPORTED, {"ansible_user": "root", "cloud1_vm_ssh_private_key_file": "/etc/k"})
    assert out["all"]["vars"] == {"ansible_user": "root", "cloud1_subnet": "10.0.0.0/24",
                                  "cloud1_vm_ssh_private_key_file": "/etc/k"}
    kids = out["all"]["children"]
    assert kids["master"]["hosts"]["node0"] == {"ansible_host": "10.0.0.10"}
    assert kids["workers"]["hosts"]["node1"] == {"ansible_host": "10.0.0.11"}      # the host's own key path is gone
    assert kids["workers"]["vars"] == {"bridge_interface": "eth1"}
    assert kids["hypervisors"] == {"children": {"master": {}, "workers": {}}}
    assert EXPORTED["all"]["vars"]["ansible_user"] == "admin"                       # the input is left as it was


def test_more_names_can_be_dropped_and_a_non_inventory_is_refused():
    out = inventory.for_master(EXPORTED, drop=["bridge_interface"])
    assert "bridge_interface" not in out["all"]["children"]["workers"]["vars"]
    with pytest.raises(ValueError, match="not an inventory tree"):
        inventory.for_master({"_meta": {}})
