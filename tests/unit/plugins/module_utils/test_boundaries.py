# -*- coding: utf-8 -*-
"""The tree shows the boundary between deciding and touching machines, and these tests hold it:

- ``core/`` imports neither ansible nor libvirt and runs no process (nor reaches for sockets or SQLite);
- only ``virt/`` imports libvirt (or libvirt_qemu) or runs host tools (subprocess);
- nothing outside the client reaches into a libvirt connection or domain (``._call``, ``.conn``, ``._dom``).
"""

from __future__ import annotations

import ast
import os
import re

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils import errors

ROOT = os.path.dirname(errors.__file__)   # plugins/module_utils (a namespace package: no __file__ of its own)
PLUGINS = os.path.dirname(ROOT)
FORBIDDEN_IN_CORE = ("ansible", "libvirt", "libvirt_qemu", "subprocess", "socket", "sqlite3", "multiprocessing",
                     "threading")
VIRT_ONLY = ("libvirt", "libvirt_qemu", "subprocess")


def python_files(*parts):
    top = os.path.join(*parts)
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def imports(path):
    """Top-level module names a file imports (``from x.y import z`` -> ``x``, ``import a.b`` -> ``a``), and the
    full dotted names, so ``ansible_collections.cloud1...`` is told apart from ``ansible``."""
    tree = ast.parse(open(path).read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__" and node.args and \
                isinstance(node.args[0], ast.Constant):
            found.add(node.args[0].value)
    return found


def top(name):
    return name.split(".", 1)[0]


CORE_FILES = sorted(python_files(ROOT, "core"))


def test_core_has_the_decision_code():
    names = {os.path.basename(p) for p in CORE_FILES}
    assert {"vmspec.py", "placement.py", "scaling.py", "migration.py", "rotation.py", "domain.py", "cluster.py",
            "rules.py", "lifecycle.py"} <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=os.path.basename)
def test_core_is_pure(path):
    bad = sorted(name for name in imports(path) if top(name) in FORBIDDEN_IN_CORE)
    assert not bad, "%s imports %s: core/ decides, it touches no machine" % (os.path.relpath(path, ROOT), bad)
    text = open(path).read()
    for call in ("os.system(", "os.popen(", "open(", "os.exec"):
        assert call not in text, "%s calls %s" % (os.path.relpath(path, ROOT), call)


@pytest.mark.parametrize("path", sorted(set(python_files(PLUGINS)) - set(python_files(ROOT, "virt"))),
                         ids=lambda p: os.path.relpath(p, PLUGINS))
def test_only_virt_touches_libvirt_and_runs_tools(path):
    bad = sorted(name for name in imports(path) if top(name) in VIRT_ONLY)
    assert not bad, "%s imports %s: only module_utils/virt may" % (os.path.relpath(path, PLUGINS), bad)


@pytest.mark.parametrize("path", sorted(set(python_files(PLUGINS)) - {os.path.join(ROOT, "virt", "client.py")}),
                         ids=lambda p: os.path.relpath(p, PLUGINS))
def test_nothing_reaches_into_the_client(path):
    text = open(path).read()
    for private in (r"\._call\(", r"\.conn\b", r"\._conn\b", r"\._dom\b"):
        found = re.search(private, text)
        assert not found, "%s uses %s: use the client's public API" % (os.path.relpath(path, PLUGINS), found.group(0))


def test_the_scan_sees_a_forbidden_import(tmp_path):
    """The scan itself works: a file importing libvirt and ansible is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("import libvirt\nfrom ansible.module_utils.basic import AnsibleModule\nx = __import__('subprocess')\n")
    assert {top(n) for n in imports(str(bad))} >= {"libvirt", "ansible", "subprocess"}
