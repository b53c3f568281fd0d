"""The node base: one Debian root with systemd, sshd, libvirtd and QEMU, shared read-only by every node."""

import os
import shutil

from common import CACHE, REPO, log, mmdebstrap, read_list, recipe_hash, require_tools

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = os.path.join(HERE, "node-packages.txt")

# Run inside the new root by mmdebstrap (customize hooks get the root as $1).
HOOKS = [
    # every node gets its own host keys and machine id at box-up
    'rm -f "$1"/etc/ssh/ssh_host_*',
    'truncate -s0 "$1"/etc/machine-id',
    'chroot "$1" systemctl enable systemd-networkd.service',
    # nodes have no route out and no DNS: never wait for it
    'chroot "$1" systemctl mask systemd-networkd-wait-online.service',
    'chroot "$1" systemctl mask systemd-resolved.service || true',
    'printf "PasswordAuthentication no\\nKbdInteractiveAuthentication no\\nPermitRootLogin prohibit-password\\nUseDNS no\\n"'
    ' > "$1"/etc/ssh/sshd_config.d/10-cloud1-box.conf',
    'passwd --root "$1" -l root',
]


def base_dir():
    return os.path.join(CACHE, "node-base", recipe_hash(PACKAGES, os.path.abspath(__file__)))


def _in_use(path):
    with open("/proc/mounts") as f:
        return path in f.read()


def ensure_base():
    """Return the path of the node base root, building it when its recipe changed."""
    path = base_dir()
    if os.path.isfile(os.path.join(path, ".complete")):
        log("node base cached: %s" % path)
        return path
    require_tools("mmdebstrap")
    tmp = path + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    log("building node base (cold: several minutes) -> %s" % path)
    mmdebstrap(tmp, read_list(PACKAGES), variant="minbase", hooks=HOOKS,
               dpkgopts=["path-exclude=/usr/share/doc/*", "path-exclude=/usr/share/man/*",
                         "path-exclude=/usr/share/locale/*", "path-include=/usr/share/locale/locale.alias"])
    with open(os.path.join(tmp, ".complete"), "w") as f:
        f.write(REPO + "\n")
    shutil.rmtree(path, ignore_errors=True)
    os.rename(tmp, path)
    # drop older bases: their recipe is gone
    parent = os.path.dirname(path)
    for old in os.listdir(parent):
        full = os.path.join(parent, old)
        if full != path and os.path.isdir(full) and not _in_use(full):
            log("removing stale node base %s" % full)
            shutil.rmtree(full, ignore_errors=True)
    return path


if __name__ == "__main__":
    print(ensure_base())
