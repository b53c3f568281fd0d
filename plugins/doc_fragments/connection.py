# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  uri:
    description:
      - libvirt connection URI of the node.
      - On the node itself V(qemu:///system); from the controller V(qemu+ssh://root@NODE/system) (the
        controller must reach the node by SSH with a key).
      - V(test:///default) or V(test:///path/to/node.xml) is libvirt's in-process test driver, used by the
        collection's own tests.
    type: str
    default: qemu:///system
requirements:
  - libvirt-python (or Debian's python3-libvirt with C(ansible_python_interpreter=/usr/bin/python3))
"""
