# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The balancer role's filters, and its loop's pins against the project's own."""
from __future__ import annotations

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.cloud1.iaas.plugins.filter.balancer import FilterModule

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def test_settings_pass_through_when_the_policy_accepts_them():
    f = FilterModule().filters()["balancer_settings"]
    assert f({"wait": 90, "high": 30, "at_once": 80, "forced": 90, "reset_high": 20}) == {
        "wait": 90, "high": 30, "at_once": 80, "forced": 90, "reset_high": 20}
    assert f(None) == {}
    with pytest.raises(AnsibleFilterError, match="unknown balancer setting.*wiat.*the settings are"):
        f({"wiat": 90})
    with pytest.raises(AnsibleFilterError, match="levels must rise"):
        f({"high": 99})


def test_master_inventory_refuses_what_is_not_an_inventory():
    f = FilterModule().filters()["master_inventory"]
    assert f({"all": {"vars": {"ansible_ssh_pass": "x", "a": 1}}}, {"b": 2}) == {"all": {"vars": {"a": 1, "b": 2}}}
    with pytest.raises(AnsibleFilterError, match="not an inventory tree"):
        f(["node0"])


def test_the_loop_is_pinned_as_the_project_is():
    with open(os.path.join(ROOT, "roles", "balancer", "defaults", "main.yml")) as handle:
        pins = yaml.safe_load(handle)["balancer_python_packages"]
    with open(os.path.join(ROOT, "requirements.txt")) as handle:
        project = {line.split("==")[0].lower(): line.strip() for line in handle if "==" in line}
    assert pins and all(project.get(p.split("==")[0].lower()) == p for p in pins), (pins, project)
