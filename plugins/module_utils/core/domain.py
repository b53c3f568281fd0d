# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The domain model: a VM's specification <-> libvirt domain XML, and the tenant metadata.

Pure Python (ElementTree only): no libvirt or Ansible import, so it is unit-tested in isolation and
shared by modules, the inventory plugin and the decision core.

Tenant data (owner, os family, io class, static IP) lives in the domain's ``<metadata>`` under the
collection's own namespace: libvirt is the single source of truth for who owns what.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.cloud1.iaas.plugins.module_utils.core import rules

METADATA_NS = "https://cloud1.example/iaas/vm/1"
METADATA_PREFIX = "cloud1"
METADATA_KEYS = ("owner", "os", "io", "ip", "prefix", "gateway", "hostname", "image", "created", "hostkeys")


_UNITS_KIB = {
    "b": 1.0 / 1024, "bytes": 1.0 / 1024,
    "kb": 1000.0 / 1024, "k": 1, "kib": 1,
    "mb": 1000.0 ** 2 / 1024, "m": 1024, "mib": 1024,
    "gb": 1000.0 ** 3 / 1024, "g": 1024 ** 2, "gib": 1024 ** 2,
    "tb": 1000.0 ** 4 / 1024, "t": 1024 ** 3, "tib": 1024 ** 3,
}


def to_kib(value, unit="KiB"):
    """A libvirt memory figure with its unit attribute, in KiB (libvirt's default unit)."""
    factor = _UNITS_KIB.get((unit or "KiB").lower())
    if factor is None:
        raise ValueError("unknown memory unit %r" % unit)
    return int(int(value) * factor)


def _int(text, default=0):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def read_metadata(root):
    """The collection's metadata of a parsed <domain> element, as a dict of strings ({} when absent)."""
    meta = root.find("metadata/{%s}vm" % METADATA_NS)
    if meta is None:
        return {}
    out = {}
    for child in meta:
        tag = child.tag.split("}", 1)[-1]
        out[tag] = (child.text or "").strip()
    return out


def metadata_xml(values, namespaced=True):
    """The collection's <vm> metadata element, keys in a fixed order.

    ``namespaced=True`` gives ``<cloud1:vm xmlns:cloud1=...>`` for a domain's <metadata> block;
    ``False`` gives a plain ``<vm>`` for libvirt's setMetadata, which applies the namespace itself.
    """
    unknown = set(values) - set(METADATA_KEYS)
    if unknown:
        raise ValueError("unknown metadata keys: %s" % ", ".join(sorted(unknown)))
    ns = "{%s}" % METADATA_NS if namespaced else ""
    elem = ET.Element(ns + "vm")
    for key in METADATA_KEYS:
        if values.get(key) not in (None, ""):
            ET.SubElement(elem, ns + key).text = str(values[key])
    if namespaced:
        ET.register_namespace(METADATA_PREFIX, METADATA_NS)
    return ET.tostring(elem, encoding="unicode")


