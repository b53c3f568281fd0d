# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one waiter of the collection: ask again every ``interval`` seconds until an answer is final or a
deadline passes. Every wait (a guest powering off, a hot-plugged vCPU coming online, a busy storage pool, a
guest command finishing, a migration's job) goes through it. The clock and the sleep are injectable, so unit
tests drive it without sleeping.
"""

from __future__ import annotations

import time


class Waiter:
    """``Waiter(timeout, interval).until(probe)`` calls ``probe()`` until it returns a result whose ``done`` is
    true, or the deadline passes; returns ``(done, value)`` of the last call.

    ``probe`` returns ``(done, value)``. An exception from ``probe`` ends the wait (the probe decides which
    errors mean "not yet": it catches those and answers ``(False, why)``)."""

    def __init__(self, timeout, interval=1.0, clock=None, sleep=None):
        self.timeout = float(timeout)
        self.interval = float(interval)
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep
        self.started = None
        self.polls = 0

    def elapsed(self):
        return 0.0 if self.started is None else self.clock() - self.started

    def until(self, probe):
        self.started = self.clock()
        deadline = self.started + self.timeout
        while True:
            self.polls += 1
            done, value = probe()
            if done:
                return True, value
            now = self.clock()
            if now >= deadline:
                return False, value
            self.sleep(min(self.interval, max(deadline - now, 0.0)))
