#!/usr/bin/env python
"""Cluster-in-a-box: N hypervisor nodes as systemd-nspawn containers on this one machine.

    box.py up [--nodes N]   bring up node0..node(N-1) (idempotent; recovers from a killed run)
    box.py down             stop every node and remove every process, mount, link of the box
    box.py status           print what runs

Each node: its own overlay root over one cached Debian base (tools/box/base.py), systemd as PID 1,
sshd with the box key, libvirtd, and its own address on the box bridge. The node's network is
host0 (the veth nspawn makes) enslaved to br0 inside the node, br0 holding the node's address, so
guests started in a node sit on the box's /24 like the seed's guests sit on the node LAN.

Each node also has its own view of the machine's load, as a real server would: it runs in its own cpu,
cpuacct and memory cgroups (memory limited to its share of the machine), and Debian's lxcfs (run on the
host with CPU and load-average virtualization) serves /proc/stat, meminfo, loadavg, uptime and cpuinfo
computed from those cgroups; a unit inside the node binds them over its /proc at boot, so gmond, libvirt
and top in node1 see node1's CPU time (its guests' included), memory and load, not the host's.
"""

import argparse
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import CACHE, MIRROR, REPO, die, log, require_root, require_tools, run  # noqa: E402
import base  # noqa: E402

STATE = os.environ.get("CLOUD1_BOX_DIR", os.path.join(REPO, ".box"))
BRIDGE = os.environ.get("CLOUD1_BOX_BRIDGE", "c1box0")
SUBNET = ipaddress.ip_network(os.environ.get("CLOUD1_BOX_SUBNET", "10.77.0.0/24"))
HOST_IP = SUBNET.network_address + 1
NODE_IP_BASE = 10            # node<i> = .10+i
GUEST_POOL = (100, 199)      # guests of the box get addresses from .100 to .199
# the guest image cache: read-only in every node at the same absolute path as on the host, so the
# backing file a clone names resolves on the host (libguestfs) and in every node (QEMU) alike
IMAGES = os.path.join(CACHE, "images")
# caching apt proxy on the box bridge: the nodes have no route out, their package tasks go through it
PROXY_PORT = int(os.environ.get("CLOUD1_BOX_PROXY_PORT", "3143"))
PROXY_URL = "http://%s:%d" % (HOST_IP, PROXY_PORT)
BOOT_TIMEOUT = 90


def node_name(i):
    return "node%d" % i


def node_ip(i):
    return SUBNET.network_address + NODE_IP_BASE + i


def node_dir(name):
    return os.path.join(STATE, "nodes", name)


