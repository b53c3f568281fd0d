# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a scaling request means for one VM: which changes go live, which wait for the next boot, and
which are refused. Pure Python (no libvirt, no Ansible): the ``vm_scale`` executor and the playbooks'
``scale_request`` filter share it (a threshold policy, when it lands, is to plan with it too).

A VM is described by two views: ``config`` (the persistent definition, what the next boot uses) and
``live`` (the running domain, None when it is not running), each with vcpus, max_vcpus, topology,
memory_mib and max_memory_mib. A step is a dict: what (vcpus, max_vcpus, topology, memory, max_memory,
disk), value, scope (``live``: now and in the definition; ``config``: the definition only, at the next
boot; ``offline``: the stopped VM's image) and why.
"""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import rules
from ansible_collections.cloud1.iaas.plugins.module_utils.core.vmspec import (
    MAX_DISK_GIB,
    MAX_MEMORY_MIB,
    MAX_VCPUS,
    MIN_MEMORY_MIB,
    check_name,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

GIB = 1024 ** 3


def _number(params, key, low, high):
    return rules.whole(params.get(key), key, low, high)


def validate(params):
    """The request's numbers, checked; raises InvalidInput before anything is touched."""
    req = {
        "name": check_name(params.get("name")),
        "vcpus": _number(params, "vcpus", 1, MAX_VCPUS),
        "max_vcpus": _number(params, "max_vcpus", 1, MAX_VCPUS),
        "memory_mib": _number(params, "memory_mib", MIN_MEMORY_MIB, MAX_MEMORY_MIB),
        "max_memory_mib": _number(params, "max_memory_mib", MIN_MEMORY_MIB, MAX_MEMORY_MIB),
        "disk_gib": _number(params, "disk_gib", 1, MAX_DISK_GIB),
        "topology": None,
    }
    req["topology"] = rules.topology(params.get("topology"))   # its product is checked against the maximum in the plan
    if req["vcpus"] and req["max_vcpus"] and req["vcpus"] > req["max_vcpus"]:
        raise InvalidInput("vcpus %d is above max_vcpus %d: raise max_vcpus or ask for fewer vCPUs"
                           % (req["vcpus"], req["max_vcpus"]))
    if req["memory_mib"] and req["max_memory_mib"] and req["memory_mib"] > req["max_memory_mib"]:
        raise InvalidInput("memory_mib %d is above max_memory_mib %d: raise max_memory_mib or ask for less"
                           % (req["memory_mib"], req["max_memory_mib"]))
    if not any(req[k] for k in ("vcpus", "max_vcpus", "memory_mib", "max_memory_mib", "disk_gib", "topology")):
        raise InvalidInput("nothing to scale: give vcpus, max_vcpus, topology, memory_mib, max_memory_mib or disk_gib")
    return req


def _same_topology(a, b):
    keys = ("sockets", "cores", "threads")
    return bool(a) and bool(b) and all(int(a.get(k, 1)) == int(b.get(k, 1)) for k in keys)


def _why_config(live, target, max_key, limit):
    if live is None:
        return "the VM is not running"
    if target > live[max_key]:
        return "above " + limit
    return "the running VM already has it; its definition did not"


def _count_step(what, target, config_value, live_value, live, max_key, unit, live_why):
    """The step setting a count (vCPUs, memory): live when the VM runs, the count differs from ``live_value`` and
    stays within the running maximum; otherwise in the definition when it differs from ``config_value``."""
    running_max = (live or {}).get(max_key, 0)
    if live is not None and target != live_value and target <= running_max:
        return [{"what": what, "value": target, "scope": "live", "why": live_why % running_max}]
    if target != config_value:
        return [{"what": what, "value": target, "scope": "config",
                 "why": _why_config(live, target, max_key, "the running maximum of %d%s" % (running_max, unit))}]
    return []


def plan_vcpus(req, config, live):
    """Steps for the vCPU count, its maximum and the topology."""
    steps = []
    want, topo = req["vcpus"], req["topology"]
    new_max = req["max_vcpus"] or config["max_vcpus"]
    if topo:
        product = rules.topology_product(topo)
        if req["max_vcpus"]:
            rules.topology(topo, req["max_vcpus"])
        new_max = product
    if want and want > new_max:
        if topo or req["max_vcpus"]:
            raise InvalidInput("vcpus %d is above the maximum %d the request sets: raise it or ask for fewer"
                               % (want, new_max))
        new_max = want
    target = want or min(config["vcpus"], new_max)
    if new_max != config["max_vcpus"]:
        steps.append({"what": "max_vcpus", "value": new_max, "scope": "config",
                      "why": "a domain's vCPU maximum is fixed while it runs"})
    if topo and not _same_topology(topo, config.get("topology")):
        steps.append({"what": "topology", "value": topo, "scope": "config",
                      "why": "the CPU topology is fixed while the domain runs"})
    elif not topo and new_max != config["max_vcpus"] and config.get("topology"):
        try:
            rules.topology(config["topology"], new_max)
        except InvalidInput:
            raise InvalidInput("the VM's topology %s does not fit %d vCPUs: give a topology whose sockets x cores x "
                               "threads is %d" % (rules.topology_text(config["topology"]), new_max, new_max))
    return steps + _count_step("vcpus", target, config["vcpus"], (live or {}).get("vcpus"), live, "max_vcpus", "",
                               "within the running maximum of %d")


def plan_memory(req, config, live):
    """Steps for the memory (balloon) and its maximum."""
    steps = []
    want = req["memory_mib"]
    new_max = req["max_memory_mib"] or config["max_memory_mib"]
    if want and want > new_max:
        if req["max_memory_mib"]:
            raise InvalidInput("memory_mib %d is above max_memory_mib %d" % (want, new_max))
        new_max = want
    target = want or min(config["memory_mib"], new_max)
    if new_max != config["max_memory_mib"]:
        steps.append({"what": "max_memory", "value": new_max, "scope": "config",
                      "why": "the memory maximum is fixed while the domain runs"})
    # the running figure is the balloon's actual size, which trails (or never quite reaches) its target:
    # the definition's figure says what was asked, so a rerun does not move the balloon again
    return steps + _count_step("memory", target, config["memory_mib"], config["memory_mib"], live, "max_memory_mib",
                               " MiB", "the balloon moves within the running maximum of %d MiB")


def plan_disk(req, capacity, running):
    """The step growing the disk to ``disk_gib``; refuses shrinking (the root filesystem is xfs)."""
    want = req["disk_gib"]
    if not want:
        return []
    wanted = want * GIB
    if wanted < capacity:
        raise InvalidInput(
            "disk_gib %d is smaller than the disk of %s (%s GiB): shrinking is refused because the root filesystem "
            "(xfs) cannot shrink and cutting the image would destroy what lies at its end; nothing was changed"
            % (want, req["name"], gib_text(capacity)))
    if wanted == capacity:
        return []
    return [{"what": "disk", "value": wanted, "scope": "live" if running else "offline",
             "why": ("block resize of the running disk, then the partition, PV and LV inside the guest" if running
                     else "resize of the stopped VM's image; the guest grows its root at the next boot")}]


def plan(req, config, live, capacity):
    """Every step for ``req`` (validated) against the VM's views, refusals first."""
    disk = plan_disk(req, capacity, live is not None)
    return plan_vcpus(req, config, live) + plan_memory(req, config, live) + disk


def summary(steps):
    """What happens to each resource: live, next boot, online, offline or unchanged."""
    out = {"vcpus": "unchanged", "memory": "unchanged", "disk": "unchanged"}
    for step in steps:
        key = {"vcpus": "vcpus", "max_vcpus": "vcpus", "topology": "vcpus", "memory": "memory",
               "max_memory": "memory", "disk": "disk"}[step["what"]]
        scope = {"live": "online" if key == "disk" else "live", "config": "next boot", "offline": "offline"}[step["scope"]]
        if out[key] in ("unchanged", "live"):
            out[key] = scope
    return out


def cpu_count(cpulist):
    """How many CPUs a Linux CPU list names ("0-2,4" -> 4)."""
    count = 0
    for part in str(cpulist or "").split(","):
        part = part.strip()
        if not part:
            continue
        low, _sep, high = part.partition("-")
        count += int(high or low) - int(low) + 1
    return count


def gib_text(size):
    return ("%.2f" % (size / GIB)).rstrip("0").rstrip(".")


def describe_step(name, step):
    """One line for the module's ``actions``."""
    value, what = step["value"], step["what"]
    if what == "topology":
        text = "set the CPU topology of %s to %s" % (name, rules.topology_text(value))
    elif what == "disk":
        text = "grow the disk of %s to %s GiB" % (name, gib_text(value))
    else:
        text = {"vcpus": "set vCPUs of %s to %s", "max_vcpus": "set the vCPU maximum of %s to %s",
                "memory": "set memory of %s to %s MiB", "max_memory": "set the memory maximum of %s to %s MiB",
                }[what] % (name, value)
    when = {"live": " (live)", "config": " (next boot)", "offline": " (offline)"}[step["scope"]]
    if step["what"] == "disk" and step["scope"] == "live":
        when = " (online)"
    return "%s%s: %s" % (text, when, step["why"])


DIRECTIONS = ("up", "down", "any")
RESOURCES = {"cpu": "vcpus", "memory": "memory_mib", "disk": "disk_gib"}


def current_sizes(vm):
    """vCPUs, memory (MiB) and first disk size (GiB, rounded up) of a VM as vm_info reports it."""
    disks = [d for d in vm.get("disks") or [] if d.get("device") == "disk" and d.get("capacity")]
    return {"vcpus": vm["vcpus"], "memory_mib": vm["memory_mib"],
            "disk_gib": -(-disks[0]["capacity"] // GIB) if disks else None}


def scale_request(request, vm):
    """The targets of a playbook's scaling request (scaleup/scaledown/changecpu/changememory).

    ``request``: name, direction (up, down, any), cpu, memory (MiB), disk (GiB, the new size), size with
    resource (the seed's form: ``scaleup vm size`` adds ``size`` GiB to the disk; ``changecpuvm vm size`` and
    ``changememoryvm vm size`` set the count/MiB), max_cpu and max_memory (the maxima, next boot). ``vm``: the VM as vm_info reports it. Returns the
    vm_scale arguments {name, vcpus, max_vcpus, memory_mib, max_memory_mib, disk_gib}; refuses a direction the values contradict."""
    direction = request.get("direction") or "any"
    rules.choice(direction, "direction", DIRECTIONS)
    current = current_sizes(vm)
    wanted = {"vcpus": request.get("cpu"), "memory_mib": request.get("memory"), "disk_gib": request.get("disk")}
    size, resource = request.get("size"), request.get("resource")
    if size not in (None, ""):
        if resource not in RESOURCES:
            raise InvalidInput("size needs a resource (cpu, memory or disk), not %r" % (resource,))
        key = RESOURCES[resource]
        size = rules.whole(size, "size")
        if key == "disk_gib":   # the seed's scaleup: qemu-img resize +<size>G
            if size < 1:
                raise InvalidInput("size %d: the disk grows by at least 1 GiB" % size)
            wanted[key] = (current["disk_gib"] or 0) + size
        else:
            wanted[key] = size
    wanted = {k: (None if v in (None, "") else v) for k, v in wanted.items()}
    if direction == "down" and wanted["disk_gib"] is not None:
        raise InvalidInput("scaledown cannot shrink the disk of %s: the root filesystem is xfs, which cannot shrink; "
                           "nothing was changed (scale down vCPUs or memory)" % request.get("name"))
    limits = {"max_vcpus": request.get("max_cpu"), "max_memory_mib": request.get("max_memory")}
    req = validate(dict(name=request.get("name"), **dict(wanted, **{k: (None if v in (None, "") else v)
                                                                    for k, v in limits.items()})))
    for key, label in (("vcpus", "vCPUs"), ("memory_mib", "memory (MiB)"), ("disk_gib", "disk (GiB)")):
        new, old = req[key], current[key]
        if new is None or old is None:
            continue
        if direction == "up" and new < old:
            raise InvalidInput("scaleup cannot lower the %s of %s from %d to %d: use scaledown.yml"
                               % (label, req["name"], old, new))
        if direction == "down" and new > old:
            raise InvalidInput("scaledown cannot raise the %s of %s from %d to %d: use scaleup.yml"
                               % (label, req["name"], old, new))
    return {key: req[key] for key in ("name", "vcpus", "max_vcpus", "memory_mib", "max_memory_mib", "disk_gib")}
