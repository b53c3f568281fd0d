# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter proposal_line (documented in proposal_line.yml): a balancer proposal as one line. One call into
module_utils."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import balancer


class FilterModule:
    def filters(self):
        return {"proposal_line": balancer.proposal_line}
