# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The web console's own code (served from the master). Its rules are the collection's pure core
(core.accounts, core.sessions, core.jobs) and its state the collection's SQLite stores (state.accounts,
state.jobs); every operation is one of the collection's playbooks run as a job (runner.py)."""
