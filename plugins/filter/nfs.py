# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter nfs_export_lines (documented in nfs_export_lines.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error
from ansible_collections.cloud1.iaas.plugins.module_utils.core.nfs import export_lines


def nfs_export_lines(paths, clients, options):
    try:
        return export_lines(paths, clients, options)
    except Cloud1Error as exc:
        raise AnsibleFilterError(exc.message)


class FilterModule:
    def filters(self):
        return {"nfs_export_lines": nfs_export_lines}
