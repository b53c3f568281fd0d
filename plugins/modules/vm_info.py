#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_info
short_description: List the virtual machines of a libvirt node
version_added: 0.1.0
description:
  - Lists the domains defined or running on one node with their state, vCPUs, memory, disks and NICs.
  - Reports the tenant metadata the collection keeps in each domain's C(<metadata>) (owner, OS family,
    I/O class, static IP), so libvirt itself answers who owns which VM.
  - Run it once per node (for example over the C(hypervisors) group) to see the whole cluster.
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - cloud1.iaas.connection
options:
  name:
    description:
      - Only the domain of this name. An unknown name gives an empty O(ignore:vms) list, not an error.
    type: str
  owner:
    description:
      - Only the domains whose metadata names this owner.
    type: str
attributes:
  check_mode:
    support: full
    description: Read-only; check mode runs it as usual.
notes:
  - Disk sizes come from libvirt's block info; a driver that has none reports V(null).
"""

EXAMPLES = r"""
- name: Every VM on this node
  cloud1.iaas.vm_info:
  register: node_vms

- name: Alice's VMs on node1, asked from the controller
  cloud1.iaas.vm_info:
    uri: qemu+ssh://root@node1/system
    owner: alice
  delegate_to: localhost

- name: Print name, state and IP
  ansible.builtin.debug:
    msg: "{{ node_vms.vms | map(attribute='name') | list }}"
"""

RETURN = r"""
node:
  description: Host name of the node as libvirt reports it.
  returned: always
  type: str
  sample: node1
uri:
  description: The connection URI used.
  returned: always
  type: str
  sample: qemu:///system
vms:
  description: The domains, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Domain name.
      type: str
      sample: alice-web1
    uuid:
      description: Domain UUID.
      type: str
    node:
      description: The node the domain is on.
      type: str
    state:
      description: One of running, blocked, paused, shutdown, shutoff, crashed, pmsuspended, nostate.
      type: str
      sample: running
    persistent:
      description: Whether the domain is defined (survives shutdown).
      type: bool
    autostart:
      description: Whether libvirt starts the domain with the node.
      type: bool
    type:
      description: Domain type (V(kvm) in production, V(qemu) under software emulation).
      type: str
    vcpus:
      description: Current vCPU count.
      type: int
    max_vcpus:
      description: Maximum vCPU count (the ceiling for live changes).
      type: int
    topology:
      description: CPU topology (sockets, dies, cores, threads) when the domain sets one.
      type: dict
    cpu_mode:
      description: CPU mode (host-model, custom, host-passthrough) when set.
      type: str
    memory_mib:
      description: Current memory in MiB.
      type: int
    max_memory_mib:
      description: Maximum memory in MiB (the ceiling for live changes).
      type: int
    disks:
      description: Disks and CD-ROMs with source path, format, target, bus, capacity and allocation (bytes).
      type: list
      elements: dict
    nics:
      description: Network interfaces with type, MAC, source bridge or network, and model.
      type: list
      elements: dict
    metadata:
      description: The collection's tenant metadata (owner, os, io, ip, prefix, gateway, image, created); empty when absent.
      type: dict
      sample: {owner: alice, os: debian, io: medium, ip: 10.77.0.100}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_info as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    module = AnsibleModule(argument_spec=executor.ARGUMENT_SPEC, supports_check_mode=True)
    run(module, executor.ensure, module.params, check_mode=module.check_mode)


if __name__ == "__main__":
    main()
