#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: node_info
short_description: Facts of a libvirt node (hypervisor, domain type, CPUs, memory)
version_added: 0.1.0
description:
  - Reports what a hypervisor node offers, as libvirt sees it.
  - O(ignore:domain_type) is the domain type to create guests with on this node, V(kvm) where hardware
    virtualization is offered and V(qemu) (software emulation) otherwise.
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - cloud1.iaas.connection
options:
  disk_dir:
    description: Where VM disks go on this node; its free space is reported as RV(disk_free_gib).
    type: path
attributes:
  check_mode:
    support: full
    description: Read-only; check mode runs it as usual.
"""

EXAMPLES = r"""
- name: What does this node offer
  cloud1.iaas.node_info:
  register: node

- name: Refuse a node without hardware virtualization in production
  ansible.builtin.assert:
    that: node.domain_type == 'kvm'
"""

RETURN = r"""
hostname:
  description: Host name as libvirt reports it.
  returned: always
  type: str
uri:
  description: The connection URI used.
  returned: always
  type: str
hypervisor:
  description: libvirt driver type, for example V(QEMU).
  returned: always
  type: str
libvirt_version:
  description: Version of the libvirt daemon's library.
  returned: always
  type: str
  sample: 9.0.0
hypervisor_version:
  description: Version of the hypervisor (QEMU).
  returned: always
  type: str
arch:
  description: Host CPU architecture.
  returned: always
  type: str
  sample: x86_64
domain_types:
  description: Domain types offered per guest architecture.
  returned: always
  type: dict
  sample: {x86_64: [qemu, kvm], i686: [qemu, kvm]}
domain_type:
  description: The domain type to use on this node (kvm when offered, else the first offered).
  returned: always
  type: str
  sample: kvm
cpu_model:
  description: Host CPU model as libvirt reports it.
  returned: always
  type: str
cpus:
  description: Number of host CPUs.
  returned: always
  type: int
mhz:
  description: CPU frequency.
  returned: always
  type: int
memory_mib:
  description: Host memory in MiB.
  returned: always
  type: int
free_memory_mib:
  description: Free host memory in MiB.
  returned: always
  type: int
domains_active:
  description: Running or paused domains.
  returned: always
  type: int
domains_inactive:
  description: Defined domains that are not running.
  returned: always
  type: int
vcpus_allocated:
  description: Sum of the maximum vCPUs of the node's domains (what placement counts against the node).
  returned: always
  type: int
memory_allocated_mib:
  description: Sum of the maximum memory of the node's domains, in MiB.
  returned: always
  type: int
disk_free_gib:
  description: Free space in O(disk_dir) in GiB; null when O(disk_dir) is not given or not found.
  returned: always
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import node_info as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    module = AnsibleModule(argument_spec=executor.ARGUMENT_SPEC, supports_check_mode=True)
    run(module, executor.ensure, module.params, check_mode=module.check_mode)


if __name__ == "__main__":
    main()
