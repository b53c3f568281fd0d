#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_job_info
short_description: The long-running job of a VM (a migration) and how far it is
version_added: 0.1.0
description:
  - Reads libvirt's statistics of the job a VM runs (a migration, a save, a block job's domain part) and the
    percent of its data still to send. migrate.yml polls it to report a migration's progress.
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - cloud1.iaas.connection
  - cloud1.iaas.vm
attributes:
  check_mode:
    support: full
    description: Read-only.
"""

EXAMPLES = r"""
- name: How far is web1's migration
  cloud1.iaas.vm_job_info:
    name: web1
  delegate_to: node1
  register: job
"""

RETURN = r"""
active:
  description: Whether a job runs.
  returned: success
  type: bool
exists:
  description: Whether the VM is defined on this node.
  returned: success
  type: bool
percent_remaining:
  description: Percent of the job's data still to send, or null.
  returned: success
  type: float
elapsed_ms:
  description: Milliseconds the job has run.
  returned: success
  type: int
supported:
  description: Whether the node's libvirt driver reports job statistics (when not, O(ignore:msg) says why).
  returned: success
  type: bool
stats:
  description: libvirt's job statistics as they are.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_job_info as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    module = AnsibleModule(argument_spec=executor.ARGUMENT_SPEC, supports_check_mode=True)
    run(module, executor.ensure, module.params, check_mode=module.check_mode)


if __name__ == "__main__":
    main()
