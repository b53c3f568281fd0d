# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ganglia_name_problems (documented in ganglia_name_problems.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.cloud1.iaas.plugins.module_utils.core.metrics import node_name_problems


def ganglia_name_problems(getent_text, addresses):
    if not isinstance(addresses, dict):
        raise AnsibleFilterError("ganglia_name_problems: addresses must be a dict {node: address}, got %s"
                                 % type(addresses).__name__)
    return node_name_problems(getent_text, addresses)


class FilterModule:
    def filters(self):
        return {"ganglia_name_problems": ganglia_name_problems}
