# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import domain, rules
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

DOMAIN = """
<domain type='qemu'>
  <name>alice-web1</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <metadata>
    <other:thing xmlns:other="https://other.example/ns">ignored</other:thing>
    {meta}
  </metadata>
  <memory unit='GiB'>2</memory>
  <currentMemory unit='MiB'>1024</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <cpu mode='custom' match='exact'><model>qemu64</model><topology sockets='1' dies='1' cores='2' threads='2'/></cpu>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/cloud1/images/alice-web1.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>
    <interface type='bridge'>
      <mac address='52:54:00:12:34:56'/>
      <source bridge='br0'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
"""


def test_parse_domain_sizes_topology_devices():
    vm = domain.parse_domain(DOMAIN.format(meta=""))
    assert vm["name"] == "alice-web1"
    assert vm["type"] == "qemu"
    assert (vm["vcpus"], vm["max_vcpus"]) == (2, 4)
    assert vm["topology"] == {"sockets": 1, "dies": 1, "cores": 2, "threads": 2}
    assert (vm["memory_mib"], vm["max_memory_mib"]) == (1024, 2048)
    assert vm["cpu_mode"] == "custom"
    assert vm["disks"][0] == {"device": "disk", "type": "file", "format": "qcow2", "target": "vda",
                              "bus": "virtio", "source": "/var/lib/cloud1/images/alice-web1.qcow2"}
    assert vm["disks"][1]["device"] == "cdrom" and vm["disks"][1]["source"] is None
    assert vm["nics"] == [{"type": "bridge", "mac": "52:54:00:12:34:56", "source": "br0", "model": "virtio",
                           "filter": None, "filter_ip": []}]
    assert vm["metadata"] == {}


def test_metadata_round_trip_through_domain_xml():
    values = {"owner": "alice", "os": "debian", "io": "high", "ip": "10.77.0.100", "prefix": "24"}
    vm = domain.parse_domain(DOMAIN.format(meta=domain.metadata_xml(values)))
    assert vm["metadata"] == values


def test_metadata_xml_escapes_and_orders():
    xml = domain.metadata_xml({"ip": "10.0.0.5", "owner": "<bob & 'eve'>"})
    elem = ET.fromstring(xml)
    assert elem.tag == "{%s}vm" % domain.METADATA_NS
    assert [c.tag.split("}")[1] for c in elem] == ["owner", "ip"]
    assert elem[0].text == "<bob & 'eve'>"


def test_metadata_xml_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown metadata keys: colour"):
        domain.metadata_xml({"owner": "a", "colour": "blue"})


def test_metadata_skips_empty_values():
    elem = ET.fromstring(domain.metadata_xml({"owner": "a", "ip": "", "io": None}))
    assert len(elem) == 1


@pytest.mark.parametrize("value,unit,kib", [
    ("1024", "KiB", 1024), ("1", "MiB", 1024), ("2", "GiB", 2 * 1024 ** 2), ("1024", None, 1024),
    ("1048576", "b", 1024), ("1", "G", 1024 ** 2), ("1000", "KB", 976),
])
def test_to_kib(value, unit, kib):
    assert domain.to_kib(value, unit) == kib


def test_to_kib_unknown_unit():
    with pytest.raises(ValueError, match="unknown memory unit"):
        domain.to_kib("1", "furlongs")


def test_parse_domain_minimal_defaults():
    vm = domain.parse_domain("<domain type='test'><name>x</name><memory>2048</memory><vcpu>1</vcpu></domain>")
    assert (vm["vcpus"], vm["max_vcpus"], vm["memory_mib"], vm["max_memory_mib"]) == (1, 1, 2, 2)
    assert vm["topology"] is None and vm["disks"] == [] and vm["nics"] == []


def test_states_cover_libvirt_numbers():
    assert [rules.STATES[i] for i in range(8)] == [
        "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended"]


def test_metadata_plain_for_set_metadata():
    elem = ET.fromstring(domain.metadata_xml({"owner": "a"}, namespaced=False))
    assert elem.tag == "vm" and elem[0].tag == "owner"


CAPS = """<capabilities>
  <host><cpu><arch>x86_64</arch></cpu></host>
  <guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/><domain type='kvm'/></arch></guest>
  <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/>{kvm}</arch></guest>
  <guest><os_type>xen</os_type><arch name='x86_64'><domain type='xen'/></arch></guest>
</capabilities>"""


def test_capabilities_prefer_kvm_when_offered():
    caps = domain.parse_capabilities(CAPS.format(kvm="<domain type='kvm'/>"))
    assert caps == {"arch": "x86_64", "domain_type": "kvm",
                    "domain_types": {"i686": ["qemu", "kvm"], "x86_64": ["qemu", "kvm"]}}


def test_capabilities_fall_back_to_qemu_under_tcg():
    caps = domain.parse_capabilities(CAPS.format(kvm=""))
    assert caps["domain_type"] == "qemu" and caps["domain_types"]["x86_64"] == ["qemu"]


