# -*- coding: utf-8 -*-
"""console_user and users.yml through ansible-playbook: accounts in a temporary database, passwords never in the
output, check mode writing nothing, a second run changing nothing, requests that contradict what exists refused."""

import json
import os
import sqlite3
import subprocess
import sys

from conftest import REPO, _require_collection, ansible_env

PW = "a long tenant password"


def test_an_account_is_made_once_checked_changed_and_removed(task, tmp_path):
    db = str(tmp_path / "console.db")
    dry = task("cloud1.iaas.console_user", {"db": db, "name": "alice", "password": PW}, check=True, diff=True)
    assert dry["changed"] and dry["diff"]["after"]["password"] == "(set)" and not os.path.exists(db)
    made = task("cloud1.iaas.console_user", {"db": db, "name": "alice", "password": PW})
    assert made["changed"] and made["account"]["role"] == "tenant" and PW not in json.dumps(made)
    again = task("cloud1.iaas.console_user", {"db": db, "name": "alice", "password": PW, "update_password": "always"})
    assert not again["changed"]
    promoted = task("cloud1.iaas.console_user", {"db": db, "name": "alice", "role": "admin"}, diff=True)
    assert promoted["changed"] and promoted["diff"]["before"]["role"] == "tenant"
    assert promoted["account"]["role"] == "admin"
    stored = sqlite3.connect(db).execute("SELECT password FROM accounts WHERE name = 'alice'").fetchone()[0]
    assert stored.startswith("scrypt$") and PW not in stored
    short = task("cloud1.iaas.console_user", {"db": db, "name": "bob", "password": "tiny1"})
    assert short["failed"] and "the password of bob is too short" in short["msg"] and "tiny1" not in json.dumps(short)
    listed = task("cloud1.iaas.console_user_info", {"db": db})
    assert [a["name"] for a in listed["accounts"]] == ["alice"] and "password" not in listed["accounts"][0]
    gone = task("cloud1.iaas.console_user", {"db": db, "name": "alice", "state": "absent"})
    assert gone["changed"] and not task("cloud1.iaas.console_user", {"db": db, "name": "alice",
                                                                     "state": "absent"})["changed"]


def users(tmp_path, *extra):
    _require_collection()
    inv = {"all": {"children": {"master": {"hosts": {"localhost": {"ansible_connection": "local",
                                                                   "ansible_python_interpreter": sys.executable}}}}}}
    (tmp_path / "inv.json").write_text(json.dumps(inv))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(tmp_path / "inv.json"),
           os.path.join(REPO, "playbooks", "users.yml"), "-e", "console_db=%s" % (tmp_path / "console.db")]
    for e in extra:
        cmd += ["-e", e]
    return subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=120, check=False)


def test_users_yml_adds_modifies_lists_and_refuses_contradictions(tmp_path):
    (tmp_path / "pw.yml").write_text("password: %s\n" % PW)
    add = users(tmp_path, "operation=add", "user=carol", "@%s" % (tmp_path / "pw.yml"))
    assert add.returncode == 0 and "changed=1" in add.stdout and PW not in add.stdout + add.stderr
    again = users(tmp_path, "operation=add", "user=carol", "@%s" % (tmp_path / "pw.yml"))
    assert again.returncode == 0 and "changed=0" in again.stdout
    clash = users(tmp_path, "operation=add", "user=carol", "role=admin", "@%s" % (tmp_path / "pw.yml"))
    assert clash.returncode != 0 and "account carol exists as tenant: operation=modify changes it" in clash.stdout
    missing = users(tmp_path, "operation=modify", "user=dave", "role=admin")
    assert missing.returncode != 0 and "there is no account dave: operation=add makes it" in missing.stdout
    modify = users(tmp_path, "operation=modify", "user=carol", "role=admin")
    assert modify.returncode == 0 and "changed=1" in modify.stdout
    listed = users(tmp_path, "operation=list")
    assert listed.returncode == 0 and "carol admin False" in listed.stdout
    nothing = users(tmp_path, "operation=add", "user=erin")
    assert nothing.returncode != 0 and "to add an account, its" in nothing.stdout
