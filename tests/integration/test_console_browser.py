# -*- coding: utf-8 -*-
"""The console in a real browser: Debian's Chromium (headless) driven through chromium-driver by Selenium,
against the console served by uvicorn over TLS (a certificate made for the test; Chromium trusts only its key)
in this process, with libvirt's test driver as the node. What a person does: an admin logs in and sees the
node with its load and a graph image that loads; a tenant logs in, sees only its VM, gets the request rule's
message for a bad form (nothing queued), asks for an operation and watches the job's live output to its end.
Screenshots of the pages are kept in build/artifacts/console/ (1280x800)."""

import io
import json
import os
import shutil
import sys
import threading
import time

import pytest

from conftest import COLLECTIONS, REPO, _require_collection, ansible_env

sys.path.insert(0, os.path.join(REPO, "console"))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
sys.path.insert(0, COLLECTIONS)
import uvicorn  # noqa: E402
from PIL import Image  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec_wait  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import chromium  # noqa: E402
from serving import certificate, free_port  # noqa: E402
from cloud1_console.app import create_app  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.state.accounts import Accounts  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.state.proposals import Store  # noqa: E402

ARTIFACTS = os.path.join(REPO, "build", "artifacts", "console")
PLAYBOOKS = os.path.join(COLLECTIONS, "ansible_collections", "cloud1", "iaas", "playbooks")
PASSWORDS = {"ada": "ada-admin-pass-1", "alice": "alice-tenant-pass"}
NEW = dict(uri="test:///default", image_dir="/images", disk_dir="/images", bridge="br0", domain_type="test",
           shutdown_timeout=5, image="debian12.qcow2", vcpus=1, memory_mib=256, io="low", os="debian", state="running")


@pytest.fixture
def served(tmp_path, conn):
    if chromium.missing():
        pytest.fail(chromium.missing())
    _require_collection()
    vm.ensure(dict(NEW, name="web1", owner="alice"), conn=conn)
    vm.ensure(dict(NEW, name="db1", owner="bob"), conn=conn)
    inv = {"all": {"vars": {"cloud1_balancer_db": str(tmp_path / "balancer.db")},
                   "children": {"master": {"hosts": {"localhost": {"ansible_connection": "local",
                                                                   "ansible_python_interpreter": sys.executable}}},
                                "hypervisors": {"hosts": {}}}}}
    (tmp_path / "inv.json").write_text(json.dumps(inv))
    graphs = tmp_path / "graphs"
    graphs.mkdir()
    image = Image.new("RGB", (400, 150), "white")
    for x in range(400):   # a graph-like line: more than one colour
        image.putpixel((x, 75 + int(40 * ((x % 80) / 80.0 - 0.5))), (31, 79, 168))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    (graphs / "node0-cpu_user-3600.png").write_bytes(buf.getvalue())
    env = {k: v for k, v in ansible_env().items() if k.startswith("ANSIBLE_") and k != "ANSIBLE_CONFIG"}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    settings = {"db": str(tmp_path / "console.db"), "nodes": {"node0": "test:///default"}, "playbook_dir": PLAYBOOKS,
                "inventory": str(tmp_path / "inv.json"), "jobs_dir": str(tmp_path / "jobs"), "job_env": env,
                "graphs_dir": str(graphs), "view_ttl": 0, "proposals_db": str(tmp_path / "balancer.db")}
    accounts = Accounts(settings["db"])
    accounts.ensure("ada", time.time(), role="admin", password=PASSWORDS["ada"])
    accounts.ensure("alice", time.time(), role="tenant", password=PASSWORDS["alice"])
    cert, key, spki = certificate(tmp_path)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, ssl_certfile=cert,
                                           ssl_keyfile=key, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started, "uvicorn did not start within 30 s"
    driver = chromium.browser(spki, tmp_path / "chromium")
    try:
        yield driver, "https://127.0.0.1:%d" % port, tmp_path
    finally:
        driver.quit()
        server.should_exit = True
        thread.join(timeout=10)
        shutil.rmtree(tmp_path / "chromium", ignore_errors=True)


def log_in(driver, base, name):
    chromium.log_in(driver, base, name, PASSWORDS[name])


def shot(driver, name):
    assert chromium.shot(driver, ARTIFACTS, name), "the screenshot %s is blank or not 1280x800" % name


