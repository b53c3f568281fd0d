#!/usr/bin/env python
"""Build the Debian 12 guest image from packages (no ready image can be downloaded here).

Layout like the seed's CentOS guests: MBR, p1 256 MiB ext4 /boot, p2 type 8e -> PV -> VG vg0 -> LV root
(xfs), grub in the MBR. Output (cached by recipe hash, rebuilt only when the recipe changes):

    $CLOUD1_CACHE/images/<hash>/debian12.qcow2   zstd-compressed qcow2, the backing file for clones
    $CLOUD1_CACHE/images/<hash>/debian12.qcow2.cloud1-firstboot   its marker: its first boot reads the VM's
                                                 settings from SMBIOS (createvm's inject=auto uses that)
    $CLOUD1_CACHE/images/debian12.qcow2          symlink to the current one

Prints the path of the image. `--force` rebuilds.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "box"))

from common import CACHE, die, log, mmdebstrap, read_list, recipe_hash, require_tools, run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = os.path.join(HERE, "guest-packages.txt")
FIRSTBOOT = os.path.join(HERE, "firstboot.sh")
FIRSTBOOT_UNIT = os.path.join(HERE, "cloud1-firstboot.service")
SSH_HOSTKEYS = os.path.join(HERE, "ssh-hostkeys.conf")
# beside the image: it is clean and its first boot reads the SMBIOS settings of protocol cloud1.v1
# (plugins/module_utils/core/guestprep.py: FIRSTBOOT_MARKER, SMBIOS_PROTOCOL)
MARKER = ".cloud1-firstboot"
MARKER_TEXT = "cloud1.v1\n"
NAME = "debian12"
SIZE = "3G"
IMAGES = os.path.join(CACHE, "images")

GUESTFS_ENV = {"LIBGUESTFS_BACKEND": "direct", "LIBGUESTFS_BACKEND_SETTINGS": "force_tcg"}

# mmdebstrap customize hooks: $1 is the new root
HOOKS = [
    # root on LVM, /boot by label. Lean first boot (measured with systemd-analyze in the guest): root xfs
    # without a boot-time fsck (fsck.xfs does nothing; xfs replays its log at mount), /boot mounted and checked
    # when first used (kernel updates) instead of on the way to sshd
    'printf "/dev/mapper/vg0-root / xfs defaults 0 0\\nLABEL=boot /boot ext4 defaults,x-systemd.automount 0 2\\n"'
    ' > "$1"/etc/fstab',
    # an initramfs with only the modules this VM's hardware needs (virtio disk, LVM, xfs; SATA/SCSI for other
    # buses), not MODULES=most: less to load and unpack on an emulated CPU; the lvm2 hook adds its own
    'sed -i "s/^MODULES=.*/MODULES=list/" "$1"/etc/initramfs-tools/initramfs.conf',
    'printf "virtio_pci\\nvirtio_blk\\nvirtio_scsi\\nsd_mod\\nahci\\ndm_mod\\nxfs\\n" >> "$1"/etc/initramfs-tools/modules',
    'echo %s > "$1"/etc/hostname' % NAME,
    'printf "127.0.0.1 localhost\\n" > "$1"/etc/hosts',
    # keep the NIC eth0 and give a serial console; short menu
    'sed -i -e "s/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX=\\"console=tty0 console=ttyS0,115200 net.ifnames=0\\"/"'
    ' -e "s/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/" "$1"/etc/default/grub',
    'printf "GRUB_TERMINAL=\\"console serial\\"\\nGRUB_SERIAL_COMMAND=\\"serial --unit=0 --speed=115200\\"\\n"'
    ' >> "$1"/etc/default/grub',
    # the host keys sshd lacks are made before it starts (a clean image has none)
    'install -D -m 0644 "%s" "$1"/etc/systemd/system/ssh.service.d/10-hostkeys.conf' % SSH_HOSTKEYS,
    # the VM's own settings from its host's SMBIOS strings, once, before its network and sshd (inject=smbios)
    'install -D -m 0755 "%s" "$1"/usr/local/sbin/cloud1-firstboot' % FIRSTBOOT,
    'install -D -m 0644 "%s" "$1"/etc/systemd/system/cloud1-firstboot.service' % FIRSTBOOT_UNIT,
    'chroot "$1" systemctl enable cloud1-firstboot.service',
    'rm -f "$1"/etc/ssh/ssh_host_*',
    'printf "PasswordAuthentication no\\nKbdInteractiveAuthentication no\\nUseDNS no\\n"'
    ' > "$1"/etc/ssh/sshd_config.d/10-cloud1.conf',
    'chroot "$1" systemctl enable systemd-networkd.service serial-getty@ttyS0.service',
    'chroot "$1" systemctl mask systemd-networkd-wait-online.service',
    # nothing on the way to sshd a server of plain logical volumes does not need: e2scrub checks ext4 LVM
    # snapshots (root is xfs), lvm2-monitor watches mirrors, snapshots and thin pools (not used here)
    'chroot "$1" systemctl mask e2scrub_reap.service e2scrub_all.timer lvm2-monitor.service',
    'chroot "$1" update-initramfs -u -k all',
    'passwd --root "$1" -l root',
    'mkdir -m 0700 -p "$1"/root/.ssh',
    'truncate -s0 "$1"/etc/machine-id',
    'rm -f "$1"/var/lib/dbus/machine-id "$1"/var/cache/apt/*.bin',
]

DPKG_EXCLUDES = ["path-exclude=/usr/share/doc/*", "path-exclude=/usr/share/man/*",
                 "path-exclude=/usr/share/info/*", "path-exclude=/usr/share/locale/*",
                 "path-include=/usr/share/locale/locale.alias"]

# One guestfish session: partition, LVM, filesystems, the root tree, grub.
GUESTFISH = """
run
part-init /dev/sda mbr
part-add /dev/sda p 2048 526335
part-add /dev/sda p 526336 -1
part-set-mbr-id /dev/sda 2 0x8e
mkfs ext4 /dev/sda1 label:boot
pvcreate /dev/sda2
vgcreate vg0 /dev/sda2
lvcreate-free root vg0 100
mkfs xfs /dev/vg0/root
mount /dev/vg0/root /
mkdir /boot
mount /dev/sda1 /boot
tar-in {tar} / xattrs:true
sync
command "update-grub"
"""

# grub-install fails now and then ("embedding is not possible") until caches are dropped: retry.
GRUB_INSTALL = """
run
mount /dev/vg0/root /
mount /dev/sda1 /boot
sync
drop-caches 3
command "grub-install --target=i386-pc --recheck /dev/sda"
sync
"""


def image_hash():
    return recipe_hash(PACKAGES, os.path.abspath(__file__), FIRSTBOOT, FIRSTBOOT_UNIT, SSH_HOSTKEYS)


def guestfish(disk, script):
    return subprocess.run(["guestfish", "--rw", "--format=qcow2", "-a", disk], input=script, text=True,
                          env=dict(os.environ, **GUESTFS_ENV), capture_output=True, check=False)


def build(dest_dir):
    require_tools("mmdebstrap", "guestfish", "qemu-img")
    if not os.listdir("/boot") or not any(f.startswith("vmlinuz") for f in os.listdir("/boot")):
        die("libguestfs needs a kernel in /boot: install linux-image-amd64 (make deps)")
    work = tempfile.mkdtemp(prefix="cloud1-image-", dir=os.path.join(CACHE))
    try:
        tar = os.path.join(work, "root.tar")
        t0 = time.time()
        log("guest root from packages (mmdebstrap)")
        mmdebstrap(tar, read_list(PACKAGES), variant="minbase", hooks=HOOKS, dpkgopts=DPKG_EXCLUDES)
        t1 = time.time()
        disk = os.path.join(work, "disk.qcow2")
        run(["qemu-img", "create", "-q", "-f", "qcow2", disk, SIZE])
        log("disk layout, root tree, grub config (guestfish)")
        res = guestfish(disk, GUESTFISH.format(tar=tar))
        if res.returncode != 0:
            die("guestfish failed building the disk:\n%s%s" % (res.stdout[-3000:], res.stderr[-3000:]))
        for attempt in range(1, 6):
            res = guestfish(disk, GRUB_INSTALL)
            if res.returncode == 0:
                break
            log("grub-install attempt %d failed: %s" % (attempt, res.stderr.strip().splitlines()[-1:]))
        else:
            die("grub-install failed 5 times:\n%s" % res.stderr[-3000:])
        t2 = time.time()
        os.makedirs(dest_dir, exist_ok=True)
        out = os.path.join(dest_dir, NAME + ".qcow2")
        run(["qemu-img", "convert", "-c", "-O", "qcow2", "-o", "compression_type=zstd", disk, out + ".tmp"])
        with open(out + MARKER, "w", encoding="utf-8") as handle:
            handle.write(MARKER_TEXT)
        os.rename(out + ".tmp", out)
        log("image built: root %.0fs, disk %.0fs, compress %.0fs" % (t1 - t0, t2 - t1, time.time() - t2))
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure_image(force=False):
    h = image_hash()
    dest = os.path.join(IMAGES, h)
    out = os.path.join(dest, NAME + ".qcow2")
    if force and os.path.exists(out):
        os.unlink(out)
    if os.path.exists(out):
        log("guest image cached: %s" % out)
    else:
        build(dest)
    if not os.path.exists(out + MARKER):   # an image cached before markers existed has no first-boot unit
        log("guest image %s has no first-boot marker: createvm prepares its disks with libguestfs" % out)
    link = os.path.join(IMAGES, NAME + ".qcow2")
    if os.path.realpath(link) != out:
        tmp = link + ".tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.path.join(h, NAME + ".qcow2"), tmp)
        os.replace(tmp, link)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--force", action="store_true", help="rebuild even when the cached image matches")
    args = p.parse_args()
    print(ensure_image(args.force))


if __name__ == "__main__":
    main()
