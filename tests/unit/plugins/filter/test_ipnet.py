# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cloud1.iaas.plugins.filter.ipnet import FilterModule


def test_filters_registered_and_working():
    f = FilterModule().filters()
    assert f["cidr_network"]("10.77.0.11/24") == "10.77.0.0/24"
    assert f["cidr_ip"]("10.77.0.11/24") == "10.77.0.11"
    assert f["cidr_prefix"]("10.77.0.11/24") == 24


def test_filter_error_is_an_ansible_error():
    with pytest.raises(AnsibleFilterError, match="no prefix length"):
        FilterModule().filters()["cidr_network"]("10.77.0.11")


def test_ssh_source_option_filter():
    f = FilterModule().filters()["ssh_source_option"]
    assert f(["10.77.0.11", "192.0.2.0/28"]) == 'from="10.77.0.11,192.0.2.0/28"'
    with pytest.raises(AnsibleFilterError, match="list of addresses"):
        f("10.77.0.11")
    with pytest.raises(AnsibleFilterError, match="'node1' is not an address"):
        f(["node1"])


def test_authorized_key_line_filter_takes_keywords():
    f = FilterModule().filters()["authorized_key_line"]
    assert f("ssh-ed25519 AAAA root@node1", comment="c root@node1", host="10.77.0.11", sources=["10.0.0.0/8"]) \
        == 'from="10.77.0.11,10.0.0.0/8" ssh-ed25519 AAAA c root@node1'
    with pytest.raises(AnsibleFilterError, match="c root@node1: the sources"):
        f("ssh-ed25519 AAAA", comment="c root@node1", sources="10.0.0.7")
