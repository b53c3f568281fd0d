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
    (["10.77.0.11", "192.0.2.0/28", "2001:db8::1", "10.77.0.11"], 'from="10.77.0.11,192.0.2.0/28,2001:db8::1"'),
    ([" 10.77.0.12 "], 'from="10.77.0.12"'),
    (("2001:db8::/64",), 'from="2001:db8::/64"'),
    ([], ""),
])
def test_ssh_source_option(sources, option):
    assert net.ssh_source_option(sources) == option


@pytest.mark.parametrize("bad", ["10.77.0.11", None, 5])
def test_ssh_source_option_wants_a_list(bad):
    with pytest.raises(InvalidInput, match="list of addresses"):
        net.ssh_source_option(bad)


@pytest.mark.parametrize("source", ["node1", "node1.example.org", "10", "10.77.0.300", "", "10.77.0.0/33"])
def test_ssh_source_option_refuses_what_is_no_address(source):
    with pytest.raises(InvalidInput, match="is not an address or a network"):
        net.ssh_source_option(["10.77.0.11", source])


def test_ssh_source_option_refuses_an_address_with_a_prefix_and_says_both_fixes():
    with pytest.raises(InvalidInput) as err:
        net.ssh_source_option(["192.0.2.5/28"])
    assert "write 192.0.2.5 for that one address, or 192.0.2.0/28 for its network" in err.value.message


@pytest.mark.parametrize("text,expected", [
    ("10.77.0.11", True), ("2001:db8::1", True), (" 10.77.0.11 ", True),
    ("node1", False), ("node1.example.org", False), ("10.77.0.0/24", False), ("10", False), ("", False), (None, False),
])
def test_is_address(text, expected):
    assert net.is_address(text) is expected


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ root@node1"


@pytest.mark.parametrize("host,sources,line", [
    ("10.77.0.11", [], 'from="10.77.0.11" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ cloud1 cluster root@node1'),
    ("10.77.0.11", ["192.0.2.0/28"],
     'from="10.77.0.11,192.0.2.0/28" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ cloud1 cluster root@node1'),
    ("node1.example.org", ["10.0.0.7"], 'from="10.0.0.7" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ cloud1 cluster root@node1'),
    ("node1", [], "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ cloud1 cluster root@node1"),   # a name: no limit
    (None, None, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ cloud1 cluster root@node1"),    # limit turned off
])
def test_authorized_key_line(host, sources, line):
    assert net.authorized_key_line(KEY + "\n", "cloud1 cluster root@node1", host=host, sources=sources) == line


@pytest.mark.parametrize("key", ["", None, "AAAAC3NzaC1lZDI1NTE5AAAAIHQ", "ssh-ed25519",
                                 "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n"])
def test_authorized_key_line_wants_a_public_key_and_does_not_echo_it(key):
    with pytest.raises(InvalidInput, match="^root@node1: the text given is not an OpenSSH public key") as err:
        net.authorized_key_line(key, "root@node1", host="10.77.0.11")
    assert "b3Bl" not in err.value.message and "AAAAC3" not in err.value.message


@pytest.mark.parametrize("sources,why", [
    ("10.0.0.7", "list of addresses"),
    (["node1"], "'node1' is not an address or a network"),
    (["10.0.0.7/24"], "has host bits set"),
])
def test_authorized_key_line_names_the_key_with_bad_sources(sources, why):
    with pytest.raises(InvalidInput, match="^root@node1: .*" + why):
        net.authorized_key_line(KEY, "root@node1", host="10.77.0.11", sources=sources)
