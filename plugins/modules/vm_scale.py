#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_scale
short_description: Scale a VM's vCPUs, memory and disk, live where possible
version_added: 0.1.0
description:
  - "vCPUs: a running VM gets them at once when the count stays within its running maximum (hot-plug; new
    vCPUs are onlined inside the guest through qemu-guest-agent), otherwise the definition holds them for
    the next boot. The maximum and the topology (sockets x cores x threads, which must multiply to the
    maximum) only change in the definition."
  - "Memory: a running VM's balloon moves at once within its running maximum, otherwise the definition
    holds it for the next boot."
  - "Disk: a running VM's disk grows online: libvirt's block resize of the qcow2, then inside the guest the
    partition that holds the root LVM physical volume (found, not assumed to be number 2) is grown with
    growpart, then pvresize and lvextend -r (which grows xfs). Commands reach the guest through
    qemu-guest-agent, or SSH to the VM's address when the agent does not answer. A stopped VM's image is
    resized and a first-boot growth is installed with virt-sysprep, so the guest grows at its next boot."
  - Shrinking a disk is refused and changes nothing (xfs cannot shrink). Growing to the size the disk
    already has changes nothing (inside a running guest, what an interrupted growth left is finished).
  - The result says for each resource whether the change went live, waits for the next boot, or happened
    offline; O(restart=true) power-cycles the VM when something waits for the next boot.
  - Run it on the node that holds the VM (C(delegate_to)) with the default O(uri); a stopped VM's disk must
    be visible there for the first-boot growth.
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - cloud1.iaas.connection
  - cloud1.iaas.vm
  - cloud1.iaas.vm.topology
options:
  vcpus:
    description: vCPUs wanted (1-256).
    type: int
  max_vcpus:
    description: The vCPU maximum (next boot); the headroom for live vCPU changes.
    type: int
  memory_mib:
    description: Memory wanted in MiB (at least 128).
    type: int
  max_memory_mib:
    description: The memory maximum in MiB (next boot); the headroom for live memory changes.
    type: int
  disk_gib:
    description: Size of the VM's first disk in GiB; never below its current size.
    type: int
  restart:
    description: Power-cycle a running VM (ACPI shutdown, wait up to O(shutdown_timeout), start) when a change waits for the next boot.
    type: bool
    default: false
  shutdown_timeout:
    description: Seconds to wait for the guest to power off when O(restart=true).
    type: int
    default: 120
  guest_access:
    description: How commands reach the guest to grow its filesystem; V(auto) tries qemu-guest-agent, then SSH.
    type: str
    choices: [auto, agent, ssh]
    default: auto
  ssh_user:
    description: User for the SSH fallback.
    type: str
    default: root
  ssh_private_key:
    description: Private key (its content) for the SSH fallback; written to a private temporary file for the call only.
    type: str
  guest_timeout:
    description: Seconds a command inside the guest may take.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    description: Plans every change (live, next boot, online, offline) and refusals without touching the VM.
  diff_mode:
    support: full
    description: Sizes before and after (running and next boot).
notes:
  - A reboot from inside the guest keeps the running sizes; the definition's sizes take effect when the VM is
    powered off and started again (shutdownvm.yml then startvm.yml, or O(restart=true)).
  - Lowering the vCPU count live needs the guest to release the vCPU (ACPI eject); when it does not, the change
    stays in the definition for the next boot and the result says so.
seealso:
  - module: cloud1.iaas.vm
  - module: cloud1.iaas.vm_snapshot
"""

EXAMPLES = r"""
- name: Grow web1's disk to 5 GiB while it runs
  cloud1.iaas.vm_scale:
    name: web1
    disk_gib: 5
  delegate_to: node1

- name: Two vCPUs and 512 MiB, live within the maxima
  cloud1.iaas.vm_scale:
    name: web1
    vcpus: 2
    memory_mib: 512
  delegate_to: node1

- name: Four vCPUs as 2 sockets x 2 cores; power-cycle now
  cloud1.iaas.vm_scale:
    name: web1
    vcpus: 4
    topology: {sockets: 2, cores: 2, threads: 1}
    restart: true
  delegate_to: node1
"""

RETURN = r"""
applied:
  description: Per resource, V(live), V(next boot), V(online), V(offline) or V(unchanged).
  returned: success
  type: dict
  sample: {vcpus: live, memory: next boot, disk: online}
restart_pending:
  description: Whether the definition holds changes the running VM does not have yet.
  returned: success
  type: bool
actions:
  description: What was done (or would be in check mode), and notes, in order.
  returned: always
  type: list
  elements: str
vm:
  description: Sizes after the run (the running ones for a running VM) and, under C(next_boot), the definition's.
  returned: success
  type: dict
  sample: {state: running, vcpus: 2, max_vcpus: 2, memory_mib: 512, max_memory_mib: 512, disk_bytes: 5368709120,
           next_boot: {vcpus: 2, max_vcpus: 2, memory_mib: 512, max_memory_mib: 512}}
guest:
  description: For an online disk growth, how the guest was reached (agent or ssh) and its root filesystem's size before and after.
  returned: success
  type: dict
  sample: {access: agent, root_bytes_before: 3987734528, root_bytes_after: 5061476352}
node:
  description: The node's host name.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_scale as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    module = AnsibleModule(argument_spec=executor.ARGUMENT_SPEC, required_one_of=executor.REQUIRED_ONE_OF, supports_check_mode=True)
    run(module, executor.ensure, module.params, check_mode=module.check_mode)


if __name__ == "__main__":
    main()
