# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # the VM a module acts on
    DOCUMENTATION = r"""
options:
  name:
    description: The VM (its libvirt domain name).
    type: str
    required: true
  owner:
    description:
      - The owner (tenant) the request is made for. When given, the VM must be that owner's, or the request is
        refused and nothing changes (the message does not say whose the VM is). Omitted, the request is an
        admin's.
    type: str
"""

    # the CPU topology option of the modules that size a VM
    TOPOLOGY = r"""
options:
  topology:
    description:
      - CPU topology for the next boot; sockets x cores x threads must equal the vCPU maximum (threads > 1 is the
        seed's hyperthreading).
    type: dict
    suboptions:
      sockets:
        description: Sockets.
        type: int
        default: 1
      cores:
        description: Cores per socket.
        type: int
        default: 1
      threads:
        description: Threads per core.
        type: int
        default: 1
"""
