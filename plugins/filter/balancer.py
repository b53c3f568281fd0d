# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters proposal_line, balancer_settings, master_inventory (documented in their .yml files): the balancer's
core and the inventory the master runs it with. Each is one call into module_utils."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.cloud1.iaas.plugins.module_utils.core import balancer, inventory
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error


def balancer_settings(values):
    """The settings as given, once the policy accepts them (unknown names, levels that do not rise: refused)."""
    try:
        balancer.Settings.from_dict(values)
    except Cloud1Error as exc:
        raise AnsibleFilterError(exc.message)
    return dict(values or {})


def master_inventory(tree, overrides=None, drop=()):
    try:
        return inventory.for_master(tree, overrides, drop)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"proposal_line": balancer.proposal_line, "balancer_settings": balancer_settings,
                "master_inventory": master_inventory}
