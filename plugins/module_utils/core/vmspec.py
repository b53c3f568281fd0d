# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM request, validated before anything on the cluster is touched.

Pure Python (netaddr only): the ``vm`` module, the ``vm_request`` filter used by createvm.yml and the
tests share one set of rules, so a bad request fails the same way wherever it enters, with a message
that says what to fix, and nothing is created.
"""

from __future__ import annotations

import os
import re

from ansible_collections.cloud1.iaas.plugins.module_utils.core import rules
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestprep import DEFAULT_INJECTION, INJECTIONS
from ansible_collections.cloud1.iaas.plugins.module_utils.core.rules import MAX_VCPUS, shown
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

STATES = ("present", "running", "stopped", "paused", "restarted", "absent")
DEFAULT_STATE = "running"
OS_FAMILIES = ("debian", "rhel")
IO_CLASSES = ("low", "medium", "high")
NETWORK_CONFIGS = ("networkd", "ifupdown", "ifcfg", "nmkeyfile")
DEFAULT_NETWORK_CONFIG = {"debian": "networkd", "rhel": "nmkeyfile"}
CLONE_MODES = ("linked", "full")
DEFAULT_CLONE = "linked"
DOMAIN_TYPES = ("auto", "kvm", "qemu", "test")   # test: libvirt's test driver (the test-driver tier)
DEFAULT_DOMAIN_TYPE = "auto"   # kvm where the node offers it, else qemu
DEFAULT_IMAGE_DIR = "/var/lib/cloud1/images/base"

MIN_MEMORY_MIB = 128
MAX_MEMORY_MIB = 1024 * 1024
MAX_DISK_GIB = 4096

# a DNS label: the VM's name is also its disk's file name and, by default, its hostname
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_OWNER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_SSH_KEY = re.compile(r"^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( [^\r\n]*)?$")


def check_name(name, what="VM name"):
    if name in (None, ""):
        raise InvalidInput("a %s is required" % what)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(
            "%s %s is not valid: use 1-63 letters, digits and '-', starting and ending with a letter or "
            "digit (no '/', '..', spaces or other characters: it becomes a file name and a hostname)"
            % (what, shown(name)))
    return name


def check_not_a_node(name, nodes):
    """A new VM may not take a node's name: Ganglia would keep the VM's metrics under the node's name (and its
    RRDs), so placement and the balancer would read the VM's load as the node's; the console would mix them."""
    if name in set(nodes or ()):
        raise InvalidInput("VM name %s is the name of a node of the cluster: Ganglia and the console would take "
                           "the VM for the node; choose another name; nothing was changed" % shown(name))
    return name


def check_owner(owner):
    if owner in (None, ""):
        return None
    if not isinstance(owner, str) or not _OWNER.fullmatch(owner):
        raise InvalidInput("owner %s is not valid: use 1-32 letters, digits and '_', starting with a letter"
                           % shown(owner))
    return owner


def check_hostname(hostname):
    if hostname in (None, ""):
        return None
    labels = str(hostname).split(".")
    if len(str(hostname)) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidInput("hostname %s is not valid: dot-separated labels of letters, digits and '-'"
                           % shown(hostname))
    return str(hostname)


def _int(params, key, low, high, unit=""):
    return rules.whole(params.get(key), key, low, high, unit)


def _ip(text, what):
    import netaddr
    try:
        return netaddr.IPAddress(str(text), version=4)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise InvalidInput("%s %s is not an IPv4 address" % (what, shown(text)))


def check_address(ip, prefix, gateway=None, dns=(), subnet=None):
    """Static address with prefix, gateway and DNS servers: consistent with each other (and inside
    ``subnet`` when one is given)."""
    import netaddr
    if ip in (None, ""):
        return None
    addr = _ip(str(ip).split("/", maxsplit=1)[0], "ip")
    if subnet:
        net = netaddr.IPNetwork(str(subnet))
        if addr not in net:
            raise InvalidInput("ip %s is outside the subnet %s: pick an address inside it (getips.yml lists "
                               "free ones)" % (addr, net.cidr))
    if "/" in str(ip) and prefix is None:
        prefix = str(ip).split("/", 1)[1]
    if prefix is None:
        raise InvalidInput("ip %s needs a prefix length (e.g. prefix=24)" % addr)
    prefix = _int({"prefix": prefix}, "prefix", 1, 32)
    net = netaddr.IPNetwork("%s/%d" % (addr, prefix))
    if prefix < 31 and addr in (net.network, net.broadcast):
        raise InvalidInput("%s is the %s address of %s, not a host address: choose one inside the range" % (
            addr, "network" if addr == net.network else "broadcast", net.cidr))
    out = {"ip": str(addr), "prefix": prefix, "gateway": None, "dns": []}
    if gateway not in (None, ""):
        gw = _ip(gateway, "gateway")
        if gw not in net:
            raise InvalidInput("gateway %s is outside %s: the guest could not reach it" % (gw, net.cidr))
        if gw == addr:
            raise InvalidInput("gateway %s is the VM's own address" % gw)
        out["gateway"] = str(gw)
    out["dns"] = [str(_ip(server, "dns server")) for server in (dns or [])]
    return out


def check_ssh_key(key):
    if key in (None, ""):
        return None
    key = str(key).strip()
    if not _SSH_KEY.fullmatch(key):
        raise InvalidInput("ssh_key is not one OpenSSH public key line (type, base64 blob, optional comment)")
    return key


def check_image(image, image_dir):
    """The base image: a file under ``image_dir`` (a name relative to it, or an absolute path inside it).

    Lexical check here (no '..', no escape from the directory); the module checks again after resolving
    symbolic links on the node and that libvirt knows the file as a volume."""
    if image in (None, ""):
        return None
    image = str(image)
    if "\x00" in image or "\n" in image:
        raise InvalidInput("image %s contains control characters" % shown(image))
    if ".." in image.split("/"):
        raise InvalidInput("image %s must not contain '..': name a file inside %s" % (shown(image), image_dir))
    base = os.path.normpath(image_dir)
    path = os.path.normpath(os.path.join(base, image))
    if not path.startswith(base.rstrip("/") + "/"):
        raise InvalidInput("image %s lies outside the image directory %s: name a file inside it"
                           % (shown(image), base))
    return path


def _choice(params, key, choices, default=None):
    return rules.choice(params.get(key), key, choices, default)


def validate(params):
    """Check a VM request; return it normalised (ints as ints, image as a path, address as a dict).

    Only keys that are present are checked, so the same rules serve a full createvm request and a
    lifecycle command that names just the VM and a state."""
    spec = {"name": check_name(params.get("name"))}
    spec["state"] = _choice(params, "state", STATES, DEFAULT_STATE)
    spec["owner"] = check_owner(params.get("owner"))
    spec["new_owner"] = check_owner(params.get("new_owner"))
    spec["io"] = _choice(params, "io", IO_CLASSES)
    spec["os"] = _choice(params, "os", OS_FAMILIES)
    spec["network_config"] = _choice(params, "network_config", NETWORK_CONFIGS)
    spec["clone"] = _choice(params, "clone", CLONE_MODES, DEFAULT_CLONE)
    spec["inject"] = _choice(params, "inject", INJECTIONS, DEFAULT_INJECTION)
    spec["vcpus"] = _int(params, "vcpus", 1, MAX_VCPUS)
    spec["max_vcpus"] = _int(params, "max_vcpus", 1, MAX_VCPUS)
    if spec["vcpus"] and spec["max_vcpus"] and spec["max_vcpus"] < spec["vcpus"]:
        raise InvalidInput("max_vcpus %d is below vcpus %d" % (spec["max_vcpus"], spec["vcpus"]))
    spec["topology"] = rules.topology(params.get("topology"), spec["max_vcpus"] or spec["vcpus"] or 1)
    spec["memory_mib"] = _int(params, "memory_mib", MIN_MEMORY_MIB, MAX_MEMORY_MIB, " MiB")
    spec["max_memory_mib"] = _int(params, "max_memory_mib", MIN_MEMORY_MIB, MAX_MEMORY_MIB, " MiB")
    if spec["memory_mib"] and spec["max_memory_mib"] and spec["max_memory_mib"] < spec["memory_mib"]:
        raise InvalidInput("max_memory_mib %d is below memory_mib %d" % (spec["max_memory_mib"], spec["memory_mib"]))
    spec["disk_gib"] = _int(params, "disk_gib", 1, MAX_DISK_GIB, " GiB")
    spec["hostname"] = check_hostname(params.get("hostname"))
    spec["ssh_key"] = check_ssh_key(params.get("ssh_key"))
    spec["address"] = check_address(params.get("ip"), params.get("prefix"), params.get("gateway"),
                                    params.get("dns"), params.get("subnet"))
    spec["image_dir"] = params.get("image_dir") or DEFAULT_IMAGE_DIR
    spec["image"] = check_image(params.get("image"), spec["image_dir"])
    if params.get("source_vm") not in (None, ""):
        spec["source_vm"] = check_name(params["source_vm"], "source VM name")
        if spec["image"]:
            raise InvalidInput("give either image or source_vm, not both")
    else:
        spec["source_vm"] = None
    if spec["network_config"] in ("ifcfg", "nmkeyfile") and spec["os"] == "debian":
        raise InvalidInput("network_config %s is for RHEL-family guests; Debian guests use networkd or ifupdown"
                           % spec["network_config"])
    if spec["network_config"] in ("networkd", "ifupdown") and spec["os"] == "rhel":
        raise InvalidInput("network_config %s is for Debian guests; RHEL-family guests use ifcfg or nmkeyfile"
                           % spec["network_config"])
    return spec
