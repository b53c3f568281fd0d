#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# DOCUMENTATION, EXAMPLES and RETURN: check_request.yml (sidecar, rendered by ansible-doc); the work is done
# on the controller by the action plugin of the same name (plugins/action/check_request.py)
