# -*- coding: utf-8 -*-
"""The place_batch filter through ansible-playbook on what node_info read from two test-driver nodes (each a
libvirt test:/// node file with its own domains): the batch's plan, and a bad batch refused by name."""

import json
import os
import subprocess
import sys
import textwrap

from conftest import _require_collection, ansible_env
from nodes import domain_xml, write_node

PLAY = textwrap.dedent("""\
    - hosts: hypervisors
      gather_facts: false
      tasks:
        - cloud1.iaas.node_info:
            uri: "{{ uri }}"
          register: cloud1_node
        # the test driver's hosts are i686; the VMs (as createvm asks) x86_64: the rest as node_info read it
        - ansible.builtin.set_fact:
            facts_x86: "{{ cloud1_node | combine({'arch': 'x86_64'}) }}"
    - hosts: localhost
      gather_facts: false
      tasks:
        - ansible.builtin.copy:
            content: >-
              {{ hostvars | cloud1.iaas.place_batch(groups['hypervisors'], vms=batch, var='facts_x86') | to_json }}
            dest: "{{ out }}"
    """)


def plan(tmp_path, uris, batch):
    _require_collection()
    inv = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}},
                   "children": {"hypervisors": {"hosts": {n: {"ansible_connection": "local", "uri": u}
                                                          for n, u in uris.items()}}}}}
    (tmp_path / "inv.json").write_text(json.dumps(inv))
    (tmp_path / "play.yml").write_text(PLAY)
    out = tmp_path / "plan.json"
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(tmp_path / "inv.json"),
           "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", json.dumps({"batch": batch, "out": str(out)}),
           str(tmp_path / "play.yml")]
    res = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=120, check=False)
    return res, (json.loads(out.read_text()) if out.exists() else None)


def nodes(tmp_path):
    uris = {}
    for name, doms in (("node1", [domain_xml("busy1", vcpus=8, memory_mib=4096)]), ("node2", [])):
        (tmp_path / name).mkdir(exist_ok=True)
        uris[name] = write_node(tmp_path / name, *doms)   # 4 CPUs, 8 GiB each
    return uris


def test_a_batch_is_planned_together_on_the_nodes_node_info_read(tmp_path):
    batch = [{"vm": "small%d" % i, "cpu": 1, "memory": 256} for i in range(3)] + [{"vm": "big", "cpu": 4, "memory": 3072}]
    res, got = plan(tmp_path, nodes(tmp_path), batch)
    assert res.returncode == 0, res.stdout + res.stderr
    # the big VM first, to the empty node2; node1 (8 vCPUs and 4 GiB of 7 usable allocated) takes the small ones
    # only while its peak stays below node2's
    assert got["placement"]["big"] == "node2" and got["unplaced"] == []
    assert set(got["placement"]) == {"big", "small0", "small1", "small2"}
    big = got["decisions"]["big"]
    assert big["reasons"]["node2"][0].startswith("placed with the batch: the lowest peak after placement")
    assert set(big["scores"]) == {"node1", "node2"}


def test_a_bad_batch_is_refused_by_name_and_nothing_is_planned(tmp_path):
    res, got = plan(tmp_path, nodes(tmp_path), [{"vm": "a", "cpu": 1}, {"vm": "a", "cpu": 2}])
    assert res.returncode != 0 and got is None
    assert "the batch cannot be placed: a is asked for twice in the batch" in res.stdout
    res, got = plan(tmp_path, nodes(tmp_path), [{"vm": "b", "cpu": 0}])
    assert res.returncode != 0 and got is None and "b: at least 1 vCPU" in res.stdout
