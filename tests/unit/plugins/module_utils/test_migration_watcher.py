# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration's completion timeout, driven with a stand-in domain (the box's migration scenario drives the real
one): an abort that cancelled nothing is asked again while the job runs."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import migration


class Dom:
    def __init__(self, ignore_aborts=0, refuse=False):
        self.ignore, self.refuse = ignore_aborts, refuse
        self.running, self.aborts, self.paused = True, 0, 0

    def job_stats(self):
        return {"type": 2, "data_total": 100, "data_remaining": 50} if self.running else {}

    def job_active(self, stats):
        return bool(stats)

    def abort_job(self):
        self.aborts += 1
        if self.refuse:
            raise OperationFailed("operation not valid: no job is active")
        if self.aborts > self.ignore:
            self.running = False

    def suspend(self):
        self.paused += 1

    def set_migration_speed(self, mib):
        pass


def req(action):
    return {"timeout": 4, "timeout_action": action, "postcopy": False, "bandwidth_mib": 2}


def tick(watcher, seconds):
    """Pretend ``seconds`` more have passed since the migration began, then probe once."""
    watcher.t0 -= seconds
    watcher.asked -= seconds
    watcher.on_timeout(watcher.poll())


def test_no_abort_before_the_timeout():
    dom = Dom()
    watcher = migration.Watcher(dom, req("abort"))
    tick(watcher, 3)
    assert dom.aborts == 0 and watcher.forced is None


def test_an_abort_that_cancelled_nothing_is_asked_again_until_the_job_ends():
    dom = Dom(ignore_aborts=2)
    watcher = migration.Watcher(dom, req("abort"))
    tick(watcher, 5)
    assert dom.aborts == 1 and dom.running
    tick(watcher, 1)                       # too soon to ask again
    assert dom.aborts == 1
    tick(watcher, migration.ABORT_RETRY_S)
    tick(watcher, migration.ABORT_RETRY_S)
    assert dom.aborts == 3 and not dom.running
    tick(watcher, migration.ABORT_RETRY_S)  # the job has ended: nothing more to cancel
    assert dom.aborts == 3
    assert watcher.forced == "aborted after 4 s (timeout_action=abort)"


def test_an_abort_libvirt_refuses_says_so():
    dom = Dom(refuse=True)
    watcher = migration.Watcher(dom, req("abort"))
    tick(watcher, 5)
    assert watcher.forced == "aborted after 4 s (timeout_action=abort) - failed: operation not valid: no job is active"


def test_force_pauses_once():
    dom = Dom()
    watcher = migration.Watcher(dom, req("force"))
    tick(watcher, 5)
    tick(watcher, 5)
    assert dom.paused == 1 and watcher.forced.startswith("paused the VM after 4 s")


class Lost(Dom):
    """A handle that stopped finding its VM while the move goes on."""

    def job_stats(self):
        raise OperationFailed("Domain not found: no domain with matching uuid")

    def abort_job(self):
        self.aborts += 1
        raise OperationFailed("Domain not found: no domain with matching uuid")


def test_a_handle_that_lost_the_vm_is_replaced_and_the_abort_reaches_the_job():
    lost, found = Lost(), Dom()
    opened = []

    def reopen():
        opened.append(1)
        return found

    watcher = migration.Watcher(lost, req("abort"), reopen=reopen)
    tick(watcher, 5)
    assert lost.aborts == 0 and found.aborts == 1 and not found.running and len(opened) == 1
    assert watcher.forced == "aborted after 4 s (timeout_action=abort)"


def test_an_abort_not_accepted_is_asked_again_though_the_job_cannot_be_seen():
    lost = Lost()
    watcher = migration.Watcher(lost, req("abort"), reopen=lambda: None)
    tick(watcher, 5)
    tick(watcher, migration.ABORT_RETRY_S)
    assert lost.aborts == 2 and watcher.forced.endswith("failed: Domain not found: no domain with matching uuid")


def test_new_connections_are_bounded():
    opened = []

    def reopen():
        opened.append(1)
        return Lost()

    watcher = migration.Watcher(Lost(), req("abort"), reopen=reopen)
    for _round in range(10):
        tick(watcher, migration.ABORT_RETRY_S)
    assert len(opened) == migration.REOPEN_MAX


def test_a_source_that_cannot_abort_has_the_migration_cancelled_at_the_destination():
    # seen in CI: a new connection to the source answered "Domain not found" too, and the move ran on for 105 s
    calls = []

    def cancel_incoming():
        calls.append(1)
        return True, "its incoming mig1 destroyed before it took over"

    watcher = migration.Watcher(Lost(), req("abort"), reopen=Lost, cancel_incoming=cancel_incoming)
    tick(watcher, 5)
    assert calls == [1] and watcher.aborted
    assert watcher.forced.startswith("aborted after 4 s (timeout_action=abort) at the destination (its incoming mig1 "
                                     "destroyed before it took over; the source could not be asked: Domain not found")
    tick(watcher, migration.ABORT_RETRY_S)
    assert calls == [1]            # not again once the destination has cancelled it (the job is not active)


def test_the_destination_leaves_alone_what_is_not_waiting_and_post_copy_is_never_cancelled_there():
    watcher = migration.Watcher(Lost(), req("abort"), reopen=lambda: None,
                                cancel_incoming=lambda: (False, "mig1 there is running, not waiting for a migration"))
    tick(watcher, 5)
    assert not watcher.aborted and watcher.forced.endswith(
        "failed: Domain not found: no domain with matching uuid; at the destination: mig1 there is running, not "
        "waiting for a migration")
    calls = []
    post = dict(req("abort"), postcopy=True)
    watcher = migration.Watcher(Lost(), post, reopen=lambda: None, cancel_incoming=lambda: calls.append(1))
    tick(watcher, 5)
    assert calls == [] and not watcher.aborted
