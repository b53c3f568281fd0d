#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: vm_ssh_wait.yml (sidecar, rendered by ansible-doc)

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_ssh_wait as executor
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import run


def main():
    run(AnsibleModule(**executor.MODULE_ARGS), executor.ensure)


if __name__ == "__main__":
    main()
