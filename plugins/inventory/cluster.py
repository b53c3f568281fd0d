# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cluster
short_description: The VMs of every node of a cloud1 cluster as an inventory
version_added: 0.1.0
description:
  - Asks libvirt on every node for its domains and makes each VM a host, reachable at the static address
    in its metadata (C(ansible_host)), so C(ansible -i vms.cluster.yml owner_alice -m ping) reaches a
    tenant's VMs (the seed's sshLogin).
  - "Groups: C(cloud1_vms) (all), C(owner_<owner>), C(node_<node>), C(state_<state>) (running, shutoff, paused, ...)."
  - "Host variables: C(cloud1_vm) (state, vCPUs, memory, disks, MAC, metadata), C(cloud1_node), C(cloud1_owner)."
  - A node that does not answer is reported as a warning and its VMs are left out (or the inventory fails with O(strict_nodes)).
  - "SSH to the VMs accepts only the host keys recorded at their creation (M(cloud1.iaas.vm_hostkeys)): the plugin
    writes them to O(known_hosts_file) and sets C(ansible_ssh_common_args) to check strictly against that file, so
    a VM answering with another key (or without a recorded one) is refused, never trusted on first use."
  - The configuration file's name must end in C(cluster.yml) or C(cluster.yaml).
author:
  - cloud1.iaas developers (@cloud1)
extends_documentation_fragment:
  - ansible.builtin.constructed
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [cloud1.iaas.cluster]
  nodes:
    description:
      - The nodes, as inventory name -> libvirt URI, for example C(node1 -> qemu+ssh://root@node1/system).
    type: dict
    required: true
  strict_nodes:
    description: Fail when a node does not answer, instead of warning and leaving its VMs out.
    type: bool
    default: false
  known_hosts_file:
    description:
      - Where the VMs' recorded host keys are written (rewritten on every parse, mode 0600).
      - Default C(<configuration file>.known_hosts) beside the configuration file.
    type: path
requirements:
  - libvirt-python on the controller
"""

EXAMPLES = r"""
# vms.cluster.yml
plugin: cloud1.iaas.cluster
nodes:
  node0: qemu+ssh://root@192.168.1.10/system
  node1: qemu+ssh://root@192.168.1.20/system
compose:
  ansible_user: "'root'"
# ansible -i vms.cluster.yml owner_alice -m ping
"""

import os
import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable

from ansible_collections.cloud1.iaas.plugins.module_utils.core import hostkeys
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.vm_info import node_vms


def _group(prefix, value):
    return "%s_%s" % (prefix, re.sub(r"[^A-Za-z0-9_]", "_", str(value)))


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "cloud1.iaas.cluster"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("cluster.yml", "cluster.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        nodes = self.get_option("nodes") or {}
        if not isinstance(nodes, dict) or not nodes:
            raise AnsibleParserError("%s: nodes must map each node's name to its libvirt URI" % path)
        strict = self.get_option("strict")
        known_file = self.get_option("known_hosts_file") or path + ".known_hosts"
        ssh_args = "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -o GlobalKnownHostsFile=/dev/null" % known_file
        known = []
        self.inventory.add_group("cloud1_vms")
        for node, uri in sorted(nodes.items()):
            try:
                vms = node_vms(uri)["vms"]
            except Cloud1Error as exc:
                if self.get_option("strict_nodes"):
                    raise AnsibleParserError("node %s: %s" % (node, exc.message))
                self.display.warning("cloud1.iaas.cluster: node %s left out: %s" % (node, exc.message))
                continue
            for vm in vms:
                meta = vm.get("metadata") or {}
                name = vm["name"]
                self.inventory.add_host(name, group="cloud1_vms")
                groups = [_group("node", node), _group("state", vm["state"])]
                if meta.get("owner"):
                    groups.append(_group("owner", meta["owner"]))
                for group in groups:
                    self.inventory.add_group(group)
                    self.inventory.add_child(group, name)
                hostvars = {"cloud1_vm": vm, "cloud1_node": node, "cloud1_owner": meta.get("owner")}
                if meta.get("ip"):
                    hostvars["ansible_host"] = meta["ip"]
                    known.append(hostkeys.known_hosts(meta["ip"], hostkeys.from_metadata(meta.get("hostkeys"))))
                hostvars["ansible_ssh_common_args"] = ssh_args
                for key, value in hostvars.items():
                    self.inventory.set_variable(name, key, value)
                self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
                self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
        self._write_known_hosts(known_file, "".join(known))

    @staticmethod
    def _write_known_hosts(path, text):
        """Replace the file at once (a reader never sees half of it), readable by its owner only."""
        tmp = "%s.%d.tmp" % (path, os.getpid())
        try:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
                handle.write(text)
            os.rename(tmp, path)
        except OSError as exc:
            raise AnsibleParserError("cannot write the VMs' known hosts file %s: %s" % (path, exc))
