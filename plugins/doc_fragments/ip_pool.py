# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  db:
    description:
      - The SQLite lease database on the master (created when missing, WAL journal).
    type: path
    default: /var/lib/cloud1/state/leases.db
  subnet:
    description: The guests' subnet with prefix length, for example V(192.168.1.0/24).
    type: str
    required: true
  range_start:
    description: First address handed out; default the first host address of the subnet.
    type: str
  range_end:
    description: Last address handed out; default the last host address of the subnet.
    type: str
  gateway:
    description: The subnet's gateway, never handed out.
    type: str
  exclude:
    description: Addresses never handed out (the nodes, reserved addresses).
    type: list
    elements: str
    default: []
  in_use:
    description: Addresses found in use (for example the static IPs in the VMs' metadata), never handed out.
    type: list
    elements: str
    default: []
"""
