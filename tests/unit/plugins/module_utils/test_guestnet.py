# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import configparser

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestnet import network_files
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.sysprep import OPERATIONS, sysprep_args

ADDR = {"ip": "10.77.0.120", "prefix": 24, "gateway": "10.77.0.1", "dns": ["10.77.0.1", "10.77.0.2"]}


def ini(text):
    parser = configparser.ConfigParser(strict=False)
    parser.read_string(text)
    return parser


def test_networkd_is_static_with_gateway_and_dns():
    (path, text, mode), (rpath, rtext, rmode) = network_files("networkd", ADDR)
    cfg = ini(text)
    assert path == "/etc/systemd/network/10-eth0.network" and mode == "0644"
    assert cfg["Match"]["Name"] == "eth0"
    assert cfg["Network"]["DHCP"] == "no" and cfg["Network"]["Address"] == "10.77.0.120/24"
    assert cfg["Network"]["Gateway"] == "10.77.0.1"
    assert rpath == "/etc/resolv.conf" and rmode == "0644" and rtext == "nameserver 10.77.0.1\nnameserver 10.77.0.2\n"


def test_ifupdown_stanza():
    files = network_files("ifupdown", ADDR)
    path, text = files[0][:2]
    assert path == "/etc/network/interfaces.d/eth0"
    assert text.splitlines() == ["auto eth0", "iface eth0 inet static", "    address 10.77.0.120/24",
                                 "    gateway 10.77.0.1", "    dns-nameservers 10.77.0.1 10.77.0.2"]


def test_ifcfg_has_no_dhcp_and_no_hwaddr():
    [(path, text, mode)] = network_files("ifcfg", ADDR)
    kv = dict(line.split("=", 1) for line in text.splitlines())
    assert mode == "0644"
    assert path == "/etc/sysconfig/network-scripts/ifcfg-eth0"
    assert kv["BOOTPROTO"] == "none" and kv["IPADDR"] == "10.77.0.120" and kv["PREFIX"] == "24"
    assert kv["DNS1"] == "10.77.0.1" and kv["DNS2"] == "10.77.0.2" and "HWADDR" not in kv


def test_nm_keyfile_is_private_and_manual():
    [(path, text, mode)] = network_files("nmkeyfile", ADDR)
    cfg = ini(text)
    assert path.endswith("/eth0.nmconnection") and mode == "0600"
    assert cfg["ipv4"]["method"] == "manual" and cfg["ipv4"]["address1"] == "10.77.0.120/24,10.77.0.1"
    assert cfg["ipv4"]["dns"] == "10.77.0.1;10.77.0.2;"


def test_without_gateway_or_dns():
    [(path, text, mode)] = network_files("networkd", {"ip": "10.0.0.5", "prefix": 8})
    assert path.endswith("10-eth0.network") and mode == "0644"
    assert "Gateway" not in text and "DNS" not in text


def test_unknown_flavour():
    with pytest.raises(InvalidInput, match="unknown network configuration 'netplan'"):
        network_files("netplan", ADDR)


def test_sysprep_runs_only_the_clone_operations_and_customizes_last():
    args, staged = sysprep_args("/d/web1.qcow2", hostname="web1", ssh_key="ssh-ed25519 AAAA x", address=ADDR,
                                grow_root=True, staging="/tmp/s")
    assert args[:5] == ["virt-sysprep", "--quiet", "--format", "qcow2", "-a"]
    ops = args[args.index("--operations") + 1].split(",")
    assert ops == list(OPERATIONS) and "user-account" not in ops and ops[-1] == "customize"
    assert args[args.index("--hostname") + 1] == "web1"
    assert args[args.index("--ssh-inject") + 1] == "root:string:ssh-ed25519 AAAA x"
    assert "/tmp/s/file0:/etc/systemd/network/10-eth0.network" in args
    assert "0644:/etc/systemd/network/10-eth0.network" in args
    assert args[args.index("--firstboot") + 1] == "/tmp/s/grow-root.sh"
    assert set(staged) == {"file0", "file1", "grow-root.sh"}
    assert "growpart" in staged["grow-root.sh"] and "lvextend -r" in staged["grow-root.sh"]


def test_sysprep_without_injection_has_no_customize_options():
    args, staged = sysprep_args("/d/x.qcow2")
    assert "--hostname" not in args and "--upload" not in args and staged == {}
