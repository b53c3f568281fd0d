# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput
from ansible_collections.cloud1.iaas.plugins.module_utils.core import vmspec
from ansible_collections.cloud1.iaas.plugins.module_utils.core.vmspec import validate

OK = dict(name="web1", owner="alice", vcpus="2", memory_mib=512, disk_gib=4, ip="10.77.0.120", prefix=24,
          gateway="10.77.0.1", dns=["10.77.0.1"], subnet="10.77.0.0/24", image="debian12.qcow2",
          image_dir="/srv/images", os="debian", io="high", hostname="web1.example")


def test_a_good_request_is_normalised():
    spec = validate(OK)
    assert spec["vcpus"] == 2 and spec["memory_mib"] == 512 and spec["disk_gib"] == 4
    assert spec["image"] == "/srv/images/debian12.qcow2"
    assert spec["address"] == {"ip": "10.77.0.120", "prefix": 24, "gateway": "10.77.0.1", "dns": ["10.77.0.1"]}
    assert spec["state"] == "running" and spec["clone"] == "linked"


def test_address_with_prefix_inline():
    assert validate(dict(name="a", ip="192.168.1.5/24"))["address"]["prefix"] == 24


def test_only_given_keys_are_checked():
    spec = validate({"name": "web1", "state": "stopped"})
    assert spec["vcpus"] is None and spec["image"] is None and spec["address"] is None


@pytest.mark.parametrize("change,message", [
    (dict(name=None), "a VM name is required"),
    (dict(name="a/b"), "VM name 'a/b' is not valid"),
    (dict(name="-web"), "is not valid"),
    (dict(name="web_1"), "is not valid"),
    (dict(name="x" * 64), "is not valid"),
    (dict(name="é"), "is not valid"),
    (dict(owner="1abc"), "owner '1abc' is not valid"),
    (dict(vcpus="two"), "vcpus must be a whole number, not 'two'"),
    (dict(vcpus=1.5), "vcpus must be a whole number"),
    (dict(vcpus=0), "vcpus must be between 1 and 256"),
    (dict(max_vcpus=1), "max_vcpus 1 is below vcpus 2"),
    (dict(memory_mib=64), "memory_mib must be between 128"),
    (dict(max_memory_mib=256), "max_memory_mib 256 is below memory_mib 512"),
    (dict(disk_gib=0), "disk_gib must be between 1"),
    (dict(ip="10.77.1.5"), "ip 10.77.1.5 is outside the subnet 10.77.0.0/24"),
    (dict(ip="fe80::1"), "is not an IPv4 address"),
    (dict(prefix=33), "prefix must be between 1 and 32"),
    (dict(gateway="10.77.0.120"), "gateway 10.77.0.120 is the VM's own address"),
    (dict(dns=["dns.example"]), "dns server 'dns.example' is not an IPv4 address"),
    (dict(hostname="bad_host"), "hostname 'bad_host' is not valid"),
    (dict(ssh_key="ssh-ed25519 AAAA\nroot"), "ssh_key is not one OpenSSH public key line"),
    (dict(image="a/../../b"), "must not contain '..'"),
    (dict(image="/etc/passwd"), "outside the image directory /srv/images"),
    (dict(image="x\x00y"), "control characters"),
    (dict(source_vm="web0"), "give either image or source_vm"),
    (dict(io="extreme"), "io must be one of low, medium, high"),
    (dict(network_config="ifcfg"), "is for RHEL-family guests"),
    (dict(os="rhel", network_config="networkd"), "is for Debian guests"),
    (dict(topology=dict(sockets=1, cores=1, threads=1)), "= 1 vCPUs, but the vCPU maximum is 2"),
])
def test_bad_requests_say_what_to_fix(change, message):
    with pytest.raises(InvalidInput) as err:
        validate(dict(OK, **change))
    assert message in err.value.message


def test_the_seeds_hyperthreading_topology():
    spec = validate(dict(OK, vcpus=8, topology=dict(sockets=1, cores=1, threads=8)))
    assert spec["topology"] == {"sockets": 1, "cores": 1, "threads": 8}


def test_a_new_vm_may_not_take_a_nodes_name():
    assert vmspec.check_not_a_node("web1", ["node0", "node1"]) == "web1"
    assert vmspec.check_not_a_node("node1", []) == "node1"
    with pytest.raises(InvalidInput, match="VM name 'node1' is the name of a node of the cluster"):
        vmspec.check_not_a_node("node1", ["node0", "node1"])
