# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: run_id
short_description: The name of this playbook run (controller, boot, ansible-playbook process and its start)
version_added: 0.2.0
description:
  - Names the running ansible-playbook process as C(host:boot:pid:start). createvm.yml reserves a VM's name for
    its run under this name (M(cloud1.iaas.ip_lease) O(cloud1.iaas.ip_lease#module:holder)), so that a second
    run for the same name is refused while the first lives, and a rerun after a killed run can tell that run
    dead with the P(cloud1.iaas.run_alive#filter) filter.
  - Evaluate it once per run (C(set_fact)); it reads /proc on the controller.
author:
  - cloud1.iaas developers (@cloud1)
"""

EXAMPLES = r"""
- name: This run's name
  ansible.builtin.set_fact:
    cloud1_run: "{{ lookup('cloud1.iaas.run_id') }}"
"""

RETURN = r"""
_raw:
  description: The run's name, C(host:boot:pid:start).
  type: list
  elements: str
"""

from ansible.plugins.lookup import LookupBase

from ansible_collections.cloud1.iaas.plugins.plugin_utils.runs import this_run


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [this_run()]
