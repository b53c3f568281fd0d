#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Box checks of the console (the console role on the master, site.yml): Debian's Chromium, headless, on this
machine drives the console served by the master over TLS (Chromium trusts only the master's console key).

  service   the service runs; the admin's generated password file and the settings are root's only; TLS only
  admin     the admin logs in with the generated password, sees every node with its load and a graph that
            loads, and adds the tenants carol and dave (accounts page)
  create    carol creates con1 from the form with her own SSH key, watches the job to its end, sees con1 running
            with its address, and reaches it by SSH with her key
  isolation dave cannot see or act on con1 (page, API, job: 404), con1 unchanged; a bad form value shows the
            request rule's message and queues nothing
  proposal  a pending proposal for con1 appears on carol's open page without a reload; carol approves it with a
            limit and the disk grows to that limit
  migrate   the admin moves con1 to another node from its page; the job shows the total time and the downtime
  delete    carol deletes con1 through the console; the accounts are removed

Screenshots in build/artifacts/console-box/. Usage: console.py [phase ...]"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import boxlib

sys.path.insert(0, os.path.join(boxlib.REPO, "tests", "lib"))
import chromium  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

MASTER = sorted(boxlib.inventory()["all"]["children"]["master"]["hosts"])[0]
ADDRESS = boxlib.inventory()["all"]["children"]["master"]["hosts"][MASTER].get("ansible_host", MASTER)
PORT = 8443
BASE = "https://%s:%d" % (ADDRESS, PORT)
ARTIFACTS = os.path.join(boxlib.REPO, "build", "artifacts", "console-box")
PASSWORDS = {"carol": "carol-tenant-pass-1", "dave": "dave-tenant-pass-1"}
VM = "con1"
STATE = os.path.join(boxlib.BOX, "console-checks.json")
_DRIVER = []
_PROFILES = []


def driver():
    if not _DRIVER:
        if chromium.missing():
            raise RuntimeError(chromium.missing())
        profile = tempfile.mkdtemp(prefix="chromium-", dir=boxlib.BOX)   # a fresh browser: nothing cached
        _PROFILES.append(profile)
        _DRIVER.append(chromium.browser(chromium.spki_of_server(ADDRESS, PORT), profile))
    return _DRIVER[0]


def shot(name):
    boxlib.check(chromium.shot(driver(), ARTIFACTS, name), "screenshot %s (1280x800, not blank)" % name)


def admin_password():
    res = boxlib.ssh_node(MASTER, "cat /root/cloud1-console-admin.password")
    return res.stdout.strip()


def as_user(name):
    d = driver()
    d.delete_all_cookies()
    chromium.log_in(d, BASE, name, admin_password() if name == "admin" else PASSWORDS[name])
    return d


def api(d, method, path, body=None):
    """(status, JSON) of an API call from the logged-in page (its cookie, its CSRF token)."""
    return d.execute_async_script("""
        var done = arguments[arguments.length - 1];
        var csrf = document.querySelector('meta[name="csrf-token"]').content;
        var init = {method: arguments[0], credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}};
        if (arguments[2] !== null) { init.body = JSON.stringify(arguments[2]); }
        fetch(arguments[1], init).then(function (r) {
            return r.text().then(function (t) { done([r.status, t]); }); }).catch(function (e) { done([0, String(e)]); });
    """, method, path, body)


def wait_job(d, timeout):
    WebDriverWait(d, 30).until(lambda x: x.find_elements(By.ID, "output"))
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = d.find_element(By.ID, "status").text
        if status in ("successful", "failed", "lost"):
            break
        time.sleep(3)
    return status, d.find_element(By.ID, "output").text


def service():
    res = boxlib.ssh_node(MASTER, "systemctl is-active cloud1-console.service; stat -c '%a %U' "
                                  "/root/cloud1-console-admin.password /etc/cloud1/console/settings.json "
                                  "/var/lib/cloud1/console/tls.key")
    lines = res.stdout.split()
    boxlib.check(lines[:1] == ["active"], "cloud1-console.service is active on %s" % MASTER)
    boxlib.check(lines[1:] == ["600", "root"] * 3,
                 "the admin's password, the settings and the TLS key are root's only (%s)" % " ".join(lines[1:]))
    boxlib.check(len(admin_password()) >= 20, "the admin's password was generated (no default)")
    import urllib.request
    try:
        urllib.request.urlopen("http://%s:%d/login" % (ADDRESS, PORT), timeout=10)
        plain = "answered"
    except Exception as exc:   # pylint: disable=broad-except
        plain = type(exc).__name__
    boxlib.check(plain != "answered", "plain HTTP on %d gets no page (%s)" % (PORT, plain))


def remove_account(d, name):
    """On the accounts page: ``name``'s account removed when it is there; the page freshly loaded after."""
    d.get(BASE + "/accounts")
    buttons = d.find_elements(By.CSS_SELECTOR, 'tr[data-account="%s"] button.danger' % name)
    if buttons:
        buttons[0].click()
        WebDriverWait(d, 30).until(lambda x: not x.find_elements(By.CSS_SELECTOR, 'tr[data-account="%s"]' % name))
        d.get(BASE + "/accounts")


def admin():
    d = as_user("admin")
    nodes = {r.get_attribute("data-node"): r.text for r in d.find_elements(By.CSS_SELECTOR, "#nodes tr[data-node]")}
    expected = sorted(boxlib.node_uris())
    boxlib.check(sorted(nodes) == expected, "the admin sees every node: %s" % sorted(nodes))
    boxlib.check(all("live" in t and "%" in t for t in nodes.values()),
                 "each node is live with its load figures: %s" % list(nodes.values()))
    deadline, width = time.monotonic() + 180, 0
    while time.monotonic() < deadline:   # the master's graphs timer draws every node's graph
        d.get(BASE + "/")
        img = d.find_element(By.CSS_SELECTOR, "img.graph")
        WebDriverWait(d, 20).until(lambda x: x.execute_script("return arguments[0].complete", img))
        width = d.execute_script("return arguments[0].naturalWidth", img)
        if width:
            break
        time.sleep(10)
    boxlib.check(width > 0, "a node's graph image loads (%d px wide)" % width)
    shot("admin-cluster")
    for name in ("carol", "dave"):
        remove_account(d, name)   # left by an earlier run that stopped before its end
        d.find_element(By.ID, "new-name").send_keys(name)
        d.find_element(By.ID, "new-password").send_keys(PASSWORDS[name])
        d.find_element(By.ID, "add").click()
        WebDriverWait(d, 30).until(lambda x: x.find_elements(By.CSS_SELECTOR, 'tr[data-account="%s"]' % name))
    accounts = [r.get_attribute("data-account") for r in d.find_elements(By.CSS_SELECTOR, "tr[data-account]")]
    boxlib.check({"carol", "dave"} <= set(accounts), "the admin added the tenants carol and dave: %s" % accounts)
    shot("admin-accounts")


def carol_key():
    """carol's own key pair (made once in the box's directory): her VM gets its public half."""
    path = os.path.join(boxlib.BOX, "carol_ed25519")
    if not os.path.exists(path):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "carol@console-check", "-f", path],
                       check=True)
    with open(path + ".pub") as handle:
        return path, handle.read().strip()