def test_an_admin_sees_the_node_with_its_load_and_a_graph_that_loads(served):
    driver, base, _tmp = served
    log_in(driver, base, "ada")
    row = driver.find_element(By.CSS_SELECTOR, 'tr[data-node="node0"]')
    assert "node0" in row.text
    vms = [r.get_attribute("data-vm") for r in driver.find_elements(By.CSS_SELECTOR, "#vms tr[data-vm]")]
    assert {"web1", "db1"} <= set(vms)
    img = driver.find_element(By.CSS_SELECTOR, "img.graph")
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return arguments[0].complete", img))
    assert driver.execute_script("return arguments[0].naturalWidth", img) == 400
    shot(driver, "admin-cluster")


def test_a_tenant_sees_its_vm_gets_the_rules_message_and_watches_a_job(served):
    driver, base, _tmp = served
    log_in(driver, base, "alice")
    vms = [r.get_attribute("data-vm") for r in driver.find_elements(By.CSS_SELECTOR, "#vms tr[data-vm]")]
    assert vms == ["web1"]
    assert not driver.find_elements(By.ID, "nodes")
    shot(driver, "tenant-vms")
    driver.get(base + "/vms/db1")   # bob's VM: as if it did not exist
    assert "not found" in driver.find_element(By.ID, "error").text
    driver.get(base + "/vms/new")
    driver.find_element(By.ID, "vm").send_keys("web2")
    driver.find_element(By.ID, "memory").clear()
    driver.find_element(By.ID, "memory").send_keys("16")
    driver.find_element(By.ID, "submit").click()
    error = WebDriverWait(driver, 30).until(ec_wait.presence_of_element_located((By.ID, "error")))
    assert "memory_mib must be between 128 and 1048576 MiB (got 16)" in error.text
    shot(driver, "tenant-create-refused")
    driver.get(base + "/jobs")
    assert "No jobs yet." in driver.page_source
    driver.get(base + "/vms/web1")
    shot(driver, "tenant-vm")
    driver.find_element(By.ID, "op-reboot").click()
    WebDriverWait(driver, 30).until(ec_wait.presence_of_element_located((By.ID, "output")))
    WebDriverWait(driver, 120).until(lambda d: d.find_element(By.ID, "status").text in ("successful", "failed"))
    assert "PLAY RECAP" in driver.find_element(By.ID, "output").text
    shot(driver, "tenant-job")


def test_a_proposal_appears_in_the_open_page_and_is_approved_in_place(served):
    driver, base, tmp_path = served
    log_in(driver, base, "alice")
    assert "No proposals waiting" in driver.find_element(By.ID, "proposals").text
    marker = driver.execute_script("window.cloud1Marker = 42; return window.cloud1Marker")   # gone on a reload
    grow = {"key": "vm:web1:disk:up", "kind": "grow", "subject": "web1", "node": "node0", "dimension": "disk",
            "owner": "alice", "forced": False, "action": {"vm": "web1", "disk_gib": 6}, "reason": "web1 disk 92 %"}
    store = Store(str(tmp_path / "balancer.db"))
    (proposal,) = store.record_cycle({}, [grow], time.time())
    card = WebDriverWait(driver, 30).until(ec_wait.presence_of_element_located(
        (By.CSS_SELECTOR, '.proposal[data-proposal="%d"]' % proposal["id"])))
    assert "web1 disk 92 %" in card.text
    assert driver.execute_script("return window.cloud1Marker") == marker, "the page was reloaded"
    shot(driver, "tenant-proposal")
    card.find_element(By.CSS_SELECTOR, 'input[name="limit"]').send_keys("5")
    card.find_element(By.CSS_SELECTOR, "button.approve").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, "a.job"))
    deadline = time.monotonic() + 120
    while store.get(proposal["id"])["status"] == "pending" and time.monotonic() < deadline:
        time.sleep(1)
    answered = store.get(proposal["id"])
    assert answered["status"] != "pending" and answered["decided_by"] == "alice", answered
    assert answered["action"]["disk_gib"] == 5   # the owner's limit
    time.sleep(2)   # the page heard that it is no longer pending: its card stays, with the job's link
    assert driver.find_element(By.CSS_SELECTOR, '.proposal.answered[data-proposal="%d"]' % proposal["id"])
    driver.find_element(By.CSS_SELECTOR, "a.job").click()
    WebDriverWait(driver, 120).until(lambda d: d.find_element(By.ID, "status").text in ("successful", "failed"))
