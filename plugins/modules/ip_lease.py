#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ip_lease
short_description: Lease or release a VM's static IP address
version_added: 0.1.0
description:
  - Takes the first free address of the pool (or the one asked for) for a VM, or gives it back.
  - The lease is written in one SQLite transaction on the master, so concurrent runs never get the same
    address. Asking again for the same VM returns its existing lease and changes nothing.
  - Run it on the master (where the database lives).
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - cloud1.iaas.ip_pool
options:
  vm:
    description: The VM the lease is for.
    type: str
    required: true
  owner:
    description: The VM's owner, recorded with the lease.
    type: str
  address:
    description:
      - A specific address instead of the first free one. It must lie in the subnet and the range and must
        not be the network, broadcast, gateway, an excluded, in-use or leased address.
    type: str
  state:
    description: V(present) leases, V(absent) releases.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Reports the address that would be leased or released; writes nothing.
  diff_mode:
    support: full
    description: Shows the lease before and after.
"""

EXAMPLES = r"""
- name: An address for alice-web1
  cloud1.iaas.ip_lease:
    subnet: 192.168.1.0/24
    range_start: 192.168.1.100
    gateway: 192.168.1.1
    exclude: [192.168.1.10, 192.168.1.20, 192.168.1.30]
    vm: alice-web1
    owner: alice
  register: lease

- name: Give it back when the VM is deleted
  cloud1.iaas.ip_lease:
    subnet: 192.168.1.0/24
    vm: alice-web1
    state: absent
"""

RETURN = r"""
ip:
  description: The leased (or released) address; null when absent found no lease.
  returned: always
  type: str
  sample: 192.168.1.100
subnet:
  description: The subnet, normalised.
  returned: always
  type: str
  sample: 192.168.1.0/24
prefix:
  description: The subnet's prefix length.
  returned: always
  type: int
  sample: 24
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import ip_lease as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    module = AnsibleModule(argument_spec=executor.ARGUMENT_SPEC, supports_check_mode=True)
    run(module, executor.ensure, module.params, check_mode=module.check_mode)


if __name__ == "__main__":
    main()
