# -*- coding: utf-8 -*-
"""The vm module's core against libvirt's test driver, in process: one connection for a whole test, so
each step sees what the previous one did (lifecycle, check mode, diff, idempotence, rollback)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils import errors
from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import storage  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient  # noqa: E402

from nodes import domain_xml, write_node  # noqa: E402

# The test driver copies a volume only inside one pool, so base images and VM disks share /images here.
BASE = dict(uri="test:///default", image_dir="/images", disk_dir="/images", bridge="br0", domain_type="test",
            shutdown_timeout=5)
NEW = dict(BASE, name="web1", image="debian12.qcow2", vcpus=2, memory_mib=256, owner="alice", io="low",
           os="debian", state="running")


def snapshot(c):
    """Domains (name, state), volumes: what a failed request must leave exactly as it was."""
    doms = sorted((d.name(), d.state()[0]) for d in c.listAllDomains())
    vols = sorted(v.path() for p in c.listAllStoragePools() if p.isActive() for v in p.listAllVolumes())
    return doms, vols


def test_create_check_then_real_then_check_is_unchanged(conn):
    before = snapshot(conn)
    first = vm.ensure(NEW, check_mode=True, conn=conn)
    assert first["changed"] and first["state"] == "running"
    assert first["actions"][0].startswith("create disk /images/web1.qcow2 (linked clone")
    assert first["diff"]["before"] == {"state": "absent"}
    assert snapshot(conn) == before, "check mode changed the node"
    real = vm.ensure(NEW, conn=conn)
    assert real["changed"] and real["state"] == "running"
    assert real["vm"]["disks"] == ["/images/web1.qcow2"]
    # the check run predicted what the real run did
    for key in ("vcpus", "memory_mib", "disks", "mac"):
        assert first["vm"][key] == real["vm"][key]
    again = vm.ensure(NEW, check_mode=True, conn=conn)
    assert not again["changed"] and again["actions"] == [] and "diff" not in again
    assert not vm.ensure(NEW, conn=conn)["changed"]


def test_linked_clone_has_the_base_as_backing_file(conn):
    vm.ensure(NEW, conn=conn)
    client = LibvirtClient("test:///default", conn=conn)
    info = storage.volume_info(storage.find_volume(client, "/images/web1.qcow2"))
    assert info["backing"] == "/images/debian12.qcow2" and info["format"] == "qcow2"


def test_full_copy_and_clone_of_a_stopped_vm(conn):
    vm.ensure(dict(NEW, clone="full"), conn=conn)
    client = LibvirtClient("test:///default", conn=conn)
    assert storage.volume_info(storage.find_volume(client, "/images/web1.qcow2"))["backing"] is None
    with pytest.raises(errors.InvalidInput, match="web1 is running: shut it down first"):
        vm.ensure(dict(BASE, name="web2", source_vm="web1"), conn=conn)
    vm.ensure(dict(BASE, name="web1", state="stopped", force=True), conn=conn)
    before = snapshot(conn)
    with pytest.raises(errors.InvalidInput, match="VM web1 is not bob's"):   # bob cannot copy alice's VM
        vm.ensure(dict(BASE, name="web2", source_vm="web1", clone="full", owner="bob"), conn=conn)
    assert snapshot(conn) == before
    res = vm.ensure(dict(BASE, name="web2", source_vm="web1", clone="full", owner="alice"), conn=conn)
    assert res["vm"]["metadata"]["image"] == "vm:web1"
    assert res["vm"]["metadata"]["owner"] == "alice" and res["vm"]["metadata"]["io"] == "low"  # io inherited


def test_lifecycle_transitions(conn):
    vm.ensure(dict(NEW, state="present"), conn=conn)
    steps = [("present", "shutoff", False), ("running", "running", True), ("running", "running", False),
             ("paused", "paused", True), ("paused", "paused", False), ("running", "running", True),
             ("restarted", "running", True), ("stopped", "shutoff", True), ("stopped", "shutoff", False),
             ("restarted", "running", True), ("paused", "paused", True), ("stopped", "shutoff", True),
             ("absent", "absent", True)]
    # (shutoff -> paused starts the VM paused, a flag the test driver lacks: the box scenario covers it)
    for want, reached, changed in steps:
        res = vm.ensure(dict(BASE, name="web1", state=want), conn=conn)
        assert (res["state"], res["changed"]) == (reached, changed), (want, res["actions"])
        if reached != "absent":
            assert LibvirtClient("test:///default", conn=conn).lookup("web1").state() == reached


def test_destroy_powers_off_at_once(conn):
    vm.ensure(NEW, conn=conn)
    res = vm.ensure(dict(BASE, name="web1", state="stopped", force=True), conn=conn)
    assert res["actions"] == ["power off web1 (destroy)"] and res["state"] == "shutoff"


def test_absent_removes_domain_and_disk_and_is_idempotent(conn):
    before = snapshot(conn)
    vm.ensure(NEW, conn=conn)
    check = vm.ensure(dict(BASE, name="web1", state="absent"), check_mode=True, conn=conn)
    assert check["changed"] and "delete disk /images/web1.qcow2" in check["actions"]
    assert conn.lookupByName("web1").isActive()
    res = vm.ensure(dict(BASE, name="web1", state="absent"), conn=conn)
    assert res["changed"] and res["diff"]["after"] == {"state": "absent"}
    assert snapshot(conn) == before
    assert not vm.ensure(dict(BASE, name="web1", state="absent"), conn=conn)["changed"]


def test_absent_removes_the_serial_console_log(conn, tmp_path, monkeypatch):
    from ansible_collections.cloud1.iaas.plugins.module_utils.core import domain
    monkeypatch.setattr(domain, "SERIAL_LOG_DIR", str(tmp_path))
    made = vm.ensure(NEW, conn=conn)
    log = tmp_path / "web1-serial.log"
    assert made["changed"] and "<log file='%s'" % log in conn.lookupByName("web1").XMLDesc(0)
    log.write_text("web1 login:\n")   # what virtlogd writes on a node
    check = vm.ensure(dict(BASE, name="web1", state="absent"), check_mode=True, conn=conn)
    assert "delete the serial console log %s" % log in check["actions"] and log.exists()
    res = vm.ensure(dict(BASE, name="web1", state="absent"), conn=conn)
    assert "delete the serial console log %s" % log in res["actions"] and not log.exists()


def test_absent_keeps_disks_when_asked(conn):
    vm.ensure(NEW, conn=conn)
    res = vm.ensure(dict(BASE, name="web1", state="absent", keep_disks=True), conn=conn)
    assert res["kept_disks"] == ["/images/web1.qcow2"]
    assert "/images/web1.qcow2" in snapshot(conn)[1]


def test_metadata_round_trip_and_update(conn):
    vm.ensure(NEW, conn=conn)
    client = LibvirtClient("test:///default", conn=conn)
    meta = client.lookup("web1").describe()["metadata"]
    assert {k: meta[k] for k in ("owner", "io", "os", "image")} == {
        "owner": "alice", "io": "low", "os": "debian", "image": "/images/debian12.qcow2"}
    res = vm.ensure(dict(BASE, name="web1", owner="alice", io="high"), conn=conn)
    assert res["changed"] and res["diff"]["after"]["metadata"]["owner"] == "alice"
    assert client.lookup("web1").describe()["metadata"]["io"] == "high"
    assert meta["created"] == client.lookup("web1").describe()["metadata"]["created"]
    # the owner changes only when asked for explicitly (an admin's request: no owner given)
    res = vm.ensure(dict(BASE, name="web1", new_owner="bob"), conn=conn)
    assert res["diff"]["before"]["metadata"]["owner"] == "alice" and res["diff"]["after"]["metadata"]["owner"] == "bob"
    assert not vm.ensure(dict(BASE, name="web1", new_owner="bob"), conn=conn)["changed"]


def test_size_change_goes_to_the_next_boot_config(conn):
    vm.ensure(NEW, conn=conn)
    res = vm.ensure(dict(BASE, name="web1", vcpus=3, memory_mib=384), conn=conn)
    assert res["changed"] and res["actions"][-1].endswith("takes effect at the next boot")
    assert (res["vm"]["vcpus"], res["vm"]["memory_mib"]) == (3, 384)
    assert not vm.ensure(dict(BASE, name="web1", vcpus=3, memory_mib=384), conn=conn)["changed"]


def test_mac_and_uuid_survive_a_rerun(conn):
    vm.ensure(NEW, conn=conn)
    dom = conn.lookupByName("web1")
    uuid, mac = dom.UUIDString(), vm.ensure(NEW, conn=conn)["vm"]["mac"]
    vm.ensure(dict(NEW, state="stopped", force=True), conn=conn)
    vm.ensure(NEW, conn=conn)
    assert conn.lookupByName("web1").UUIDString() == uuid
    assert vm.ensure(NEW, conn=conn)["vm"]["mac"] == mac


BAD = [
    (dict(name="a/b"), "VM name 'a/b' is not valid"),
    (dict(name=".."), "VM name '..' is not valid"),
    (dict(name="web 1"), "is not valid"),
    (dict(name="<x>&'"), "is not valid"),
    (dict(name="$(reboot)"), "is not valid"),
    (dict(name="a" * 300), "(300 characters)"),
    (dict(memory_mib=0), "memory_mib must be between 128"),
    (dict(memory_mib=-512), "memory_mib must be between 128"),
    (dict(vcpus=0), "vcpus must be between 1"),
    (dict(vcpus=-2), "vcpus must be between 1"),
    (dict(vcpus=4096), "vcpus must be between 1 and 256"),
    (dict(image="../../etc/shadow"), "must not contain '..'"),
    (dict(image="/etc/passwd"), "outside the image directory"),
    (dict(image="missing.qcow2"), "base image /images/missing.qcow2 does not exist"),
    (dict(ip="10.77.0.0", prefix=24), "network address"),
    (dict(ip="10.77.0.255", prefix=24), "broadcast address"),
    (dict(ip="10.77.0.300", prefix=24), "not an IPv4 address"),
    (dict(ip="10.77.0.50", prefix=24, gateway="10.88.0.1"), "outside 10.77.0.0/24"),
    (dict(owner="al ice"), "owner 'al ice' is not valid"),
    (dict(topology=dict(sockets=2, cores=2, threads=2)), "= 8 vCPUs, but the vCPU maximum is 2"),
    (dict(disk_gib=1), "smaller than the base image"),
    (dict(uri="test:///nonexistent/node.xml"), "cannot connect to libvirt"),
]


@pytest.mark.parametrize("change,message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_hostile_input_fails_clearly_and_changes_nothing(conn, change, message):
    vm.ensure(dict(NEW, name="keep"), conn=conn)
    before = snapshot(conn)
    with pytest.raises(errors.Cloud1Error) as err:
        vm.ensure(dict(NEW, **change), conn=None if "uri" in change else conn)
    assert message in err.value.message
    assert snapshot(conn) == before


def test_module_through_ansible_check_mode_and_diff(task, tmp_path):
    """The module itself (argument spec, check mode, diff) on a node file of the test driver."""
    uri = write_node(tmp_path, domain_xml("vm1", state=1))
    res = task("cloud1.iaas.vm", {"uri": uri, "name": "vm1", "state": "stopped", "force": True},
               check=True, diff=True)
    assert res["changed"] and res["actions"] == ["power off vm1 (destroy)"], res
    assert res["diff"]["before"]["state"] == "running" and res["diff"]["after"]["state"] == "shutoff"
    res = task("cloud1.iaas.vm", {"uri": uri, "name": "vm1", "state": "running"})
    assert not res["changed"] and res["state"] == "running"
    res = task("cloud1.iaas.vm", {"uri": uri, "name": "../vm1", "state": "running"})
    assert res["failed"] and "is not valid" in res["msg"] and res["error"] == "InvalidInput"
    res = task("cloud1.iaas.vm", {"uri": uri, "name": "vm1", "state": "sideways"})
    assert res["failed"] and "value of state must be one of" in res["msg"]


def test_an_image_that_is_a_vms_disk_is_refused_and_nothing_changes(conn):
    """createexistingvm's img= names a base image, never another VM's disk (a copy of a VM is source_vm)."""
    client = LibvirtClient("test:///default", conn=conn)
    vm.ensure(dict(NEW, state="stopped"), conn=conn)
    before = snapshot(conn)
    with pytest.raises(errors.InvalidInput, match="image /images/web1.qcow2 is the disk of VM web1, not a base image"):
        vm.ensure(dict(NEW, name="web2", image="web1.qcow2", clone="full"), conn=conn)
    assert snapshot(conn) == before
    assert storage.find_volume(client, "/images/web2.qcow2") is None


def test_a_disk_that_backs_another_vms_disk_is_not_deleted(conn):
    """Deleting a VM whose disk is the backing file of a linked copy is refused before anything changes."""
    vm.ensure(dict(NEW, state="stopped"), conn=conn)
    vm.ensure(dict(NEW, name="web2", image=None, source_vm="web1", clone="linked", state="stopped"), conn=conn)
    before = snapshot(conn)
    with pytest.raises(errors.InvalidInput, match="web1's disk /images/web1.qcow2 is the backing file of /images/web2.qcow2"):
        vm.ensure(dict(BASE, name="web1", state="absent"), conn=conn)
    assert snapshot(conn) == before
    vm.ensure(dict(BASE, name="web2", state="absent"), conn=conn)
    assert vm.ensure(dict(BASE, name="web1", state="absent"), conn=conn)["changed"] is True


def test_new_vms_get_the_clean_traffic_filter_unless_asked_not_to(conn):
    first = vm.ensure(dict(NEW, state="stopped"), conn=conn)
    client = LibvirtClient("test:///default", conn=conn)
    assert client.lookup("web1").describe(config=True)["nics"][0]["filter"] == "clean-traffic", first
    vm.ensure(dict(NEW, name="router1", state="stopped", nic_filter="none"), conn=conn)
    assert client.lookup("router1").describe(config=True)["nics"][0]["filter"] is None


def test_host_keys_come_only_through_the_agent(conn, monkeypatch):
    """vm_hostkeys reads keys through qemu-guest-agent only: a guest without one (the test driver's) is refused with
    the reason, a stopped VM and another owner's VM before anything is read; nothing is recorded."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_hostkeys
    monkeypatch.setattr(vm_hostkeys, "LibvirtClient", lambda uri: LibvirtClient(uri, conn=conn))
    vm.ensure(NEW, conn=conn)
    with pytest.raises(errors.OperationFailed, match="cannot read the SSH host keys of web1 within 1 s: "
                                                     "qemu-guest-agent does not answer"):
        vm_hostkeys.ensure(dict(uri="test:///default", name="web1", timeout=1))
    with pytest.raises(errors.InvalidInput, match="is not mallory's"):
        vm_hostkeys.ensure(dict(uri="test:///default", name="web1", owner="mallory", timeout=1))
    vm.ensure(dict(NEW, state="stopped"), conn=conn)
    with pytest.raises(errors.InvalidInput, match="web1 is shutoff: its host keys are read from the running guest"):
        vm_hostkeys.ensure(dict(uri="test:///default", name="web1", timeout=1))
    assert "hostkeys" not in LibvirtClient("test:///default", conn=conn).lookup("web1").describe()["metadata"]


def test_a_guest_that_stops_while_its_keys_are_awaited_fails_the_wait_at_once(conn, monkeypatch):
    """A guest that crashes or powers off during its boot ends vm_hostkeys' wait with its state and where its
    serial console is, not the wait's timeout (createvm reads the keys before it waits for SSH)."""
    import threading
    from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_hostkeys
    monkeypatch.setattr(vm_hostkeys, "LibvirtClient", lambda uri: LibvirtClient(uri, conn=conn))
    vm.ensure(NEW, conn=conn)
    stop = threading.Timer(1.0, lambda: conn.lookupByName("web1").destroy())
    stop.start()
    try:
        with pytest.raises(errors.OperationFailed, match="web1 is shutoff while its host keys were awaited: the "
                                                         "guest stopped during its boot; its serial console "
                                                         r"\(/var/log/libvirt/qemu/web1-serial.log"):
            vm_hostkeys.ensure(dict(uri="test:///default", name="web1", timeout=600))
    finally:
        stop.join()


def test_smbios_settings_for_an_image_that_reads_them(conn, tmp_path):
    """inject=auto hands a new VM's settings to an image with the first-boot marker as SMBIOS strings in its
    definition (the test driver keeps the XML as libvirt would give it to QEMU); without the marker, inject=smbios
    is refused with the reason and nothing is created; the rerun changes nothing."""
    import libvirt
    import xml.etree.ElementTree as ET
    from ansible_collections.cloud1.iaas.plugins.module_utils.core import guestprep
    client = LibvirtClient("test:///default", conn=conn)
    pool = storage.pool_for_dir(client, str(tmp_path))
    pool.createXML("<volume><name>clean.qcow2</name><capacity unit='G'>3</capacity>"
                   "<target><format type='qcow2'/></target></volume>", 0)
    here = dict(NEW, image_dir=str(tmp_path), disk_dir=str(tmp_path), image="clean.qcow2", hostname="web1",
                ssh_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx admin@master", ip="10.77.0.120", prefix=24,
                gateway="10.77.0.1")
    try:
        before = snapshot(conn)
        with pytest.raises(errors.InvalidInput, match="inject=smbios needs a base image whose first boot reads"):
            vm.ensure(dict(here, inject="smbios"), conn=conn)
        assert snapshot(conn) == before
        (tmp_path / ("clean.qcow2" + guestprep.FIRSTBOOT_MARKER)).write_text(guestprep.SMBIOS_PROTOCOL + "\n")
        planned = vm.ensure(here, check_mode=True, conn=conn)
        assert any("at its first boot" in a and "SMBIOS" in a for a in planned["actions"]), planned["actions"]
        res = vm.ensure(here, conn=conn)
        assert res["prepared"]["method"] == "smbios" and res["prepared"]["seconds"]["total"] == 0.0
        root = ET.fromstring(conn.lookupByName("web1").XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        oem = [e.text for e in root.findall("sysinfo/oemStrings/entry")]
        assert oem[0] == "cloud1.v1 id " + root.findtext("uuid")
        assert "cloud1.v1 hosts web1" in oem and any(" /etc/systemd/network/10-eth0.network " in e for e in oem)
        assert root.find("os/smbios").get("mode") == "sysinfo"
        assert not vm.ensure(here, conn=conn)["changed"]
        # a VM created stopped is prepared on its disk (its host keys recorded before it ever boots): here the
        # disk is not on this machine, so that path says so and leaves nothing behind
        with pytest.raises(errors.OperationFailed, match="not visible on this machine"):
            vm.ensure(dict(here, name="web2", state="stopped"), conn=conn)
        assert client.find("web2") is None
    finally:
        for dom in conn.listAllDomains():
            if dom.name() in ("web1", "web2"):
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
        for vol in pool.listAllVolumes():
            vol.delete(0)
        pool.destroy()


def _line_server(line):
    """A TCP server on 127.0.0.1 that sends ``line`` to each connection (a real socket: the wait's read is real);
    returns (port, close)."""
    import socket
    import threading
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                peer, _addr = server.accept()
            except OSError:
                continue
            with peer:
                peer.sendall(line)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def close():
        stop.set()
        thread.join()
        server.close()
    return server.getsockname()[1], close


def test_ssh_wait_returns_the_banner_and_refuses_what_it_cannot_wait_on(conn, monkeypatch):
    """vm_ssh_wait reads sshd's identification line at the VM's address (a real socket here); a VM with no address,
    another owner's VM and a stopped VM are refused before any wait; something that is not sshd is not taken."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_ssh_wait
    monkeypatch.setattr(vm_ssh_wait, "LibvirtClient", lambda uri: LibvirtClient(uri, conn=conn))
    vm.ensure(NEW, conn=conn)
    ask = dict(uri="test:///default", name="web1", ip="127.0.0.1", timeout=3)
    port, close = _line_server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    try:
        res = vm_ssh_wait.ensure(dict(ask, port=port), check_mode=True)
        assert res["banner"] == "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3" and not res["changed"]
        assert (res["ip"], res["port"]) == ("127.0.0.1", port) and res["seconds"] < 3
        with pytest.raises(errors.InvalidInput, match="is not mallory's"):
            vm_ssh_wait.ensure(dict(ask, port=port, owner="mallory"))
    finally:
        close()
    with pytest.raises(errors.InvalidInput, match="web1 has no recorded address: give the address to wait on as ip="):
        vm_ssh_wait.ensure(dict(ask, ip=None))
    with pytest.raises(errors.InvalidInput, match="ip='node1' is not an address"):
        vm_ssh_wait.ensure(dict(ask, ip="node1"))
    port, close = _line_server(b"HTTP/1.1 400 Bad Request\r\n")
    try:
        with pytest.raises(errors.OperationFailed, match=r"web1 does not answer SSH within 3 s: 127.0.0.1:\d+ answers "
                                                         r"'HTTP/1.1 400 Bad Request', not an SSH server"):
            vm_ssh_wait.ensure(dict(ask, port=port))
    finally:
        close()
    client = LibvirtClient("test:///default", conn=conn)
    meta = dict(client.lookup("web1").describe()["metadata"], ip="10.77.0.120")
    client.lookup("web1").set_metadata(meta)
    with pytest.raises(errors.InvalidInput, match="web1's address is 10.77.0.120, not 127.0.0.1: leave ip= out"):
        vm_ssh_wait.ensure(dict(ask, port=22))   # the node connects to the VM's own address only
    vm.ensure(dict(NEW, state="stopped"), conn=conn)
    with pytest.raises(errors.InvalidInput, match="web1 is shutoff: sshd is awaited on a running guest"):
        vm_ssh_wait.ensure(dict(ask, ip=None, port=22))


def test_a_guest_that_stops_while_its_ssh_is_awaited_fails_the_wait_at_once(conn, monkeypatch):
    """With nothing answering at its address, a guest that stops ends the wait with its state and its serial log,
    well before the timeout (a wait from the controller could not tell it from a slow boot)."""
    import socket
    import threading
    import time
    from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_ssh_wait
    monkeypatch.setattr(vm_ssh_wait, "LibvirtClient", lambda uri: LibvirtClient(uri, conn=conn))
    vm.ensure(NEW, conn=conn)
    with socket.socket() as free:   # a port nothing listens on: every try is refused
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    stop = threading.Timer(1.0, lambda: conn.lookupByName("web1").destroy())
    stop.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(errors.OperationFailed, match=r"web1 is shutoff while its SSH was awaited at 127.0.0.1:\d+: "
                                                         r"the guest stopped during its boot; its serial console "
                                                         r"\(/var/log/libvirt/qemu/web1-serial.log"):
            vm_ssh_wait.ensure(dict(uri="test:///default", name="web1", ip="127.0.0.1", port=port, timeout=600))
    finally:
        stop.join()
    assert time.monotonic() - t0 < 30
