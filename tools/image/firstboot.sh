#!/bin/sh
# cloud1.iaas first boot: this VM's own settings (hostname, root key, static address, root growth), handed by
# its host as SMBIOS OEM strings (type 11), one operation per string: "cloud1.v1 <op> <args>" (made by
# plugins/module_utils/core/guestprep.py, smbios_strings). Applied once per instance id, before the network
# and sshd start. No such strings (another platform, a VM whose disk was prepared on its node): nothing to do.
#
# CLOUD1_FIRSTBOOT_ROOT and CLOUD1_FIRSTBOOT_DMI point the script at another root and SMBIOS tree (tests);
# the running system's hostname is then left alone.
set -eu

ROOT=${CLOUD1_FIRSTBOOT_ROOT:-}
DMI=${CLOUD1_FIRSTBOOT_DMI:-/sys/firmware/dmi/entries}
STATE=$ROOT/var/lib/cloud1/firstboot.id
LIST=$(mktemp "${TMPDIR:-/run}/cloud1-firstboot.XXXXXX")
trap 'rm -f "$LIST"' EXIT

say() { echo "cloud1-firstboot: $*" >&2; }

# the strings of every type 11 structure: after its formatted area (its length is the structure's second
# byte), NUL-terminated. Few processes below: each costs tens of milliseconds of an emulated CPU at boot.
for raw in "$DMI"/11-*/raw; do
    [ -r "$raw" ] || continue
    len=$(od -An -tu1 -j1 -N1 "$raw")
    tail -c +$((len + 1)) "$raw" | tr '\0' '\n'
done | grep '^cloud1\.v1 ' > "$LIST" || { say "no settings from the host"; exit 0; }

id=""
while read -r tag op a rest; do
    if [ "$op" = id ]; then id=$a; break; fi
done < "$LIST"
[ -n "$id" ] || { say "settings without an instance id: not applied"; exit 1; }
old=""
if [ -f "$STATE" ]; then read -r old < "$STATE" || true; fi
if [ "$old" = "$id" ]; then
    say "settings of instance $id applied at an earlier boot"
    exit 0
fi

units=""
while read -r tag op a b c; do
    case "$op" in
        id|start|hosts) ;;
        file|append|mkdir|link)
            # a path the host names is always absolute and inside this root
            case "$b" in /*) ;; *) say "not an absolute path: $b"; exit 1 ;; esac
            path=$ROOT$b
            [ "$op" = mkdir ] || [ -d "${path%/*}" ] || mkdir -p "${path%/*}" ;;
        *) say "unknown operation '$op' ($tag): not applied"; exit 1 ;;
    esac
    case "$op" in
        file)
            printf '%s\n' "$c" | base64 -d > "$path"
            chmod "$a" "$path" ;;
        append)
            line=$(printf '%s\n' "$c" | base64 -d)
            if ! [ -f "$path" ] || ! grep -qxF -- "$line" "$path"; then printf '%s\n' "$line" >> "$path"; fi
            chmod "$a" "$path" ;;
        mkdir) mkdir -p -m "$a" "$path" ;;
        link) ln -sfn "$a" "$path" ;;
        hosts)
            hosts=$ROOT/etc/hosts
            if [ -f "$hosts" ]; then sed -i '/^127\.0\.1\.1[[:space:]]/d' "$hosts"; fi
            printf '127.0.1.1\t%s\n' "$a" >> "$hosts"
            [ -n "$ROOT" ] || hostname "$a" ;;
        start) units="$units $a" ;;
    esac
done < "$LIST"

[ -d "${STATE%/*}" ] || mkdir -p "${STATE%/*}"
printf '%s\n' "$id" > "$STATE"
sync
say "settings of instance $id applied"
# units this boot enabled are not in its transaction: queue them (their own ordering applies)
if [ -n "$units" ] && [ -z "$ROOT" ]; then
    # shellcheck disable=SC2086
    systemctl start --no-block $units
fi
