"""Shared helpers of the cluster-in-a-box tools (stdlib only; run with /usr/bin/python3 or the venv)."""

import hashlib
import os
import shutil
import subprocess
import sys
import time

# daemons and admin tools (ip, apt-cacher-ng) live in sbin: make sure a minimal PATH still finds them
for _d in ("/usr/sbin", "/sbin"):
    if _d not in os.environ.get("PATH", "").split(":"):
        os.environ["PATH"] = os.environ.get("PATH", "/usr/bin:/bin") + ":" + _d

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# Caches live outside the checkout so that every clone (and CI) on this machine reuses them.
CACHE = os.environ.get("CLOUD1_CACHE", "/var/cache/cloud1-iaas")
MIRROR = os.environ.get("CLOUD1_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"


def log(msg):
    print("[box %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def die(msg, code=1):
    print("[box] ERROR: %s" % msg, file=sys.stderr, flush=True)
    sys.exit(code)


def run(cmd, check=True, env=None, capture=False, timeout=None, **kw):
    """Run a command (list), echoing it; raise with its output on failure."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    res = subprocess.run(cmd, env=full_env, text=True, timeout=timeout, check=False,
                         stdout=subprocess.PIPE if capture else None,
                         stderr=subprocess.PIPE if capture else None, **kw)
    if check and res.returncode != 0:
        detail = ""
        if capture:
            detail = "\n" + (res.stdout or "")[-2000:] + (res.stderr or "")[-2000:]
        die("command failed (rc=%d): %s%s" % (res.returncode, " ".join(cmd), detail))
    return res


def require_root():
    if os.geteuid() != 0:
        die("the cluster-in-a-box needs root (nspawn, overlay mounts, bridges); run as root")


def require_tools(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        die("missing host tools: %s; run `make deps` (scripts/install-deps.sh) first" % ", ".join(missing))


def recipe_hash(*paths, extra=""):
    """Hash of the files that define a cached artefact (its recipe)."""
    h = hashlib.sha256(extra.encode())
    for p in paths:
        with open(p, "rb") as f:
            h.update(os.path.basename(p).encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


def read_list(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]


def mmdebstrap(target, packages, variant="minbase", hooks=(), dpkgopts=()):
    """Build a Debian root (dir or tarball) from packages, reusing a local .deb cache across builds."""
    debs = os.path.join(CACHE, "debs")
    os.makedirs(debs, exist_ok=True)
    cmd = ["mmdebstrap", "--mode=root", "--variant=%s" % variant,
           "--aptopt=APT::Install-Recommends \"false\"",
           "--include=%s" % ",".join(packages),
           "--skip=download/empty",
           "--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
           "--setup-hook=sync-in %s /var/cache/apt/archives/" % debs,
           "--customize-hook=sync-out /var/cache/apt/archives %s" % debs]
    for opt in dpkgopts:
        cmd.append("--dpkgopt=%s" % opt)
    for hook in hooks:
        cmd.append("--customize-hook=%s" % hook)
    # keep the .deb cache out of the result
    cmd.append("--customize-hook=rm -f \"$1\"/var/cache/apt/archives/*.deb")
    cmd += [SUITE, target, MIRROR]
    run(cmd)
