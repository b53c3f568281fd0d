# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VM disks as libvirt storage volumes: linked clones (qcow2 with a backing file) or full copies,
created and deleted through libvirt, so the same code works on a local directory, NFS or GlusterFS and
libvirt knows every file it runs.

A directory without a storage pool gets a transient one (it vanishes with libvirtd, leaving no
configuration behind); an existing pool over the same directory is used as it is.
"""

from __future__ import annotations

import hashlib
import os
import xml.etree.ElementTree as ET

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import NotFound, OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import libvirt, libvirt_errors
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.wait import Waiter

GIB = 1024 ** 3


def _pool_path(pool):
    return os.path.normpath(ET.fromstring(pool.XMLDesc(0)).findtext("target/path") or "")


def pool_for_dir(client, path):
    """The active storage pool whose target is ``path``, created (transient) when there is none."""
    path = os.path.normpath(path)
    for pool in client.pools():
        if _pool_path(pool) == path:
            if not pool.isActive():
                with libvirt_errors("start storage pool %s" % pool.name(), client.uri):
                    pool.create(0)
            return pool
    name = "cloud1-%s" % hashlib.sha256(path.encode()).hexdigest()[:10]
    root = ET.Element("pool", type="dir")
    ET.SubElement(root, "name").text = name
    ET.SubElement(ET.SubElement(root, "target"), "path").text = path
    try:
        return client.create_pool(ET.tostring(root, encoding="unicode"))
    except OperationFailed as exc:
        pool = client.pool(name)   # a concurrent run created it a moment ago
        if pool is not None:
            return pool
        raise OperationFailed("cannot open %s as a storage pool: %s; check that the directory exists on the node "
                              "(the shared_storage role mounts it)" % (path, exc.message))


def refresh(client, pool, patience=600):
    """Rescan the pool's directory (files other nodes or tools made). libvirt refuses while it builds a
    volume in the pool (another run's clone or copy, which can take minutes on shared storage): wait for
    it, up to ``patience`` seconds."""
    def probe():
        try:
            pool.refresh(0)
            return True, None
        except libvirt.libvirtError as exc:
            if "asynchronous jobs" not in str(exc):
                raise OperationFailed("failed to refresh storage pool %s on %s: %s" % (pool.name(), client.uri, exc))
            return False, str(exc)

    done, why = Waiter(patience).until(probe)
    if not done:
        raise OperationFailed("failed to refresh storage pool %s on %s within %d s: %s"
                              % (pool.name(), client.uri, patience, why))
    return pool


def find_volume(client, path, patience=600):
    """The volume at ``path`` (its directory's pool refreshed first), or None."""
    pool = refresh(client, pool_for_dir(client, os.path.dirname(path)), patience)
    try:
        return pool.storageVolLookupByName(os.path.basename(path))
    except libvirt.libvirtError:
        return None


def volume_info(vol):
    """Path, format, capacity and backing file of a volume."""
    root = ET.fromstring(vol.XMLDesc(0))
    return {
        "path": vol.path(),
        "format": (root.find("target/format").get("type") if root.find("target/format") is not None else None),
        "capacity": int(root.findtext("capacity") or 0),
        "backing": root.findtext("backingStore/path"),
    }


def base_volume(client, path):
    """The base image a clone starts from: it must exist and be known to libvirt."""
    vol = find_volume(client, path)
    if vol is None:
        raise NotFound("base image %s does not exist on %s: list the images under %s or build one"
                       % (path, client.uri, os.path.dirname(path)), image=path)
    return vol


def clone_volume(client, base, dest, capacity_gib=None, linked=True):
    """Create ``dest`` from the volume ``base``: a qcow2 whose backing file is the base (linked) or a full
    copy; grown to ``capacity_gib`` when that is larger than the base. Returns the new volume."""
    info = volume_info(base)
    capacity = info["capacity"]
    if capacity_gib is not None:   # never below the base: the caller refuses that first
        capacity = max(capacity, int(capacity_gib) * GIB)
    pool = pool_for_dir(client, os.path.dirname(dest))
    root = ET.Element("volume")
    ET.SubElement(root, "name").text = os.path.basename(dest)
    ET.SubElement(root, "capacity", unit="bytes").text = str(capacity)
    target = ET.SubElement(root, "target")
    ET.SubElement(target, "format", type="qcow2")
    ET.SubElement(ET.SubElement(target, "permissions"), "mode").text = "0600"
    if linked:
        backing = ET.SubElement(root, "backingStore")
        ET.SubElement(backing, "path").text = info["path"]
        ET.SubElement(backing, "format", type=info["format"] or "qcow2")
    xml = ET.tostring(root, encoding="unicode")
    try:
        if linked:
            vol = pool.createXML(xml, 0)
        else:
            vol = pool.createXMLFrom(xml, base, 0)
    except libvirt.libvirtError as exc:
        raise OperationFailed("creating the disk %s from %s failed on %s: %s" % (dest, info["path"], client.uri, exc))
    if not linked and volume_info(vol)["capacity"] < capacity:
        with libvirt_errors("grow %s" % dest, client.uri):
            vol.resize(capacity, 0)
    return vol


def resize_volume(client, path, size_bytes):
    """Grow the volume at ``path`` to ``size_bytes``."""
    vol = find_volume(client, path)
    if vol is None:
        raise NotFound("the disk %s is not a volume libvirt can find on %s" % (path, client.uri))
    with libvirt_errors("resize %s" % path, client.uri):
        vol.resize(int(size_bytes), 0)


def dependents(client, path):
    """The volumes in ``path``'s directory whose backing file is ``path`` (linked clones of it, made from a
    VM's disk by clonevm.yml clone=linked): deleting ``path`` would break them."""
    pool = refresh(client, pool_for_dir(client, os.path.dirname(path)))
    real = os.path.realpath(path)
    with libvirt_errors("list the disks next to %s" % path, client.uri):
        volumes = pool.listAllVolumes(0)
    found = []
    for vol in volumes:
        try:
            backing = volume_info(vol)["backing"]
        except libvirt.libvirtError as exc:   # deleted since the listing (another run deleting its VM)
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                continue
            raise OperationFailed("failed to read the disk %s on %s: %s" % (vol.name(), client.uri, exc))
        if backing and os.path.realpath(backing) == real:
            found.append(vol.path())
    return sorted(found)


def delete_volume(client, path):
    """Delete the volume at ``path``; True when there was one."""
    vol = find_volume(client, path)
    if vol is None:
        return False
    with libvirt_errors("delete the disk %s" % path, client.uri):
        vol.delete(0)
    return True
