# -*- coding: utf-8 -*-
"""Helpers of the test-driver tier: run the installed collection's modules through ansible-playbook
against libvirt's in-process test driver (test:///...), and read their results as JSON."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COLLECTIONS = os.path.join(REPO, "build", "collections")


def _require_collection():
    path = os.path.join(COLLECTIONS, "ansible_collections", "cloud1", "iaas", "MANIFEST.json")
    if not os.path.exists(path):
        pytest.fail("the collection is not installed in %s: run `make collection` first" % COLLECTIONS)


def ansible_env():
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_NOCOLOR": "1",
    })
    return env


def run_task(tmp_path, module, args, check=False, diff=False, python=None, env=None):
    """Run one module task on localhost; return its result dict."""
    _require_collection()
    play = textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: under test
              {module}: {args}
              register: result
              ignore_errors: true
            - name: hand the result to the test
              ansible.builtin.copy:
                content: "{{{{ result | to_json }}}}"
                dest: "{dest}"
              check_mode: false
        """).format(module=module, args=json.dumps(args), dest=tmp_path / "result.json")
    pb = tmp_path / "play.yml"
    pb.write_text(play)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % (python or sys.executable), str(pb)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    res = subprocess.run(cmd, env=dict(ansible_env(), **(env or {})), capture_output=True, text=True, timeout=120, check=False)
    try:
        return json.loads((tmp_path / "result.json").read_text())
    except (OSError, ValueError):
        pytest.fail("ansible-playbook gave no result (rc=%d):\n%s\n%s" % (res.returncode, res.stdout, res.stderr))


@pytest.fixture
def task(tmp_path):
    def _run(module, args, **kw):
        return run_task(tmp_path, module, args, **kw)
    return _run


@pytest.fixture
def conn():
    """A test:///default connection with a /images pool holding a 3 GiB base image; cleaned up after."""
    import libvirt
    from ansible_collections.cloud1.iaas.plugins.module_utils.virt import storage
    from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient

    c = libvirt.open("test:///default")
    client = LibvirtClient("test:///default", conn=c)
    pool = storage.pool_for_dir(client, "/images")
    pool.createXML("<volume><name>debian12.qcow2</name><capacity unit='G'>3</capacity>"
                   "<target><format type='qcow2'/></target></volume>", 0)
    yield c
    # test:///default is shared by every connection of this process while any object refers to it:
    # leave it as the next test expects (only the driver's own domain "test", no /images pool)
    for dom in c.listAllDomains():
        if dom.name() != "test":
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    for vol in pool.listAllVolumes():
        vol.delete(0)
    pool.destroy()
    c.close()
