#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_snapshot
short_description: Snapshots of a VM (create, list, current, revert, delete, rotate)
version_added: 0.1.0
description:
  - Internal qcow2 snapshots through libvirt. A running VM's snapshot holds its memory too, so reverting
    returns the VM running where it was; a stopped VM's holds its disk. They live inside the VM's disk file
    (on the shared storage) and are deleted with the VM.
  - Every run returns the VM's snapshots and the current one (the seed kept snapshot names per VM in its
    user details).
  - O(state=rotated) applies the rotation policy (keep the newest O(keep), drop those older than
    O(max_age)) to the snapshots whose name starts with O(prefix) only; with O(create=true) it first takes
    one named O(prefix) + UTC time. The seed took one every 2 hours; the C(snapshot_rotation) role runs this
    from a systemd timer on the master.
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - cloud1.iaas.connection
  - cloud1.iaas.vm
options:
  state:
    description:
      - V(present) takes snapshot O(snapshot) unless it exists; V(absent) deletes it if it exists;
        V(reverted) reverts the VM to it (always a change, like a restart); V(listed) only reports;
        V(rotated) applies the rotation policy.
    type: str
    choices: [present, absent, reverted, listed, rotated]
    default: present
  snapshot:
    description: The snapshot's name (letters, digits, C(-), C(_), C(.), C(:)); needed for present, absent and reverted.
    type: str
  description:
    description: A description stored with a new snapshot.
    type: str
  keep:
    description: With O(state=rotated), how many of the newest rotated snapshots stay.
    type: int
  max_age:
    description: With O(state=rotated), rotated snapshots older than this go (C(90m), C(2h), C(7d), C(1w), or seconds).
    type: str
  prefix:
    description: With O(state=rotated), only snapshots whose name starts with this take part (and new ones get it).
    type: str
    default: auto-
  create:
    description: With O(state=rotated), take a new snapshot before rotating.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports what would be taken, reverted or deleted (and which the rotation would drop) without doing it.
  diff_mode:
    support: full
    description: The snapshot names and the current one, before and after.
"""

EXAMPLES = r"""
- name: Snapshot web1 before an upgrade
  cloud1.iaas.vm_snapshot:
    name: web1
    snapshot: before-upgrade
  delegate_to: node1

- name: Back to it
  cloud1.iaas.vm_snapshot:
    name: web1
    snapshot: before-upgrade
    state: reverted
  delegate_to: node1

- name: One more every run, keep the newest 12, none older than a day
  cloud1.iaas.vm_snapshot:
    name: web1
    state: rotated
    create: true
    keep: 12
    max_age: 1d
  delegate_to: node1
"""

RETURN = r"""
snapshots:
  description: The VM's snapshots after the run, oldest first.
  returned: success
  type: list
  elements: dict
  sample: [{name: before-upgrade, created: 1795480000, created_at: "2026-11-24T02:00:00Z", state: running,
            memory: true, parent: null, description: ""}]
current:
  description: The current snapshot (the one the VM's state descends from), or null.
  returned: success
  type: str
dropped:
  description: With O(state=rotated), the snapshots the policy dropped (would drop, in check mode).
  returned: success
  type: list
  elements: str
actions:
  description: What was done (or would be in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_snapshot as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    module = AnsibleModule(argument_spec=executor.ARGUMENT_SPEC, required_if=executor.REQUIRED_IF, supports_check_mode=True)
    run(module, executor.ensure, module.params, check_mode=module.check_mode)


if __name__ == "__main__":
    main()
