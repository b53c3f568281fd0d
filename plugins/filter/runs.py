# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

"""The run_alive filter (documented in run_alive.yml)."""

from ansible_collections.cloud1.iaas.plugins.plugin_utils.runs import is_alive


class FilterModule:
    def filters(self):
        return {"run_alive": is_alive}