def create():
    d = as_user("carol")
    d.get(BASE + "/vms/new")
    _private, public = carol_key()
    for field, value in (("vm", VM), ("memory", "384"), ("disk", "4"), ("cpu", "1"), ("ssh_key", public)):
        d.find_element(By.ID, field).clear()
        d.find_element(By.ID, field).send_keys(value)
    d.find_element(By.ID, "submit").click()
    started = time.monotonic()
    status, output = wait_job(d, 900)
    shot("tenant-create-job")
    boxlib.check(status == "successful", "carol's createvm job for %s ended %s in %.0f s%s" % (
        VM, status, time.monotonic() - started, "" if status == "successful" else ": " + output[-1500:]))
    d.get(BASE + "/")
    rows = {r.get_attribute("data-vm"): r for r in d.find_elements(By.CSS_SELECTOR, "#vms tr[data-vm]")}
    ip = rows[VM].find_element(By.CSS_SELECTOR, ".ip").text if VM in rows else ""
    state = rows[VM].find_element(By.CSS_SELECTOR, ".state").text if VM in rows else ""
    boxlib.check(list(rows) == [VM] and state == "running" and ip.startswith("10."),
                 "carol sees only %s, running at %s" % (list(rows), ip))
    shot("tenant-vms")
    private, _public = carol_key()
    answer = ""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and ip:
        res = subprocess.run(["ssh", "-i", private, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                              "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                              "-o", "ConnectTimeout=10", "root@%s" % ip, "hostname"], capture_output=True, text=True,
                             timeout=60, check=False)
        answer = res.stdout.strip()
        if res.returncode == 0:
            break
        time.sleep(3)
    boxlib.check(answer == VM, "carol reaches %s by SSH with her own key: hostname %r" % (ip, answer))
    res = boxlib.ssh_guest(ip, "true")
    boxlib.check(res.returncode != 0, "the cluster's key is not root's key in carol's VM (her key replaced it)")
    with open(STATE, "w") as handle:
        json.dump({"ip": ip}, handle)


def isolation():
    before = boxlib.cluster_state()
    d = as_user("dave")
    d.get(BASE + "/vms/" + VM)
    boxlib.check("not found" in d.find_element(By.ID, "error").text, "dave's page for carol's %s: not found" % VM)
    status, body = api(d, "GET", "/api/vms/" + VM)
    boxlib.check(status == 404 and json.loads(body) == {"error": "not found"}, "dave's API read of %s: 404" % VM)
    for op in ("delete", "shutdown", "snapshot_create"):
        fields = {"operation": op, "vm": VM}
        if op == "snapshot_create":
            fields["snapshot"] = "s1"
        status, body = api(d, "POST", "/api/jobs", fields)
        boxlib.check(status == 404, "dave's %s job for %s: %d %s" % (op, VM, status, body))
    status, body = api(d, "POST", "/api/jobs", {"operation": "migrate", "vm": VM, "to": "node2"})
    boxlib.check(status == 404, "a tenant's migrate (an admin's operation): %d" % status)
    d.get(BASE + "/vms/new")
    d.find_element(By.ID, "vm").send_keys("dave1")
    d.find_element(By.ID, "memory").clear()
    d.find_element(By.ID, "memory").send_keys("16")
    d.find_element(By.ID, "submit").click()
    error = WebDriverWait(d, 30).until(lambda x: x.find_element(By.ID, "error"))
    boxlib.check("memory_mib must be between 128 and 1048576 MiB (got 16)" in error.text,
                 "a bad form value shows the rule's message: %s" % error.text)
    shot("tenant-bad-form")
    d.get(BASE + "/jobs")
    boxlib.check("No jobs yet." in d.page_source, "dave has no job: nothing was queued")
    boxlib.check(boxlib.cluster_state() == before, "the cluster is unchanged (domains, disks, leases, owners, sizes)")


GROW = ("import json, sys, time; sys.path.insert(0, '/opt/cloud1-console/collections'); "
        "from ansible_collections.cloud1.iaas.plugins.module_utils.state.proposals import Store; "
        "s = Store('/var/lib/cloud1/balancer.db'); state, _keys = s.load(); "
        "print(s.record_cycle(state, [json.loads(sys.argv[1])], time.time())[0]['id'])")


def disk_gib():
    node, _state = boxlib.vm_state(VM)
    conn = boxlib.open_node(boxlib.node_uris()[node])
    try:
        return conn.lookupByName(VM).blockInfo("vda")[0] / 1024 ** 3
    finally:
        conn.close()


def proposal():
    d = as_user("carol")
    d.execute_script("window.cloud1Marker = 7")
    node, _state = boxlib.vm_state(VM)
    grow = {"key": "vm:%s:disk:up" % VM, "kind": "grow", "subject": VM, "node": node, "dimension": "disk",
            "owner": "carol", "forced": False, "action": {"vm": VM, "disk_gib": 6},
            "reason": "%s disk 93 %% (a check's proposal)" % VM}
    res = boxlib.ssh_node(MASTER, "/opt/cloud1-console/venv/bin/python -c %s %s"
                          % (shlex.quote(GROW), shlex.quote(json.dumps(grow))))
    pid = res.stdout.strip()
    boxlib.check(res.returncode == 0 and pid.isdigit(), "a pending proposal for %s recorded (#%s) %s" % (
        VM, pid, res.stderr[-300:]))
    try:
        card = WebDriverWait(d, 60).until(
            lambda x: x.find_element(By.CSS_SELECTOR, '.proposal[data-proposal="%s"]' % pid))
        live = d.execute_script("return window.cloud1Marker") == 7
    except Exception:   # pylint: disable=broad-except
        card, live = None, False
    boxlib.check(card is not None and live, "the proposal appeared on carol's open page without a reload")
    shot("tenant-proposal")
    if card is None:
        return
    card.find_element(By.CSS_SELECTOR, 'input[name="limit"]').send_keys("5")
    card.find_element(By.CSS_SELECTOR, "button.approve").click()
    link = WebDriverWait(d, 30).until(lambda x: x.find_element(By.CSS_SELECTOR, "a.job"))
    d.get(link.get_attribute("href"))
    status, output = wait_job(d, 600)
    boxlib.check(status == "successful", "carol's approval ran as a job: %s%s" % (
        status, "" if status == "successful" else ": " + output[-1500:]))
    size = disk_gib()
    boxlib.check(abs(size - 5) < 0.01, "%s's disk grew to carol's limit: %.2f GiB" % (VM, size))


def migrate():
    """The admin moves carol's VM to another node from its page: the job ends with the total time and the
    downtime, the page followed the per cent sent, the VM runs on the chosen node and still answers."""
    source, _state = boxlib.vm_state(VM)
    d = as_user("admin")
    d.get(BASE + "/vms/" + VM)
    target = d.find_element(By.CSS_SELECTOR, 'select[name="to"] option').get_attribute("value")
    d.find_element(By.CSS_SELECTOR, 'button[value="migrate"]').click()
    status, output = wait_job(d, 600)
    try:   # the page's own timer says the move ended within a second or two of the job's end
        WebDriverWait(d, 15).until(lambda x: "total time and downtime" in x.find_element(By.ID, "progress").text)
    except Exception:   # pylint: disable=broad-except
        pass
    shot("admin-migrate-job")
    progress = d.find_element(By.ID, "progress").text
    boxlib.check(status == "successful" and "downtime" in output and "total" in output,
                 "the admin's migrate job ended %s with its total time and downtime: %s" % (
                     status, [ln for ln in output.splitlines() if "downtime" in ln][:1] or output[-800:]))
    boxlib.check("total time and downtime" in progress, "the job page followed the move: %r" % progress)
    node, state = boxlib.vm_state(VM)
    boxlib.check(source != target and node == target and state == "running",
                 "%s moved %s -> %s (%s on %s)" % (VM, source, target, state, node))


def delete():
    try:
        d = as_user("carol")
        d.get(BASE + "/vms/" + VM)
        d.find_element(By.ID, "op-delete").click()
        status, output = wait_job(d, 300)
        why = "" if status == "successful" else ": " + output[-800:]
        boxlib.check(status == "successful" and boxlib.vm_state(VM)[1] == "absent",
                     "carol deleted %s through the console (%s)%s" % (VM, status, why))
        boxlib.check(VM not in [vm for _ip, vm in boxlib.leases()], "its address lease is gone")
    finally:
        accounts_removed()


def accounts_removed():
    d = as_user("admin")
    d.get(BASE + "/accounts")
    for name in ("carol", "dave"):
        remove_account(d, name)
    left = [r.get_attribute("data-account") for r in d.find_elements(By.CSS_SELECTOR, "tr[data-account]")]
    boxlib.check("admin" in left and "carol" not in left and "dave" not in left,
                 "the tenants' accounts are removed: %s left" % left)


if __name__ == "__main__":
    try:
        boxlib.run_phases({"service": service, "admin": admin, "create": create, "isolation": isolation,
                           "proposal": proposal, "migrate": migrate, "delete": delete}, sys.argv[1:])
    finally:
        for drv in _DRIVER:
            drv.quit()
        for path in _PROFILES:
            shutil.rmtree(path, ignore_errors=True)
