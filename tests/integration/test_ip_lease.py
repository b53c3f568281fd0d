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
    assert check["diff"]["after"] == {"vm": "alice-web1", "ip": "10.77.0.100"}
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
