# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

"""Address filters cidr_network, cidr_ip, cidr_prefix, ssh_source_option, authorized_key_line (documented in their
.yml files)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.cloud1.iaas.plugins.module_utils.core import net
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error


def _wrap(fn):
    def run(value, *args, **kwargs):
        try:
            return fn(value, *args, **kwargs)
        except Cloud1Error as exc:
            raise AnsibleFilterError(exc.message)
    return run


class FilterModule:
    def filters(self):
        return {
            "cidr_network": _wrap(net.cidr_network),
            "cidr_ip": _wrap(net.cidr_ip),
            "cidr_prefix": _wrap(net.cidr_prefix),
            "ssh_source_option": _wrap(net.ssh_source_option),
            "authorized_key_line": _wrap(net.authorized_key_line),
        }
