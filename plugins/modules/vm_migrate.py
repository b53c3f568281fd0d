#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_migrate
short_description: Move a VM to another node, live, safely
version_added: 0.1.0
description:
  - Live migration, peer to peer (the source node's libvirtd connects to the destination's at O(dest), over
    qemu+ssh with the nodes' root keys), persistent on the destination and undefined on the source. A stopped
    VM is moved offline (its definition; the disk stays on the shared storage).
  - "Never unsafe: before anything moves it checks that the destination answers and is another node, has no
    VM of that name, has room for the VM's vCPU and memory maxima (the placement filters), sees every disk
    directory as the same shared directory (a marker written next to each disk must appear there), and
    provides the VM's CPU. A VM whose disk is not on shared storage is refused with a message saying so;
    VIR_MIGRATE_UNSAFE is never used."
  - "Snapshots: libvirt refuses to migrate a domain with snapshot metadata, though internal snapshots live in
    its qcow2 on the shared storage and arrive with it. Their metadata is set aside just before the
    migration and defined again on the destination (the current one stays current); on failure it is
    defined again on the source."
  - Check mode runs the same checks and answers whether the move would go and why (O(ignore:checks)).
  - While the migration runs, its job is watched (percent remaining); after O(timeout) seconds it is aborted
    or forced to complete (O(timeout_action)). When it fails the VM is looked up on the source again and the
    result says where it is and in which state.
  - Run it on the source node (C(delegate_to)) with the default O(uri), so the shared storage check can write
    next to the disks.
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - cloud1.iaas.connection
  - cloud1.iaas.vm
options:
  dest:
    description: libvirt URI of the destination as the source node reaches it, e.g. V(qemu+ssh://root@node2/system).
    type: str
    required: true
  bandwidth_mib:
    description: Bandwidth limit of the migration stream in MiB/s.
    type: int
  max_downtime_ms:
    description: Longest pause of the guest allowed for the final switch-over, in milliseconds.
    type: int
  auto_converge:
    description: Slow the guest's vCPUs down when its memory changes faster than it can be sent.
    type: bool
    default: false
  postcopy:
    description: Allow switching to post-copy (the guest runs on the destination while the rest of its memory follows); used by O(timeout_action=force).
    type: bool
    default: false
  timeout:
    description: Seconds after which O(timeout_action) is taken.
    type: int
  timeout_action:
    description:
      - V(abort) cancels the migration (the VM stays on the source).
      - V(force) completes it (post-copy when O(postcopy=true), otherwise the guest is paused so the rest is sent,
        and resumed on the destination).
    type: str
    choices: [abort, force]
    default: abort
  migrate_uri:
    description: Address the destination's QEMU listens on for the migration stream (e.g. V(tcp://10.0.0.12)); default the destination's host name.
    type: str
  policy:
    description: Placement policy overrides for the capacity check (cpu_overcommit, memory_overcommit, reserved_memory_mib).
    type: dict
attributes:
  check_mode:
    support: full
    description: Runs every check and reports whether the move would go; moves nothing.
  diff_mode:
    support: full
    description: The node before and after.
"""

EXAMPLES = r"""
- name: Move web1 from node1 to node2, live, at most 100 MiB/s, 300 ms of downtime
  cloud1.iaas.vm_migrate:
    name: web1
    dest: qemu+ssh://root@node2/system
    bandwidth_mib: 100
    max_downtime_ms: 300
    timeout: 600
    timeout_action: force
  delegate_to: node1

- name: Would it go?
  cloud1.iaas.vm_migrate:
    name: web1
    dest: qemu+ssh://root@node2/system
  delegate_to: node1
  check_mode: true
  register: answer
"""

RETURN = r"""
would_migrate:
  description: Whether every check passed.
  returned: when the VM is on the source
  type: bool
checks:
  description: Each check with its outcome and reason (destination, name, capacity, storage, cpu).
  returned: when the VM is on the source
  type: list
  elements: dict
  sample: [{check: storage, ok: true, reason: every disk is on storage the destination shares}]
node:
  description: The node the VM is on afterwards.
  returned: success
  type: str
report:
  description: The finished migration's total time, downtime and data transferred (from libvirt's job statistics).
  returned: when the VM moved
  type: dict
  sample: {total_time_ms: 1730, downtime_ms: 160, data_transferred_bytes: 139460000}
progress:
  description: Percent of the data still to send, sampled about every second, as [seconds, percent].
  returned: when the VM moved
  type: list
  elements: list
wall_time_s:
  description: Seconds the migration call took, checks excluded.
  returned: when the VM moved
  type: float
persistent:
  description: Whether the VM is defined persistently on the destination.
  returned: when the VM moved
  type: bool
snapshots_moved:
  description: How many snapshots were defined again on the destination.
  returned: when the VM moved
  type: int
still_on_source:
  description: Whether a definition of the VM remains on the source.
  returned: when the VM moved
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_migrate as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    module = AnsibleModule(argument_spec=executor.ARGUMENT_SPEC, supports_check_mode=True)
    run(module, executor.ensure, module.params, check_mode=module.check_mode)


if __name__ == "__main__":
    main()
