#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ip_pool_info
short_description: Free addresses and current leases of the guests' subnet (the seed's getips)
version_added: 0.1.0
description:
  - Lists the first O(count) free addresses of the pool and every lease, without changing anything.
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - cloud1.iaas.ip_pool
options:
  count:
    description: How many free addresses to list.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    description: Read-only; check mode runs it as usual.
"""

EXAMPLES = r"""
- name: Five free addresses
  cloud1.iaas.ip_pool_info:
    subnet: 192.168.1.0/24
    range_start: 192.168.1.100
    gateway: 192.168.1.1
    count: 5
"""

RETURN = r"""
subnet:
  description: The subnet, normalised.
  returned: always
  type: str
free:
  description: Free addresses, lowest first.
  returned: always
  type: list
  elements: str
  sample: [192.168.1.100, 192.168.1.101]
leases:
  description: Current leases with ip, vm, owner and creation time (epoch seconds).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import ip_pool_info as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    module = AnsibleModule(argument_spec=executor.ARGUMENT_SPEC, supports_check_mode=True)
    run(module, executor.ensure, module.params, check_mode=module.check_mode)


if __name__ == "__main__":
    main()
