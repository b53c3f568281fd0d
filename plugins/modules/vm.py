#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm
short_description: A VM on a node, declaratively (create, start, stop, pause, reboot, delete)
version_added: 0.1.0
description:
  - Makes one libvirt domain match the request. A VM that does not exist is created from a base image
    (O(image)) or from a stopped VM's disk (O(source_vm)); one that exists is brought to O(state).
  - "Creation: a disk in O(disk_dir) as a libvirt storage volume, a linked clone (qcow2 whose backing file is
    the base image, the default) or a full copy (O(clone=full)); then virt-sysprep, before the first boot,
    resets what a clone must not share and writes the hostname, root's SSH key and the static address;
    then the domain is defined with the tenant metadata (owner, os, io class, address) in its
    C(<metadata>), so libvirt is the registry. A step that fails removes what this run created."
  - "virt-sysprep runs only these operations: machine-id (fresh identity), ssh-hostkeys (own host keys),
    net-hwaddr (RHEL ifcfg MAC pins), udev-persistent-net (NIC stays eth0), dhcp-client-state, logfiles,
    tmp-files, and customize (hostname, key, network files). The others are for images handed to
    strangers and only cost time. The address is static: Debian guests get a systemd-networkd file (or
    ifupdown), RHEL guests an NetworkManager keyfile (mode 0600) or an ifcfg file; there is no DHCP fallback."
  - When O(disk_gib) is larger than the base image, the guest grows the partition holding its root
    volume, the LVM physical volume and the root logical volume with its filesystem at first boot.
  - "On an existing VM: O(owner), O(io) and O(os) update the metadata; O(vcpus), O(max_vcpus), O(memory_mib)
    and O(max_memory_mib) change the persistent configuration (effective at the next boot; M(cloud1.iaas.vm_scale)
    changes them live). O(image), O(clone), O(disk_gib) and the address are used only at creation;
    asking an existing VM for another address fails."
  - Run it on the node (C(delegate_to)) with the default O(uri) when a VM is created, so virt-sysprep can
    reach the new disk; the other operations work over any libvirt URI.
  - The MAC address is derived from the VM's name and the UUID is kept, so a second run changes nothing.
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - cloud1.iaas.connection
  - cloud1.iaas.vm.topology
options:
  name:
    description: The VM's name; letters, digits and C(-), at most 63 (it names the disk file and is the default hostname).
    type: str
    required: true
  state:
    description:
      - V(present) defined (created if missing, not started); V(running) started (resumed when paused);
        V(stopped) shut down through ACPI, waiting up to O(shutdown_timeout) for the guest to power off
        (with O(force=true) powered off at once, the seed's destroy); V(paused) suspended;
        V(restarted) rebooted through ACPI (started when off); V(absent) powered off, undefined and its
        disks deleted.
    type: str
    choices: [present, running, stopped, paused, restarted, absent]
    default: running
  image:
    description: The base image, a file name relative to O(image_dir) or an absolute path inside it. Needed to create a VM.
    type: str
  image_dir:
    description: Where base images live; O(image) may not point outside it (also through symbolic links).
    type: path
    default: /var/lib/cloud1/images/base
  source_vm:
    description: Create the VM from the current disk of this stopped VM instead of from O(image) (the seed's clone).
    type: str
  clone:
    description: V(linked) makes a qcow2 with the base as backing file (fast, small); V(full) copies the base.
    type: str
    choices: [linked, full]
    default: linked
  disk_dir:
    description: Where VM disks are created (C(<disk_dir>/<name>.qcow2)); the shared image storage in production.
    type: path
    default: /var/lib/cloud1/images
  disk_gib:
    description: Disk size in GiB; at least the base image's size (default that size).
    type: int
  vcpus:
    description: vCPUs (default 1 at creation).
    type: int
  max_vcpus:
    description: The most vCPUs the VM can be given while it runs (default O(vcpus)).
    type: int
  memory_mib:
    description: Memory in MiB (default 512 at creation).
    type: int
  max_memory_mib:
    description: The most memory in MiB the VM can be given while it runs (default O(memory_mib)).
    type: int
  bridge:
    description: The node's bridge the VM's NIC is attached to.
    type: str
    default: br0
  ip:
    description: Static IPv4 address (optionally with C(/prefix)); lease it with M(cloud1.iaas.ip_lease) first.
    type: str
  prefix:
    description: Prefix length of O(ip).
    type: int
  gateway:
    description: Default gateway; must lie in the VM's subnet.
    type: str
  dns:
    description: DNS servers.
    type: list
    elements: str
  hostname:
    description: Hostname written into the guest before first boot.
    type: str
  ssh_key:
    description: An OpenSSH public key line for root.
    type: str
  owner:
    description: The tenant who owns the VM (stored in the domain's metadata).
    type: str
  io:
    description: The seed's io class.
    type: str
    choices: [low, medium, high]
  os:
    description: Guest OS family (default debian at creation).
    type: str
    choices: [debian, rhel]
  network_config:
    description: How the static address is written (default networkd for debian, nmkeyfile for rhel).
    type: str
    choices: [networkd, ifupdown, ifcfg, nmkeyfile]
  domain_type:
    description: V(kvm), V(qemu) (software emulation), or V(auto) (kvm when the node offers it).
    type: str
    choices: [auto, kvm, qemu, test]
    default: auto
  shutdown_timeout:
    description: Seconds O(state=stopped) waits for the guest to power off before failing with what it saw.
    type: int
    default: 120
  force:
    description: With O(state=stopped), power off at once instead of asking the guest.
    type: bool
    default: false
  keep_disks:
    description: With O(state=absent), keep the VM's disks.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Validates the request, looks up the base image and the existing VM, and reports the actions it would take.
  diff_mode:
    support: full
    description: The VM's state, sizes, disks, MAC and metadata before and after.
seealso:
  - module: cloud1.iaas.vm_info
  - module: cloud1.iaas.ip_lease
"""

EXAMPLES = r"""
- name: alice-web1 on node1, a linked clone of the Debian image with a static address
  cloud1.iaas.vm:
    name: alice-web1
    image: debian12.qcow2
    vcpus: 2
    memory_mib: 1024
    ip: 192.168.1.100
    prefix: 24
    gateway: 192.168.1.1
    hostname: alice-web1
    ssh_key: "{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"
    owner: alice
    io: medium
  delegate_to: node1

- name: Shut it down (waits until it is off)
  cloud1.iaas.vm:
    name: alice-web1
    state: stopped
  delegate_to: node1

- name: Delete it with its disk
  cloud1.iaas.vm:
    name: alice-web1
    state: absent
  delegate_to: node1
"""

RETURN = r"""
name:
  description: The VM's name.
  returned: always
  type: str
node:
  description: The host name of the node.
  returned: always
  type: str
uri:
  description: The libvirt URI used.
  returned: always
  type: str
state:
  description: The VM's state afterwards (V(absent) when deleted).
  returned: always
  type: str
  sample: running
ip:
  description: The VM's static address from its metadata.
  returned: always
  type: str
  sample: 192.168.1.100
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
vm:
  description: State, vCPUs, memory, disks, MAC and metadata afterwards.
  returned: always
  type: dict
kept_disks:
  description: With O(state=absent), disks left in place (O(keep_disks), or outside O(disk_dir)).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    module = AnsibleModule(argument_spec=executor.ARGUMENT_SPEC, supports_check_mode=True)
    run(module, executor.ensure, module.params, check_mode=module.check_mode)


if __name__ == "__main__":
    main()