def parse_domain(xml_text):
    """Parse libvirt domain XML into a plain dict (the fields vm_info reports)."""
    root = ET.fromstring(xml_text)
    vcpu = root.find("vcpu")
    max_vcpus = _int(vcpu.text if vcpu is not None else None, 1)
    cur_vcpus = _int(vcpu.get("current") if vcpu is not None else None, max_vcpus)
    topo = root.find("cpu/topology")
    topology = None
    if topo is not None:
        topology = {k: _int(topo.get(k), 1) for k in ("sockets", "dies", "cores", "threads") if topo.get(k)}
    mem = root.find("memory")
    cur = root.find("currentMemory")
    max_kib = to_kib(mem.text, mem.get("unit")) if mem is not None else 0
    cur_kib = to_kib(cur.text, cur.get("unit")) if cur is not None else max_kib
    disks = []
    for d in root.findall("devices/disk"):
        src = d.find("source")
        drv = d.find("driver")
        tgt = d.find("target")
        source = None
        if src is not None:
            source = src.get("file") or src.get("dev") or src.get("name") or src.get("volume")
        disks.append({
            "device": d.get("device", "disk"),
            "type": d.get("type"),
            "source": source,
            "format": drv.get("type") if drv is not None else None,
            "target": tgt.get("dev") if tgt is not None else None,
            "bus": tgt.get("bus") if tgt is not None else None,
        })
    nics = []
    for n in root.findall("devices/interface"):
        src = n.find("source")
        mac = n.find("mac")
        model = n.find("model")
        ref = n.find("filterref")
        nics.append({
            "type": n.get("type"),
            "mac": mac.get("address") if mac is not None else None,
            "source": (src.get("bridge") or src.get("network") or src.get("dev")) if src is not None else None,
            "model": model.get("type") if model is not None else None,
            "filter": ref.get("filter") if ref is not None else None,
            "filter_ip": [p.get("value") for p in ref.findall("parameter") if p.get("name") == "IP"]
            if ref is not None else [],
        })
    cpu = root.find("cpu")
    serial_log = root.find("devices/serial/log")
    return {
        "name": root.findtext("name"),
        "uuid": root.findtext("uuid"),
        "type": root.get("type"),
        "vcpus": cur_vcpus,
        "max_vcpus": max_vcpus,
        "topology": topology,
        "cpu_mode": cpu.get("mode") if cpu is not None else None,
        "memory_mib": cur_kib // 1024,
        "max_memory_mib": max_kib // 1024,
        "disks": disks,
        "nics": nics,
        "metadata": read_metadata(root),
        # where the serial console is kept (virtlogd writes it on the node), None when it is not
        "serial_log": serial_log.get("file") if serial_log is not None else None,
    }


def parse_capabilities(xml_text):
    """Domain types per guest architecture from libvirt's capabilities XML, and the one to use.

    ``kvm`` when the node offers it (hardware virtualization), else ``qemu`` (software emulation, TCG).
    """
    root = ET.fromstring(xml_text)
    types = {}
    for guest in root.findall("guest"):
        if guest.findtext("os_type") != "hvm":
            continue
        arch = guest.find("arch")
        if arch is None:
            continue
        names = types.setdefault(arch.get("name"), [])
        for dom in arch.findall("domain"):
            if dom.get("type") not in names:
                names.append(dom.get("type"))
    host_arch = root.findtext("host/cpu/arch")
    offered = types.get(host_arch, [])
    preferred = "kvm" if "kvm" in offered else (offered[0] if offered else None)
    return {"arch": host_arch, "domain_types": types, "domain_type": preferred}


# ------------------------------------------------------------------------------------- building XML

def stable_mac(name, salt=""):
    """A locally administered MAC in QEMU's 52:54:00 range, derived from the VM's name: the same VM gets
    the same MAC on every run (no new MAC, no new DHCP/ARP identity on a re-run)."""
    import hashlib
    digest = hashlib.sha256(("cloud1/%s/%s" % (name, salt)).encode()).digest()
    return "52:54:00:%02x:%02x:%02x" % (digest[0], digest[1], digest[2])


SERIAL_LOG_DIR = "/var/log/libvirt/qemu"   # next to libvirt's own log of each QEMU, present on every node


def serial_log_path(name):
    """Where a VM's serial console is kept on the node that runs it."""
    return "%s/%s-serial.log" % (SERIAL_LOG_DIR, name)


# QEMU's translation cache under TCG (software emulation): its own default is 1 GiB per guest, so a 256 MiB guest's
# QEMU process grew to about 770 MiB and 20 of them on one node were killed by the node's memory limit (make stress);
# 256 MiB holds what a server guest runs. 0 in a spec leaves QEMU's default.
TCG_TB_CACHE_MIB = 256


