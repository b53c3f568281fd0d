# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin's inventory, as a program on the master runs it (the balancer's loop): the same hosts, groups and
variables, without what only holds on the admin's machine (its key files, its SSH options, its passwords),
with the master's own values instead. Pure Python: the tree ``ansible-inventory --list --yaml --export`` prints
in, a YAML inventory tree out.
"""

from __future__ import annotations

import copy

# connection settings that name the admin's machine (key files, known_hosts paths) or hold its secrets
CONTROLLER_ONLY = (
    "ansible_ssh_private_key_file", "ansible_private_key_file", "ansible_ssh_common_args", "ansible_ssh_extra_args",
    "ansible_scp_extra_args", "ansible_sftp_extra_args", "ansible_password", "ansible_ssh_pass",
    "ansible_become_password", "ansible_become_pass", "ansible_ssh_executable",
)


def for_master(tree, overrides=None, drop=()):
    """``tree``: {"all": {...}} as ansible-inventory exports it. Returns a copy where the variables in
    CONTROLLER_ONLY and ``drop`` are gone at every level, and ``overrides`` are set on ``all`` (and removed
    from the groups and hosts below, so the master's value is the one every host sees)."""
    if not isinstance(tree, dict) or not isinstance(tree.get("all"), dict):
        raise ValueError("not an inventory tree: ansible-inventory --list --yaml --export prints {all: ...}")
    overrides = dict(overrides or {})
    gone = set(CONTROLLER_ONLY) | set(drop) | set(overrides)
    out = copy.deepcopy(tree)

    def clean(variables):
        return {k: v for k, v in (variables or {}).items() if k not in gone}

    def walk(group):
        if group.get("vars") is not None:
            group["vars"] = clean(group["vars"])
        for name, host in (group.get("hosts") or {}).items():
            group["hosts"][name] = clean(host)
        for child in (group.get("children") or {}).values():
            if isinstance(child, dict):
                walk(child)

    walk(out["all"])
    out["all"]["vars"] = dict(out["all"].get("vars") or {}, **overrides)
    return out
