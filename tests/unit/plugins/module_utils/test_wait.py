# -*- coding: utf-8 -*-
"""The one waiter, driven by a fake clock: no test sleeps."""

from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.virt.wait import Waiter


class Clock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_returns_as_soon_as_the_probe_is_done():
    clock = Clock()
    answers = iter([(False, "booting"), (False, "booting"), (True, "shutoff")])
    waiter = Waiter(60, interval=2, clock=clock, sleep=clock.sleep)
    assert waiter.until(lambda: next(answers)) == (True, "shutoff")
    assert clock.slept == [2, 2] and waiter.polls == 3 and waiter.elapsed() == 4


def test_gives_up_at_the_deadline_with_the_last_answer():
    clock = Clock()
    waiter = Waiter(5, interval=2, clock=clock, sleep=clock.sleep)
    assert waiter.until(lambda: (False, "running at %d" % clock.now)) == (False, "running at 105")
    assert clock.slept == [2, 2, 1]   # never sleeps past the deadline


def test_a_zero_timeout_asks_once():
    clock = Clock()
    assert Waiter(0, clock=clock, sleep=clock.sleep).until(lambda: (False, 1)) == (False, 1)
    assert clock.slept == []


def test_an_error_in_the_probe_ends_the_wait():
    clock = Clock()

    def probe():
        raise RuntimeError("agent gone")

    with pytest.raises(RuntimeError, match="agent gone"):
        Waiter(60, clock=clock, sleep=clock.sleep).until(probe)
