# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scripts that run inside a guest, as text (pure: nothing here runs them). The root growth is shared by
first boot (installed by virt-sysprep) and online growth (run through the guest agent or SSH)."""

from __future__ import annotations

# Grow the root filesystem to the whole disk. `check` as the first argument only answers: exit 0 when there
# is nothing to grow, 3 when there is. The partition is the one holding the root PV (found through sysfs,
# never assumed to be number 2: growpart grows a partition only when free space follows it).
GROW_ROOT = r"""#!/bin/sh
# cloud1.iaas: grow the root filesystem to the whole disk (the partition holding it, found, not assumed)
set -eu
mode=${1:-grow}
root=$(findmnt -n -o SOURCE /)
if lvs "$root" >/dev/null 2>&1; then
    vg=$(lvs --noheadings -o vg_name "$root" | tr -d ' ')
    pv=$(pvs --noheadings -o pv_name -S "vg_name=$vg" | head -n1 | tr -d ' ')
else
    pv=$root
fi
# sysfs, not lsblk: at first boot udev may not have filled in the parent disk yet
sys=$(readlink -f "/sys/class/block/$(basename "$(readlink -f "$pv")")")
disk=/dev/$(basename "$(dirname "$sys")")
part=$(cat "$sys/partition")
if [ "$mode" = check ]; then
    if growpart --dry-run "$disk" "$part" >/dev/null 2>&1; then exit 3; fi
    if [ "$pv" != "$root" ]; then
        # the PV smaller than its partition (pvresize not done), or free extents in the VG
        psize=$(blockdev --getsize64 "$pv")
        pvsize=$(pvs --noheadings --units b --nosuffix -o pv_size "$pv" | tr -d ' ')
        [ $((psize - pvsize)) -gt 8388608 ] && exit 3
        free=$(vgs --noheadings --units b --nosuffix -o vg_free "$vg" | tr -d ' ')
        [ "$free" -gt 0 ] && exit 3
    fi
    exit 0
fi
growpart "$disk" "$part" || [ $? -eq 1 ]    # 1: nothing to grow
if [ "$pv" != "$root" ]; then
    pvresize "$pv"
    lvextend -r -l +100%FREE "$root" || true  # fails only when there is nothing to add
else
    case $(findmnt -n -o FSTYPE /) in
        xfs) xfs_growfs / ;;
        ext*) resize2fs "$root" ;;
    esac
fi
"""

# the root filesystem's size and the disk's, in bytes (one line: "<fs size> <source>")
ROOT_SIZE = "df -B1 --output=size / | tail -n1 | tr -d ' '"

# The guest's SSH host keys (the public halves), read only once sshd's start is over: a guest that makes its
# missing keys before sshd starts (one type after another) shows a part of them while that runs, and a part
# recorded at creation would refuse the guest's real keys ever after. Exit 3, saying why, while sshd (or its
# socket) is not active or a unit of it is still activating; guests without systemd are read as they are.
# The argument is the directory of the keys (default /etc/ssh).
HOST_KEYS = r"""#!/bin/sh
# cloud1.iaas: the SSH host keys, once sshd's start has made them all
dir=${1:-/etc/ssh}
if command -v systemctl >/dev/null 2>&1; then
    started=
    for unit in ssh.service sshd.service ssh.socket sshd.socket; do
        [ "$(systemctl is-active "$unit" 2>/dev/null)" = active ] && started=$unit
    done
    if [ -z "$started" ]; then
        echo "sshd has not started yet" >&2
        exit 3
    fi
    busy=$(systemctl list-units --state=activating --plain --no-legend 'ssh*' 'sshd*' 2>/dev/null)
    if [ -n "$busy" ]; then
        echo "sshd's start is still under way (making its keys): $busy" >&2
        exit 3
    fi
fi
cat "$dir"/ssh_host_*_key.pub 2>/dev/null
"""