def load_state():
    try:
        with open(os.path.join(STATE, "state.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"nodes": []}


def save_state(state):
    os.makedirs(STATE, exist_ok=True)
    tmp = os.path.join(STATE, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, os.path.join(STATE, "state.json"))


# ---------------------------------------------------------------- processes and mounts

def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def nspawn_pids(name=None):
    """PIDs of systemd-nspawn processes of this box (optionally of one node)."""
    root_prefix = os.path.join(STATE, "nodes").encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        args = _cmdline(int(entry))
        if not args or not args[0].endswith(b"systemd-nspawn"):
            continue
        if not any(a.startswith(b"--directory=" + root_prefix) for a in args):
            continue
        if name is not None and b"--machine=" + name.encode() not in args:
            continue
        pids.append(int(entry))
    return pids


def container_init_pid(nspawn_pid):
    """PID of the container's PID 1 (the child of nspawn that runs systemd)."""
    try:
        with open("/proc/%d/task/%d/children" % (nspawn_pid, nspawn_pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return None
    return kids[0] if kids else None


def orphan_inits(name):
    """PID 1s of this node's container that outlived their nspawn (nspawn killed with SIGKILL).

    Recognised by their root mount: the node's overlay (upperdir under the node's directory)."""
    marker = "upperdir=%s/upper" % node_dir(name)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            ppid = _parent(pid)
            if ppid is None or any(a.endswith(b"systemd-nspawn") for a in _cmdline(ppid)[:1]):
                continue  # a live node: its init's parent is nspawn
            with open("/proc/%d/mountinfo" % pid) as f:
                for line in f:
                    fields = line.split()
                    if fields[4] == "/" and marker in line:
                        found.append(pid)
                        break
        except (OSError, IndexError, ValueError):
            continue
    # the container's PID 1 is the outermost of them: killing it ends its whole PID namespace
    return [p for p in found if _parent(p) not in found]


def _parent(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def box_mounts():
    prefix = os.path.join(STATE, "nodes") + "/"
    out = []
    with open("/proc/mounts") as f:
        for line in f:
            mnt = line.split()[1].replace("\\040", " ")
            if mnt.startswith(prefix):
                out.append(mnt)
    # deepest first
    return sorted(out, key=len, reverse=True)


def link_exists(name):
    return os.path.exists("/sys/class/net/%s" % name)


def veth_name(name):
    # nspawn names the host side "vb-" + machine name, cut to 15 characters
    return ("vb-" + name)[:15]


# ---------------------------------------------------------------- host side network

def ensure_bridge():
    if not link_exists(BRIDGE):
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    addr = "%s/%d" % (HOST_IP, SUBNET.prefixlen)
    res = run(["ip", "-o", "addr", "show", "dev", BRIDGE], capture=True)
    if addr not in res.stdout:
        run(["ip", "addr", "add", addr, "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])
    # bridged frames must not be pushed through the host's iptables (node<->guest traffic)
    for knob in ("bridge-nf-call-iptables", "bridge-nf-call-ip6tables", "bridge-nf-call-arptables"):
        path = "/proc/sys/net/bridge/" + knob
        if os.path.exists(path):
            try:
                with open(path, "w") as f:
                    f.write("0")
            except OSError:
                pass


# ---------------------------------------------------------------- apt proxy

def _proxy_pidfile():
    return os.path.join(STATE, "apt-cacher-ng.pid")


def daemon_running(pidfile, program):
    """The PID in ``pidfile`` when that process runs ``program``, else False."""
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        return any(a.endswith(program.encode()) for a in _cmdline(pid)[:1]) and pid
    except (OSError, ValueError):
        return False


def proxy_running():
    return daemon_running(_proxy_pidfile(), "apt-cacher-ng")


def ensure_proxy():
    """A caching apt proxy on the box bridge (apt-cacher-ng), its cache kept in the project cache."""
    if proxy_running():
        return
    require_tools("apt-cacher-ng")
    cache = os.path.join(CACHE, "apt-cacher-ng")
    logs = os.path.join(STATE, "apt-cacher-ng-log")
    for d in (cache, logs):
        os.makedirs(d, exist_ok=True)
    run(["apt-cacher-ng", "-c", "/etc/apt-cacher-ng", "ForeGround=0", "Port=%d" % PROXY_PORT,
         "BindAddress=%s" % HOST_IP, "CacheDir=%s" % cache, "LogDir=%s" % logs,
         "PidFile=%s" % _proxy_pidfile(), "SocketPath=%s" % os.path.join(STATE, "apt-cacher-ng.socket"),
         # Debian requests go to the mirror this machine reaches (the package's default backend may not)
         "Remap-debrep=file:deb_mirror*.gz /debian ; %s/" % MIRROR.rstrip("/")])
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            socket.create_connection((str(HOST_IP), PROXY_PORT), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    die("apt-cacher-ng did not listen on %s:%d; see %s" % (HOST_IP, PROXY_PORT, logs))


def stop_proxy():
    pid = proxy_running()
    if pid:
        kill_and_wait(pid, signal.SIGTERM, timeout=10)
    try:
        os.unlink(_proxy_pidfile())
    except OSError:
        pass


# ---------------------------------------------------------------- per-node load view (cgroups + lxcfs)

CGROUP_ROOT = "/sys/fs/cgroup"
# lxcfs keys its CPU view by the cpuset cgroup: each node needs its own there too, or all share one view
CGROUP_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory")
CGROUP_PARENT = "cloud1-box"
NODE_CPU_SHARES = 16384   # 16 x a host task's 1024
LXCFS_DIR = os.path.join(STATE, "lxcfs")
LXCFS_FILES = ("stat", "meminfo", "loadavg", "uptime", "cpuinfo")
NODE_LXCFS = "/var/lib/lxcfs"


def _lxcfs_pidfile():
    return os.path.join(STATE, "lxcfs.pid")


def lxcfs_running():
    return daemon_running(_lxcfs_pidfile(), "lxcfs")


def ensure_lxcfs():
    """lxcfs on the host (CPU and load-average views per cgroup), mounted at .box/lxcfs."""
    if lxcfs_running() and os.path.exists(os.path.join(LXCFS_DIR, "proc", "stat")):
        return
    require_tools("lxcfs")
    stop_lxcfs()
    os.makedirs(LXCFS_DIR, exist_ok=True)
    logf = open(os.path.join(STATE, "lxcfs.log"), "ab")
    subprocess.Popen(["lxcfs", "--foreground", "--enable-cfs", "--enable-loadavg", "--pidfile=" + _lxcfs_pidfile(),
                      LXCFS_DIR], stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 15
    while time.time() < deadline:
        if os.path.exists(os.path.join(LXCFS_DIR, "proc", "stat")) and lxcfs_running():
            return
        time.sleep(0.2)
    die("lxcfs did not mount %s; see %s" % (LXCFS_DIR, os.path.join(STATE, "lxcfs.log")))


def stop_lxcfs():
    pid = lxcfs_running()
    if pid:
        kill_and_wait(pid, signal.SIGTERM, timeout=10)
    if os.path.ismount(LXCFS_DIR):
        run(["umount", "-l", LXCFS_DIR], check=False)
    try:
        os.unlink(_lxcfs_pidfile())
    except OSError:
        pass


def node_cgroups(name, memory_bytes):
    """The node's own cpu, cpuacct and memory cgroups (memory limited to ``memory_bytes``)."""
    paths = []
    for ctrl in CGROUP_CONTROLLERS:
        parent = os.path.join(CGROUP_ROOT, ctrl)
        for path in (os.path.join(parent, CGROUP_PARENT), os.path.join(parent, CGROUP_PARENT, name)):
            os.makedirs(path, exist_ok=True)
            if ctrl == "cpuset":   # a new cpuset takes no task until it has CPUs and memory nodes: its parent's
                for knob in ("cpuset.cpus", "cpuset.mems"):
                    with open(os.path.join(os.path.dirname(path), knob)) as src, open(os.path.join(path, knob), "w") as dst:
                        dst.write(src.read().strip())
        paths.append(os.path.join(parent, CGROUP_PARENT, name))
    with open(os.path.join(CGROUP_ROOT, "memory", CGROUP_PARENT, name, "memory.limit_in_bytes"), "w") as f:
        f.write(str(int(memory_bytes)))
    # a cgroup competes for CPU like one task of the host: a node busy with many processes (guests, appliances)
    # would get one task's share against the controller's ansible-playbook processes; weigh it like many
    for path in (os.path.join(CGROUP_ROOT, "cpu", CGROUP_PARENT), os.path.join(CGROUP_ROOT, "cpu", CGROUP_PARENT, name)):
        with open(os.path.join(path, "cpu.shares"), "w") as f:
            f.write(str(NODE_CPU_SHARES))
    return paths


def remove_node_cgroups(name):
    for ctrl in CGROUP_CONTROLLERS:
        try:
            os.rmdir(os.path.join(CGROUP_ROOT, ctrl, CGROUP_PARENT, name))
        except OSError:
            pass


def node_memory_share(n):
    """Each node's memory: an equal share of the machine's, at least 2 GiB."""
    with open("/proc/meminfo") as f:
        total = int(f.readline().split()[1]) * 1024
    return max(2 * 1024 ** 3, total // max(1, n))


def node_lxcfs_unit(root):
    """A unit inside the node that binds lxcfs's files over the node's /proc before anything reads them."""
    binds = "\n".join("ExecStart=/bin/mount --bind %s/proc/%s /proc/%s" % (NODE_LXCFS, f, f) for f in LXCFS_FILES)
    write(os.path.join(root, "etc/systemd/system/cloud1-box-lxcfs.service"),
          "[Unit]\nDescription=This node's own load view (lxcfs over /proc)\nDefaultDependencies=no\n"
          "Before=sysinit.target\nConditionPathExists=%s/proc/stat\n\n[Service]\nType=oneshot\n"
          "RemainAfterExit=yes\n%s\n\n[Install]\nWantedBy=sysinit.target\n" % (NODE_LXCFS, binds))
    link = os.path.join(root, "etc/systemd/system/sysinit.target.wants/cloud1-box-lxcfs.service")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if not os.path.lexists(link):
        os.symlink("/etc/systemd/system/cloud1-box-lxcfs.service", link)


# ---------------------------------------------------------------- keys

def ensure_keys():
    keydir = os.path.join(STATE, "ssh")
    os.makedirs(keydir, mode=0o700, exist_ok=True)
    key = os.path.join(keydir, "id_ed25519")
    if not os.path.exists(key):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cloud1-box", "-f", key])
    return key


def node_host_key(name):
    """Per-node sshd host key, generated on the host so known_hosts is exact (no trust on first use)."""
    d = os.path.join(STATE, "hostkeys", name)
    os.makedirs(d, mode=0o700, exist_ok=True)
    key = os.path.join(d, "ssh_host_ed25519_key")
    if not os.path.exists(key):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@" + name, "-f", key])
    return key


# ---------------------------------------------------------------- node root

def write(path, content, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)
    os.chmod(path, mode)


def configure_node(root, i, n, pubkey):
    """Write the node's identity into its overlay (hostname, network, keys)."""
    name = node_name(i)
    write(os.path.join(root, "etc/hostname"), name + "\n")
    hosts = ["127.0.0.1 localhost", "%s %s" % (HOST_IP, "boxhost")]
    hosts += ["%s %s" % (node_ip(j), node_name(j)) for j in range(n)]
    write(os.path.join(root, "etc/hosts"), "\n".join(hosts) + "\n")
    mid = os.path.join(root, "etc/machine-id")
    with open(mid) as f:
        if not f.read().strip():
            write(mid, os.urandom(16).hex() + "\n", 0o444)
    # the node's static address on its NIC (host0), like a freshly installed server; the collection's
    # bridge role moves it onto br0
    net = os.path.join(root, "etc/systemd/network")
    write(os.path.join(net, "50-host0.network"),
          "[Match]\nName=host0\n\n[Network]\nAddress=%s/%d\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"
          % (node_ip(i), SUBNET.prefixlen))
    # nspawn's own 80-container-host0.network would DHCP on host0: ours wins by name order, keep it off
    write(os.path.join(net, "80-container-host0.network"), "[Match]\nName=nomatch-cloud1\n")
    ssh = os.path.join(root, "root/.ssh")
    os.makedirs(ssh, mode=0o700, exist_ok=True)
    write(os.path.join(ssh, "authorized_keys"), pubkey, 0o600)
    hk = node_host_key(name)
    shutil.copy(hk, os.path.join(root, "etc/ssh/ssh_host_ed25519_key"))
    os.chmod(os.path.join(root, "etc/ssh/ssh_host_ed25519_key"), 0o600)
    shutil.copy(hk + ".pub", os.path.join(root, "etc/ssh/ssh_host_ed25519_key.pub"))
    write(os.path.join(root, "etc/ssh/sshd_config.d/20-hostkey.conf"),
          "HostKey /etc/ssh/ssh_host_ed25519_key\n")
    # root's user manager (user@0.service) stays up for the node's life: on this host's cgroups, stopping it when
    # root's last session ends fails to thaw its slice and hangs to its stop timeout, and every SSH login meanwhile
    # waits for it (seen: 16 s, and a Mitogen connection timing out, right after site.yml's first run)
    write(os.path.join(root, "var/lib/systemd/linger/root"), "")
    os.makedirs(os.path.join(root, IMAGES.lstrip("/")), exist_ok=True)
    # the base carries no package lists (mmdebstrap cleans them): make the empty lists look old, so
    # apt's cache_valid_time in the roles refreshes them instead of trusting a fresh directory mtime
    lists = os.path.join(root, "var/lib/apt/lists")
    if not any(f.endswith("_Packages") for f in os.listdir(lists)):
        os.utime(lists, (0, 0))
    write(os.path.join(root, "etc/apt/apt.conf.d/01cloud1-box-proxy"),
          'Acquire::http::Proxy "%s";\n' % PROXY_URL)


def mount_overlay(name, lower):
    d = node_dir(name)
    root = os.path.join(d, "root")
    for sub in ("upper", "work", "root"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    if os.path.ismount(root):
        return root
    run(["mount", "-t", "overlay", "overlay", "-o",
         "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, os.path.join(d, "upper"), os.path.join(d, "work")),
         root])
    return root


def nspawn_cmd(name, root):
    return ["systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit",
            "--directory=" + root, "--machine=" + name, "--hostname=" + name,
            "--network-bridge=" + BRIDGE, "--bind=/dev/fuse", "--bind-ro=" + IMAGES,
            "--bind-ro=%s:%s" % (LXCFS_DIR, NODE_LXCFS), "--capability=all", "--console=passive"]


def start_node(name, root, memory_bytes):
    d = node_dir(name)
    logf = open(os.path.join(d, "console.log"), "ab")
    # nspawn (and so every process of the node, its guests included) starts in the node's own cgroups
    join = "; ".join("echo $$ > %s/cgroup.procs" % p for p in node_cgroups(name, memory_bytes))
    cmd = ["sh", "-c", join + '; exec "$@"', "sh"] + nspawn_cmd(name, root)
    env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)
    with open(os.path.join(d, "nspawn.pid"), "w") as f:
        f.write(str(proc.pid))
    return proc.pid


def wait_ssh(ip, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((str(ip), 22), timeout=2) as s:
                s.settimeout(3)
                if s.recv(4).startswith(b"SSH"):
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def node_ssh(name, command, timeout=180):
    """``command`` run as root on the node ``name`` through the box's ssh_config (its pinned host keys)."""
    return subprocess.run(["ssh", "-F", os.path.join(STATE, "ssh_config"), name, command], capture_output=True,
                          text=True, timeout=timeout, check=False)


FAILED_UNITS = "systemctl list-units --failed --plain --no-legend | cut -d' ' -f1"
CGROUP_EXIT = 219   # systemd's exit status for a unit it could not attach to its cgroup (EXIT_CGROUP)


def settle_boot(name):
    """Wait for the node's boot to finish and start again, once, the units the node's systemd failed at the step
    of attaching them to their cgroup (status 219/CGROUP: seen at boot for early units, the box's own
    cloud1-box-lxcfs and systemd-tmpfiles-setup, so once /run/lock/subsys was missing and gmetad could not
    start). Units that failed for another reason are named in the log and left as they are: that is what the
    scenarios test."""
    try:
        state = node_ssh(name, "systemctl is-system-running --wait").stdout.strip()
    except subprocess.TimeoutExpired:
        state = "starting (still after 180 s)"
    if state == "running":
        return
    failed = node_ssh(name, FAILED_UNITS).stdout.split()
    statuses = {}
    if failed:
        shown = node_ssh(name, "systemctl show --property=Id,ExecMainStatus %s" % " ".join(failed)).stdout
        for block in shown.strip().split("\n\n"):
            props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            statuses[props.get("Id")] = props.get("ExecMainStatus")
    cgroup = [u for u in failed if statuses.get(u) == str(CGROUP_EXIT)]
    other = [u for u in failed if u not in cgroup]
    if other or not failed:
        log("%s: its boot ended %s; failed, left as they are: %s" % (name, state, " ".join(other) or "none"))
    if cgroup:
        node_ssh(name, "systemctl reset-failed %s; systemctl restart %s" % (" ".join(cgroup), " ".join(cgroup)))
        again = set(node_ssh(name, FAILED_UNITS).stdout.split()) & set(cgroup)
        log("%s: %s failed at boot attaching to their cgroup (219/CGROUP); started again: %s" % (
            name, " ".join(cgroup), "still failed: %s (journalctl -b on the node)" % " ".join(sorted(again))
            if again else "ok"))


# ---------------------------------------------------------------- inventory

def host_vars(i):
    return {"ansible_host": str(node_ip(i)),
            "cloud1_box_root": os.path.join(node_dir(node_name(i)), "root")}


def write_access_files(n, key):
    kh = os.path.join(STATE, "ssh", "known_hosts")
    lines = []
    for i in range(n):
        with open(node_host_key(node_name(i)) + ".pub") as f:
            pub = " ".join(f.read().split()[:2])
        lines.append("%s,%s %s" % (node_name(i), node_ip(i), pub))
    write(kh, "\n".join(lines) + "\n")
    cfg = ["# ssh -F .box/ssh_config node1"]
    for i in range(n):
        cfg += ["Host %s" % node_name(i), "  HostName %s" % node_ip(i)]
    cfg += ["Host *", "  User root", "  IdentityFile %s" % key, "  IdentitiesOnly yes",
            "  UserKnownHostsFile %s" % kh, "  StrictHostKeyChecking yes", "  ConnectTimeout 10",
            "  LogLevel ERROR"]
    write(os.path.join(STATE, "ssh_config"), "\n".join(cfg) + "\n")
    ssh_args = "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes" % kh
    workers = [node_name(i) for i in range(1, n)]
    inv = {
        "all": {
            "vars": {
                "ansible_user": "root",
                "ansible_ssh_private_key_file": key,
                "ansible_ssh_common_args": ssh_args,
                "ansible_python_interpreter": "/usr/bin/python3",
                "cloud1_box": True,
                "cloud1_box_subnet": str(SUBNET),
                "cloud1_box_gateway": str(HOST_IP),
                "cloud1_box_guest_pool": ["%s" % (SUBNET.network_address + GUEST_POOL[0]),
                                          "%s" % (SUBNET.network_address + GUEST_POOL[1])],
                "cloud1_box_images": IMAGES,
                "cloud1_box_proxy": PROXY_URL,
                # the guests' network, as every inventory of the collection names it
                "cloud1_subnet": str(SUBNET),
                "cloud1_gateway": str(HOST_IP),
                "cloud1_guest_range_start": str(SUBNET.network_address + GUEST_POOL[0]),
                "cloud1_guest_range_end": str(SUBNET.network_address + GUEST_POOL[1]),
                # what the collection's roles need to know about the box's nodes
                "bridge_interface": "host0",
                "bridge_prefix": SUBNET.prefixlen,
                "shared_storage_backend": "glusterfs",   # no NFS in this kernel
                "ganglia_time_threshold": 20,
                # what createvm.yml and friends need: base images (the cache, bound into every node),
                # VM disks on the shared GlusterFS volume, the key injected into new VMs
                "cloud1_image_dir": IMAGES,
                "cloud1_base_image": "debian12.qcow2",
                "cloud1_disk_dir": "/var/lib/cloud1/images",
                "cloud1_ssh_public_key_file": key + ".pub",
                "cloud1_vm_ssh_private_key_file": key,
                # the snapshot timer is installed and enabled, but set to a date no test run reaches: the
                # checks start its service themselves, so no snapshot lands in the middle of a scenario
                "snapshot_rotation_schedule": "2099-01-01 00:00:00",
                # the balancer's loop is installed but its timer stopped: a cycle a minute would load the two
                # CPUs through every scenario and could move their VMs; the balancing scenario starts it
                "balancer_enabled": False,
            },
            "children": {
                "master": {"hosts": {node_name(0): host_vars(0)}},
                "workers": {"hosts": {w: host_vars(int(w[4:])) for w in workers}},
                "hypervisors": {"children": {"master": {}, "workers": {}}},
            },
        }
    }
    # YAML is a superset of JSON: no yaml module needed on the host python
    write(os.path.join(STATE, "inventory.yml"), json.dumps(inv, indent=2) + "\n")
    # the VMs of the box as an inventory (the cluster inventory plugin, over libvirt's libssh2 transport,
    # which takes a known_hosts file; its libssh transport hangs on replies of a few KiB here)
    uri = "qemu+libssh2://root@%s/system?keyfile=" + key + "&known_hosts=" + kh + "&sshauth=privkey"
    vms = {
        "plugin": "cloud1.iaas.cluster",
        "nodes": {node_name(i): uri % node_ip(i) for i in range(n)},
        "compose": {
            "ansible_user": "'root'",
            "ansible_ssh_private_key_file": "'%s'" % key,
            # the host keys: the plugin pins each VM's recorded ones (ansible_ssh_common_args)
            "ansible_ssh_extra_args": "'-o IdentitiesOnly=yes -o ConnectTimeout=10'",
            "ansible_python_interpreter": "'/usr/bin/python3'",
        },
    }
    write(os.path.join(STATE, "vms.cluster.yml"), json.dumps(vms, indent=2) + "\n")


# ---------------------------------------------------------------- commands

def kill_and_wait(target, sig, watch=None, timeout=15):
    """Send ``sig`` to ``target``, then wait until ``watch`` (default: the target) is gone."""
    try:
        os.kill(target, sig)
    except ProcessLookupError:
        pass
    watch = watch or target
    deadline = time.time() + timeout
    while time.time() < deadline and os.path.exists("/proc/%d" % watch):
        time.sleep(0.2)
    return not os.path.exists("/proc/%d" % watch)


def stop_node(name, timeout=30):
    for pid in nspawn_pids(name):
        init = container_init_pid(pid)
        # SIGTERM to nspawn powers the container off; a hung one: kill its PID 1, never nspawn itself
        if kill_and_wait(pid, signal.SIGTERM, timeout=timeout) or not init:
            continue
        log("%s did not power off in %ds; killing its PID 1" % (name, timeout))
        if not kill_and_wait(init, signal.SIGKILL, watch=pid):
            die("%s: nspawn %d still running after its PID 1 was killed" % (name, pid))


def cleanup_node(name):
    """Remove what a stopped (or killed) node left: mounts under its dir, its veth."""
    for pid in orphan_inits(name):
        log("%s: killing the container left by a killed nspawn (PID %d)" % (name, pid))
        kill_and_wait(pid, signal.SIGKILL)
    d = node_dir(name) + "/"
    for mnt in box_mounts():
        if mnt.startswith(d):
            run(["umount", "-l", mnt], check=False)
    if link_exists(veth_name(name)):
        run(["ip", "link", "del", veth_name(name)], check=False)


# Every node boots its own systemd (and journald, udev, ...) as root, and all of the host's root processes share
# one inotify budget: fs.inotify.max_user_instances is 128 by default, which about 13 nodes exhaust (the 14th's
# systemd stops with "Failed to create control group inotify object: Too many open files"). up raises the
# limits for its node count (never lowers them) and keeps the values it found; down puts them back.
HOST_LIMITS = {  # sysctl file: (a floor for the host's own use, per node)
    "/proc/sys/fs/inotify/max_user_instances": (128, 64),
    "/proc/sys/fs/inotify/max_user_watches": (65536, 8192),
}


def size_host_limits(n, state):
    saved = state.setdefault("host_limits", {})
    for path, (floor, per_node) in sorted(HOST_LIMITS.items()):
        with open(path) as f:
            current = int(f.read())
        want = floor + per_node * n
        if current < want:
            saved.setdefault(path, current)
            with open(path, "w") as f:
                f.write("%d\n" % want)
            log("%s: %d -> %d for %d nodes (box down restores %d)" % (path, current, want, n, saved[path]))
    save_state(state)


def restore_host_limits(state):
    for path, value in sorted(state.pop("host_limits", {}).items()):
        try:
            with open(path, "w") as f:
                f.write("%d\n" % value)
            log("%s restored to %d" % (path, value))
        except OSError as exc:
            log("could not restore %s to %d: %s" % (path, value, exc))


def cmd_up(args):
    require_root()
    require_tools("systemd-nspawn", "ssh-keygen", "ip", "mount")
    n = args.nodes
    if n < 1 or n > 40:
        die("--nodes must be between 1 and 40 (got %d)" % n)
    t0 = time.time()
    lower = base.ensure_base()
    os.makedirs(IMAGES, exist_ok=True)
    state = load_state()
    # nodes beyond the requested count from an earlier, larger box go away
    for name in state.get("nodes", []):
        if int(name[4:]) >= n:
            log("removing %s (box shrinks to %d nodes)" % (name, n))
            stop_node(name)
            cleanup_node(name)
            remove_node_cgroups(name)
            shutil.rmtree(node_dir(name), ignore_errors=True)
    size_host_limits(n, state)
    ensure_bridge()
    ensure_proxy()
    ensure_lxcfs()
    memory = node_memory_share(n)
    key = ensure_keys()
    with open(key + ".pub") as f:
        pubkey = f.read()
    started = []
    for i in range(n):
        name = node_name(i)
        pids = nspawn_pids(name)
        root = os.path.join(node_dir(name), "root")
        if pids and ([a.decode() for a in _cmdline(pids[0]) if a] != nspawn_cmd(name, root)
                     or not os.path.exists(os.path.join(CGROUP_ROOT, "cpuacct", CGROUP_PARENT, name))):
            log("%s runs with another configuration: restarting it" % name)
            stop_node(name)
        elif pids:
            if wait_ssh(node_ip(i), 5):
                log("%s already up" % name)
                continue
            log("%s runs but does not answer SSH: restarting it" % name)
            stop_node(name)
        cleanup_node(name)      # stale mounts and links of a killed run
        root = mount_overlay(name, lower)
        configure_node(root, i, n, pubkey)
        node_lxcfs_unit(root)
        start_node(name, root, memory)
        started.append(i)
    state["nodes"] = [node_name(i) for i in range(n)]
    state["base"] = lower
    save_state(state)
    write_access_files(n, key)
    for i in started:
        if not wait_ssh(node_ip(i), BOOT_TIMEOUT):
            die("%s did not answer SSH at %s within %ds; see %s" % (
                node_name(i), node_ip(i), BOOT_TIMEOUT, os.path.join(node_dir(node_name(i)), "console.log")))
    for i in started:
        settle_boot(node_name(i))
    log("box up: %d nodes in %.1fs; inventory %s" % (n, time.time() - t0, os.path.join(STATE, "inventory.yml")))


def cmd_down(args):
    require_root()
    state = load_state()
    names = set(state.get("nodes", []))
    # also whatever a lost state file no longer lists
    for pid in nspawn_pids():
        for a in _cmdline(pid):
            if a.startswith(b"--machine="):
                names.add(a.split(b"=", 1)[1].decode())
    if os.path.isdir(os.path.join(STATE, "nodes")):
        names.update(os.listdir(os.path.join(STATE, "nodes")))
    # and the cgroups of nodes an earlier version left behind when the box shrank
    for ctrl in CGROUP_CONTROLLERS:
        parent = os.path.join(CGROUP_ROOT, ctrl, CGROUP_PARENT)
        if os.path.isdir(parent):
            names.update(d for d in os.listdir(parent) if d.startswith("node") and d[4:].isdigit())
    for name in sorted(names):
        stop_node(name)
        cleanup_node(name)
        remove_node_cgroups(name)
    for mnt in box_mounts():
        run(["umount", "-l", mnt], check=False)
    stop_lxcfs()
    for ctrl in CGROUP_CONTROLLERS:
        try:
            os.rmdir(os.path.join(CGROUP_ROOT, ctrl, CGROUP_PARENT))
        except OSError:
            pass
    if link_exists(BRIDGE):
        run(["ip", "link", "del", BRIDGE], check=False)
    stop_proxy()
    shutil.rmtree(os.path.join(STATE, "nodes"), ignore_errors=True)
    restore_host_limits(state)
    state["nodes"] = []
    if os.path.isdir(STATE):
        save_state(state)
    for f in ("inventory.yml", "ssh_config"):
        try:
            os.unlink(os.path.join(STATE, f))
        except OSError:
            pass
    log("box down: %d nodes stopped" % len(names))


def cmd_status(args):
    state = load_state()
    if not state.get("nodes"):
        print("box: no nodes")
    for name in state.get("nodes", []):
        i = int(name[4:])
        up = bool(nspawn_pids(name))
        ssh = wait_ssh(node_ip(i), 1) if up else False
        print("%-6s %-12s nspawn=%s ssh=%s" % (name, node_ip(i), "up" if up else "down", "yes" if ssh else "no"))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up")
    up.add_argument("--nodes", type=int, default=int(os.environ.get("NODES", "3")))
    sub.add_parser("down")
    sub.add_parser("status")
    args = p.parse_args()
    {"up": cmd_up, "down": cmd_down, "status": cmd_status}[args.cmd](args)


if __name__ == "__main__":
    main()
