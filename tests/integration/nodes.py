# -*- coding: utf-8 -*-
"""Node files for libvirt's test driver: a node with domains in a known state (test:///<file>)."""

import uuid as _uuid

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"


def domain_xml(name, state=1, vcpus=1, memory_mib=256, meta=""):
    """A test-driver domain; state is a virDomainState number (1 running, 3 paused, 5 shutoff)."""
    uuid = str(_uuid.uuid5(_uuid.NAMESPACE_URL, "cloud1-test/" + name))
    return """
  <domain type='test' xmlns:test='{ns}'>
    <name>{name}</name>
    <uuid>{uuid}</uuid>
    <memory unit='MiB'>{mem}</memory>
    <vcpu>{vcpus}</vcpu>
    <os><type>hvm</type></os>
    <metadata>{meta}</metadata>
    <devices>
      <disk type='file' device='disk'>
        <driver name='qemu' type='qcow2'/>
        <source file='/var/lib/cloud1/images/{name}.qcow2'/>
        <target dev='vda' bus='virtio'/>
      </disk>
      <interface type='bridge'><mac address='52:54:00:00:00:{mac:02x}'/><source bridge='br0'/></interface>
    </devices>
    <test:runstate>{state}</test:runstate>
  </domain>""".format(ns=TEST_NS, name=name, mem=memory_mib, vcpus=vcpus, meta=meta, state=state,
                      mac=len(name) % 256, uuid=uuid)


def node_xml(*domains):
    return """<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads><active>4</active>
       <mhz>2000</mhz><model>x86_64</model></cpu>
  <memory>8388608</memory>
  {doms}
</node>
""".format(doms="".join(domains))


def write_node(tmp_path, *domains):
    path = tmp_path / "node.xml"
    path.write_text(node_xml(*domains))
    return "test://%s" % path