def test_capabilities_without_host_arch_guest():
    caps = domain.parse_capabilities("<capabilities><host><cpu><arch>aarch64</arch></cpu></host></capabilities>")
    assert caps["domain_type"] is None and caps["domain_types"] == {}


SPEC = {"name": "alice-web1", "domain_type": "qemu", "vcpus": 2, "max_vcpus": 4,
        "topology": {"sockets": 1, "cores": 2, "threads": 2}, "memory_mib": 1024, "max_memory_mib": 2048,
        "disk": "/var/lib/cloud1/images/alice-web1.qcow2", "bridge": "br0",
        "metadata": {"owner": "alice", "os": "debian", "io": "high", "ip": "10.77.0.100", "prefix": "24"}}


def test_build_then_parse_round_trip():
    vm = domain.parse_domain(domain.build_domain(SPEC))
    assert (vm["name"], vm["type"], vm["vcpus"], vm["max_vcpus"]) == ("alice-web1", "qemu", 2, 4)
    assert (vm["memory_mib"], vm["max_memory_mib"]) == (1024, 2048)
    assert vm["topology"] == {"sockets": 1, "dies": 1, "cores": 2, "threads": 2}
    assert vm["disks"][0]["source"] == SPEC["disk"] and vm["disks"][0]["format"] == "qcow2"
    assert vm["nics"][0]["source"] == "br0" and vm["nics"][0]["mac"] == domain.stable_mac("alice-web1")
    assert vm["metadata"] == SPEC["metadata"]
    assert vm["cpu_mode"] == "custom"


def test_build_has_video_agent_channel_and_tcg_safe_cpu():
    root = ET.fromstring(domain.build_domain(SPEC))
    assert root.find("devices/video/model").get("type") == "vga"
    assert root.find("devices/channel/target").get("name") == "org.qemu.guest_agent.0"
    assert root.find("cpu/model").text == "qemu64"
    kvm = ET.fromstring(domain.build_domain(dict(SPEC, domain_type="kvm")))
    assert kvm.find("cpu").get("mode") == "host-model" and kvm.get("type") == "kvm"


def test_tcg_guests_get_a_bounded_translation_cache():
    """Under TCG QEMU's own translation cache is 1 GiB per guest: the domain bounds it (make stress: 20 guests of
    256 MiB on one node were killed by its memory limit); kvm domains have none, and 0 leaves QEMU's default."""
    tcg = ET.fromstring(domain.build_domain(SPEC)).find("features/tcg/tb-cache")
    assert tcg is not None and tcg.get("unit") == "MiB" and int(tcg.text) == domain.TCG_TB_CACHE_MIB
    assert ET.fromstring(domain.build_domain(dict(SPEC, tcg_tb_cache_mib=128))).find("features/tcg/tb-cache").text == "128"
    assert ET.fromstring(domain.build_domain(dict(SPEC, domain_type="kvm"))).find("features/tcg") is None
    assert ET.fromstring(domain.build_domain(dict(SPEC, tcg_tb_cache_mib=0))).find("features/tcg") is None


def test_build_is_deterministic_so_reruns_change_nothing():
    assert domain.build_domain(SPEC) == domain.build_domain(dict(SPEC))
    assert domain.stable_mac("a") == domain.stable_mac("a") != domain.stable_mac("b")
    assert domain.stable_mac("a").startswith("52:54:00:")


@pytest.mark.parametrize("change,msg", [
    ({"vcpus": 0}, "vcpus must be at least 1"), ({"vcpus": 5}, "at most max_vcpus"),
    ({"memory_mib": 32}, "at least 64"), ({"memory_mib": 4096}, "at most max_memory_mib"),
    ({"topology": {"sockets": 2, "cores": 2, "threads": 2}}, "= 8 vCPUs, but the vCPU maximum is 4"),
])
def test_build_refuses_bad_sizes(change, msg):
    with pytest.raises((ValueError, InvalidInput), match=msg):
        domain.build_domain(dict(SPEC, **change))


def test_the_nic_filter_carries_the_leased_address():
    vm = domain.parse_domain(domain.build_domain(dict(SPEC, nic_filter="clean-traffic", nic_ip="10.77.0.100")))
    assert (vm["nics"][0]["filter"], vm["nics"][0]["filter_ip"]) == ("clean-traffic", ["10.77.0.100"])
    plain = domain.parse_domain(domain.build_domain(SPEC))
    assert (plain["nics"][0]["filter"], plain["nics"][0]["filter_ip"]) == (None, [])


def test_the_serial_console_is_kept_in_a_file_on_the_node():
    log = ET.fromstring(domain.build_domain(SPEC)).find("devices/serial/log")
    assert log.attrib == {"file": "/var/log/libvirt/qemu/alice-web1-serial.log", "append": "on"}
    other = ET.fromstring(domain.build_domain(dict(SPEC, serial_log="/srv/logs/w.log"))).find("devices/serial/log")
    assert other.get("file") == "/srv/logs/w.log"
    assert ET.fromstring(domain.build_domain(dict(SPEC, serial_log=""))).find("devices/serial/log") is None
