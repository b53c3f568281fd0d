# -*- coding: utf-8 -*-
"""cloud1.iaas.ip_lease and ip_pool_info run as Ansible runs them, on a lease database of the test's own."""

POOL = {"subnet": "10.77.0.0/24", "range_start": "10.77.0.100", "range_end": "10.77.0.110",
        "gateway": "10.77.0.1", "exclude": ["10.77.0.101"]}


def args(tmp_path, **kw):
    a = dict(POOL, db=str(tmp_path / "state" / "leases.db"))
    a.update(kw)
    return a


def test_check_real_check_and_release(task, tmp_path):
    check = task("cloud1.iaas.ip_lease", args(tmp_path, vm="alice-web1", owner="alice"), check=True, diff=True)
    assert check["changed"] is True and check["ip"] == "10.77.0.100"
    assert check["diff"]["after"] == {"vm": "alice-web1", "ip": "10.77.0.100", "state": "bound"}
    info = task("cloud1.iaas.ip_pool_info", args(tmp_path, count=3))
    assert info["leases"] == [] and info["free"] == ["10.77.0.100", "10.77.0.102", "10.77.0.103"]
    real = task("cloud1.iaas.ip_lease", args(tmp_path, vm="alice-web1", owner="alice"))
    assert real["changed"] is True and real["ip"] == "10.77.0.100" and real["prefix"] == 24
    again = task("cloud1.iaas.ip_lease", args(tmp_path, vm="alice-web1", owner="alice"), check=True)
    assert again["changed"] is False and again["ip"] == "10.77.0.100"
    info = task("cloud1.iaas.ip_pool_info", args(tmp_path, count=2))
    assert [(x["vm"], x["ip"], x["owner"]) for x in info["leases"]] == [("alice-web1", "10.77.0.100", "alice")]
    assert info["free"] == ["10.77.0.102", "10.77.0.103"]
    gone = task("cloud1.iaas.ip_lease", args(tmp_path, vm="alice-web1", state="absent"))
    assert gone["changed"] is True and gone["ip"] == "10.77.0.100"
    assert task("cloud1.iaas.ip_lease", args(tmp_path, vm="alice-web1", state="absent"))["changed"] is False


def test_bad_address_fails_and_leases_nothing(task, tmp_path):
    for address, msg in [("10.77.0.255", "broadcast"), ("10.78.0.5", "outside the subnet"),
                         ("10.77.0.1", "reserved"), ("10.77.0.50", "outside the pool range")]:
        r = task("cloud1.iaas.ip_lease", args(tmp_path, vm="x", address=address))
        assert r["failed"] is True and r["error"] == "InvalidInput" and msg in r["msg"], r
    assert task("cloud1.iaas.ip_pool_info", args(tmp_path))["leases"] == []


def test_reservation_for_a_run_refusal_takeover_bind_and_stale(task, tmp_path):
    hold = task("cloud1.iaas.ip_lease", args(tmp_path, vm="web1", owner="alice", node="node1", holder="run-a"))
    assert hold["changed"] is True and hold["diff"]["after"]["state"] == "creating" and hold["taken_over"] is None
    other = task("cloud1.iaas.ip_lease", args(tmp_path, vm="web1", owner="alice", holder="run-b"))
    assert other["failed"] is True and "web1 is being created by another run (run-a, on node node1" in other["msg"]
    info = task("cloud1.iaas.ip_pool_info", args(tmp_path, vm="web1", vms=[], count=20))
    assert (info["lease"]["holder"], info["lease"]["state"]) == ("run-a", "creating")
    assert info["stale"] == [] and info["asked"] == 20 and info["available"] == 9 and len(info["free"]) == 9
    took = task("cloud1.iaas.ip_lease", args(tmp_path, vm="web1", owner="alice", holder="run-b", takeover="run-a"))
    assert took["changed"] is True and took["taken_over"] == "run-a" and took["ip"] == hold["ip"]
    bound = task("cloud1.iaas.ip_lease", args(tmp_path, vm="web1", holder="run-b", state="bound"))
    assert bound["changed"] is True and bound["diff"]["after"]["state"] == "bound"
    again = task("cloud1.iaas.ip_lease", args(tmp_path, vm="web1", holder="run-b", state="bound"))
    assert again["changed"] is False
    stale = task("cloud1.iaas.ip_pool_info", args(tmp_path, vms=["db1"]))["stale"]
    assert [(x["vm"], x["ip"]) for x in stale] == [("web1", hold["ip"])]
    kept = task("cloud1.iaas.ip_lease", args(tmp_path, vm="web1", state="absent", older_than=0.0))
    assert kept["changed"] is False and kept["ip"] is None   # touched after the survey time: not released


def test_run_id_names_the_ansible_playbook_process_alive_then_dead(tmp_path):
    """The lookup, evaluated in Ansible's forked worker, names the ansible-playbook process itself; the
    filter finds it alive while the playbook runs and dead once it has ended."""
    import json
    import os
    import subprocess
    import sys

    from conftest import ansible_env

    play = tmp_path / "run.yml"

    def playbook(text):
        play.write_text(text)
        proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                                 "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable, str(play)],
                                env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = proc.communicate(timeout=120)[0]
        assert proc.returncode == 0, out
        return proc.pid, json.loads((tmp_path / "out.json").read_text())

    task = ("- hosts: localhost\n  gather_facts: false\n  tasks:\n%s"
            "    - ansible.builtin.copy:\n        dest: %s\n"
            "        content: \"{{ {'me': me, 'alive': me | cloud1.iaas.run_alive} | to_json }}\"\n")
    pid, seen = playbook(task % ("    - ansible.builtin.set_fact:\n        me: \"{{ lookup('cloud1.iaas.run_id') }}\"\n",
                                 tmp_path / "out.json"))
    assert seen["me"].rsplit(":", 3)[2] == str(pid) and seen["alive"] is True
    _pid, later = playbook(task % ("    - ansible.builtin.set_fact:\n        me: %s\n" % seen["me"], tmp_path / "out.json"))
    assert later == {"me": seen["me"], "alive": False}   # that run has ended