def build_domain(spec):
    """Domain XML from a VM spec (a dict). Keys:

    name, domain_type (kvm|qemu), vcpus, max_vcpus, topology {sockets, cores, threads}, memory_mib,
    max_memory_mib, disk (path), disk_format, bridge, mac, cpu_model (None: host-model under kvm,
    qemu64 under TCG, which refuses host-passthrough), metadata {owner, os, io, ip, ...}, oem_strings (SMBIOS
    type 11 strings the guest reads: the first-boot settings of guestprep.smbios_strings), serial_log (the
    file on the node that keeps what the guest writes to its serial console, appended across boots, so a guest
    that crashed or never answered can be diagnosed; default SERIAL_LOG_DIR/<name>-serial.log, "" for none),
    tcg_tb_cache_mib (domain_type qemu: QEMU's translation cache, default TCG_TB_CACHE_MIB; 0: QEMU's own).
    The machine always has a VGA device: SeaBIOS under TCG hangs before the boot loader without one.
    """
    name = spec["name"]
    dtype = spec.get("domain_type", "kvm")
    vcpus = int(spec["vcpus"])
    max_vcpus = int(spec.get("max_vcpus") or vcpus)
    mem = int(spec["memory_mib"])
    max_mem = int(spec.get("max_memory_mib") or mem)
    if vcpus < 1 or max_vcpus < vcpus:
        raise ValueError("vcpus must be at least 1 and at most max_vcpus (%d, %d)" % (vcpus, max_vcpus))
    if mem < 64 or max_mem < mem:
        raise ValueError("memory_mib must be at least 64 and at most max_memory_mib (%d, %d)" % (mem, max_mem))
    root = ET.Element("domain", type=dtype)
    ET.SubElement(root, "name").text = name
    if spec.get("uuid"):
        ET.SubElement(root, "uuid").text = spec["uuid"]
    if spec.get("metadata"):
        md = ET.SubElement(root, "metadata")
        md.append(ET.fromstring(metadata_xml(spec["metadata"])))
    ET.SubElement(root, "memory", unit="MiB").text = str(max_mem)
    ET.SubElement(root, "currentMemory", unit="MiB").text = str(mem)
    ET.SubElement(root, "vcpu", placement="static", current=str(vcpus)).text = str(max_vcpus)
    if spec.get("oem_strings"):
        oem = ET.SubElement(ET.SubElement(root, "sysinfo", type="smbios"), "oemStrings")
        for entry in spec["oem_strings"]:
            ET.SubElement(oem, "entry").text = entry
    os_el = ET.SubElement(root, "os")
    ET.SubElement(os_el, "type", arch=spec.get("arch", "x86_64"), machine=spec.get("machine", "pc")).text = "hvm"
    ET.SubElement(os_el, "boot", dev="hd")
    if spec.get("oem_strings"):
        ET.SubElement(os_el, "smbios", mode="sysinfo")
    feats = ET.SubElement(root, "features")
    ET.SubElement(feats, "acpi")
    ET.SubElement(feats, "apic")
    tb_cache = spec.get("tcg_tb_cache_mib", TCG_TB_CACHE_MIB)
    if dtype == "qemu" and tb_cache:
        ET.SubElement(ET.SubElement(feats, "tcg"), "tb-cache", unit="MiB").text = str(int(tb_cache))
    model = spec.get("cpu_model")
    if model is None and dtype == "kvm":
        cpu = ET.SubElement(root, "cpu", mode="host-model")
    else:
        cpu = ET.SubElement(root, "cpu", mode="custom", match="exact")
        ET.SubElement(cpu, "model", fallback="allow").text = model or "qemu64"
    topo = rules.topology(spec.get("topology"), max_vcpus)
    if topo:
        ET.SubElement(cpu, "topology", sockets=str(topo["sockets"]), dies="1", cores=str(topo["cores"]),
                      threads=str(topo["threads"]))
    ET.SubElement(root, "clock", offset="utc")
    for event, action in (("on_poweroff", "destroy"), ("on_reboot", "restart"), ("on_crash", "destroy")):
        ET.SubElement(root, event).text = action
    dev = ET.SubElement(root, "devices")
    disk = ET.SubElement(dev, "disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type=spec.get("disk_format", "qcow2"), discard="unmap")
    ET.SubElement(disk, "source", file=spec["disk"])
    ET.SubElement(disk, "target", dev="vda", bus="virtio")
    nic = ET.SubElement(dev, "interface", type="bridge")
    ET.SubElement(nic, "mac", address=spec.get("mac") or stable_mac(name))
    ET.SubElement(nic, "source", bridge=spec.get("bridge", "br0"))
    ET.SubElement(nic, "model", type="virtio")
    if spec.get("nic_filter"):   # guests are untrusted neighbours: no IP, MAC or ARP spoofing from the leased address
        ref = ET.SubElement(nic, "filterref", filter=spec["nic_filter"])
        if spec.get("nic_ip"):
            ET.SubElement(ref, "parameter", name="IP", value=spec["nic_ip"])
    serial = ET.SubElement(dev, "serial", type="pty")
    ET.SubElement(serial, "target", port="0")
    log = serial_log_path(name) if spec.get("serial_log") is None else spec["serial_log"]
    if log:   # written by libvirt's virtlogd on the node (rotated by it), never by the guest
        ET.SubElement(serial, "log", file=log, append="on")
    console = ET.SubElement(dev, "console", type="pty")
    ET.SubElement(console, "target", type="serial", port="0")
    chan = ET.SubElement(dev, "channel", type="unix")
    ET.SubElement(chan, "target", type="virtio", name="org.qemu.guest_agent.0")
    video = ET.SubElement(dev, "video")
    ET.SubElement(video, "model", type="vga")
    rng = ET.SubElement(dev, "rng", model="virtio")
    ET.SubElement(rng, "backend", model="random").text = "/dev/urandom"
    balloon = ET.SubElement(dev, "memballoon", model="virtio")
    # the guest reports its free memory every 10 s (the collector's memory figure)
    ET.SubElement(balloon, "stats", period="10")
    ET.register_namespace(METADATA_PREFIX, METADATA_NS)
    return ET.tostring(root, encoding="unicode")


def resize_config(xml_text, vcpus=None, max_vcpus=None, topology=None, memory_mib=None, max_memory_mib=None):
    """The domain XML with new vCPU count/maximum/topology and memory/maximum (None: keep). This is the
    persistent definition a running domain uses at its next boot; the caller checks the combination."""
    root = ET.fromstring(xml_text)
    vcpu = root.find("vcpu")
    if vcpu is None:
        vcpu = ET.SubElement(root, "vcpu", placement="static")
        vcpu.text = "1"
    cur_max = _int(vcpu.text, 1)
    new_max = int(max_vcpus or cur_max)
    new_cur = int(vcpus or min(_int(vcpu.get("current"), cur_max), new_max))
    if not 1 <= new_cur <= new_max:
        raise ValueError("vcpus %d must be between 1 and the maximum %d" % (new_cur, new_max))
    vcpu.text = str(new_max)
    vcpu.set("current", str(new_cur))
    topology = rules.topology(topology)
    if topology:
        cpu = root.find("cpu")
        if cpu is None:
            cpu = ET.SubElement(root, "cpu")
        topo = cpu.find("topology")
        if topo is None:
            topo = ET.SubElement(cpu, "topology")
        for key in rules.TOPOLOGY_KEYS:
            topo.set(key, str(topology[key]))
        topo.set("dies", "1")
    topo = root.find("cpu/topology")
    if topo is not None:   # the definition's topology (new or kept) must describe the new maximum
        rules.topology({key: _int(topo.get(key), 1) for key in rules.TOPOLOGY_KEYS}, new_max)
    mem, cur = root.find("memory"), root.find("currentMemory")
    max_kib = to_kib(mem.text, mem.get("unit")) if mem is not None else 0
    cur_kib = to_kib(cur.text, cur.get("unit")) if cur is not None else max_kib
    if max_memory_mib:
        max_kib = int(max_memory_mib) * 1024
    if memory_mib:
        cur_kib = int(memory_mib) * 1024
    cur_kib = min(cur_kib, max_kib)
    for tag, kib in (("memory", max_kib), ("currentMemory", cur_kib)):
        elem = root.find(tag)
        if elem is None:
            elem = ET.SubElement(root, tag)
        elem.text = str(kib)
        elem.set("unit", "KiB")
    ET.register_namespace(METADATA_PREFIX, METADATA_NS)
    return ET.tostring(root, encoding="unicode")
