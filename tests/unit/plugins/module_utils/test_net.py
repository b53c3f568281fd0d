# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import net
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput


@pytest.mark.parametrize("text,network,ip,prefix", [
    ("10.77.0.11/24", "10.77.0.0/24", "10.77.0.11", 24),
    ("192.168.1.10/16", "192.168.0.0/16", "192.168.1.10", 16),
    ("2001:db8::5/64", "2001:db8::/64", "2001:db8::5", 64),
])
def test_cidr_parts(text, network, ip, prefix):
    assert (net.cidr_network(text), net.cidr_ip(text), net.cidr_prefix(text)) == (network, ip, prefix)


@pytest.mark.parametrize("bad", ["10.77.0.11", "10.77.0.300/24", "eth0", "", "10.0.0.1/33"])
def test_cidr_rejects_with_a_fix(bad):
    with pytest.raises(InvalidInput) as err:
        net.cidr_network(bad)
    assert "10.77.0.11/24" in err.value.message


@pytest.mark.parametrize("sources,option", [
    (["10.77.0.11"], 'from="10.77.0.11"'),
    (["10.77.0.11", "192.0.2.5/28", "2001:db8::1", "10.77.0.11"], 'from="10.77.0.11,192.0.2.0/28,2001:db8::1"'),
    ([" 10.77.0.12 "], 'from="10.77.0.12"'),
    (["node1", "node1.example.org", "10", "10.77.0.300"], ""),   # names and non-addresses are left out
    (["node1.example.org", "10.77.0.13"], 'from="10.77.0.13"'),
    ([], ""),
])
def test_ssh_source_option(sources, option):
    assert net.ssh_source_option(sources) == option


@pytest.mark.parametrize("bad", ["10.77.0.11", None, 5])
def test_ssh_source_option_wants_a_list(bad):
    with pytest.raises(InvalidInput, match="list of addresses"):
        net.ssh_source_option(bad)
