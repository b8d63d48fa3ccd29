#!/bin/sh
# make-guest.sh OUT [PAYLOAD_DIR] -- builds a tiny Linux guest for the kernel tests (guest.ts runs it, and so
# does run-guest.sh by hand). Nothing is installed: the kernel and busybox are `apt-get download`ed .debs.
#   OUT/vmlinux     Debian's own kernel (linux-image-*-amd64), the ELF inside its bzImage: QEMU boots it through
#                   the PVH entry, which skips the XZ decompressor (~2.5 s under TCG)
#   OUT/initrd.img  busybox-static + the kernel MODULES (and what they depend on) + /init (guest-init.sh)
#                   + BINS and PAYLOAD_DIR at /payload (PAYLOAD_DIR/x -> /payload/x, BINS -> /payload/bin)
#   OUT/guest.env   KVER=, KPKG=, MODULES= of this build
# Environment:
#   CACHE    where the downloaded .debs (and, while building, their unpacked trees) go; default OUT/../downloads
#   KPKG     kernel package; default: what linux-image-amd64 depends on (e.g. linux-image-6.1.0-56-amd64)
#   MODULES  modules /init loads at boot, in this order (their dependencies come along: modprobe uses modules.dep)
#   BINS     host programs to copy into /payload/bin; their shared libraries (ldd) go to the same paths
#   LIBS_OF  host programs whose shared libraries only are copied (e.g. node, run from a 9p share)
#   KEEP_UNPACKED=1  keep the unpacked kernel tree in CACHE (~400 MB; re-unpacking costs a few seconds)
#   GZIP=0   leave the initramfs uncompressed
# Needs: apt-get + dpkg (download only; as root it runs `apt-get update` once when the lists are missing),
# cpio, gzip, xz-utils.
set -eu
OUT=$(realpath -m "$1"); PAYLOAD=${2:+$(realpath "$2")}
MODULES=${MODULES:-"virtio_pci virtio_blk virtio_scsi sd_mod sr_mod sg isofs udf nls_utf8 qemu_fw_cfg loop 9p 9pnet_virtio"}
BINS=${BINS:-}
HERE=$(dirname "$(realpath "$0")")
CACHE=$(realpath -m "${CACHE:-$OUT/../downloads}"); mkdir -p "$OUT" "$CACHE" && cd "$CACHE"

updated=0
apt_update() {   # the package lists are missing or stale (a fresh machine): refresh them once, if we may
  [ $updated = 0 ] && [ "$(id -u)" = 0 ] || return 1
  echo "make-guest: apt-get update" >&2; updated=1; apt-get update -q >&2
}
fetch() {        # fetch PKG: a PKG_*.deb already here, or apt-get download (no install)
  ls "$1"_*.deb >/dev/null 2>&1 || apt-get download "$1" >&2 2>/dev/null
}
kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}'; }

# 1. the kernel and busybox-static .debs, unpacked (dpkg -x)
pinned=${KPKG:-}; KPKG=${KPKG:-$(kernel_pkg)}
if [ -z "$KPKG" ] || ! fetch "$KPKG" || ! fetch busybox-static; then
  apt_update || true                     # then try again, with what apt knows now (an old ABI leaves the mirror)
  KPKG=${pinned:-$(kernel_pkg)}
  [ -n "$KPKG" ] || { echo "make-guest: apt knows no linux-image-amd64 (apt-get update?)" >&2; exit 1; }
  for p in "$KPKG" busybox-static; do
    fetch "$p" || apt-get download "$p" >&2 || { echo "make-guest: cannot download $p" >&2; exit 1; }
  done
fi
K=$CACHE/unpacked-$KPKG
[ -d "$K" ] || { rm -rf "$K.tmp"; mkdir "$K.tmp" && dpkg -x "$(ls "${KPKG}"_*.deb | tail -1)" "$K.tmp" && mv "$K.tmp" "$K"; }
[ -d busybox ] || { rm -rf busybox.tmp; mkdir busybox.tmp && dpkg -x "$(ls busybox-static_*.deb | tail -1)" busybox.tmp && mv busybox.tmp busybox; }
KVER=$(ls "$K/lib/modules"); MD=$K/lib/modules/$KVER; BB=$CACHE/busybox/bin/busybox
[ -f "$MD/modules.dep" ] || "$BB" depmod -b "$K" "$KVER"   # the .deb ships no modules.dep: busybox makes one
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$K/boot/vmlinuz-$KVER" | head -1 | cut -d: -f1)
tail -c +$((off + 1)) "$K/boot/vmlinuz-$KVER" | xz -dc --single-stream > "$OUT/vmlinux"

# 2. the root tree: busybox and its applets, the modules with a trimmed modules.dep, /init
R=$OUT/root; rm -rf "$R"; mkdir -p "$R/bin" "$R/etc" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/mnt" "$R/payload" "$R/lib/modules/$KVER"
ln -s bin "$R/sbin"; cp "$BB" "$R/bin/busybox"
for a in $("$BB" --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
D=$R/lib/modules/$KVER; : > "$D/dep.tmp"
for m in $MODULES; do      # modules.dep line "kernel/x/m.ko: dep1.ko dep2.ko": copy m and its deps, keep their lines
  line=$(grep -E "/$(echo "$m" | sed 's/[-_]/[-_]/g')\.ko(\.xz)?:" "$MD/modules.dep" | tr -d ':')
  [ -n "$line" ] || { echo "make-guest: no module $m in $KVER" >&2; exit 1; }
  for f in $line; do mkdir -p "$D/${f%/*}"; cp "$MD/$f" "$D/$f"; grep "^$f:" "$MD/modules.dep" >> "$D/dep.tmp"; done
done
sort -u "$D/dep.tmp" > "$D/modules.dep"; rm "$D/dep.tmp"
echo $MODULES > "$R/etc/guest-modules"
cp "$HERE/guest-init.sh" "$R/init"; chmod 755 "$R/init"

# 3. BINS, LIBS_OF and PAYLOAD_DIR
for b in $BINS; do mkdir -p "$R/payload/bin"; cp "$(command -v "$b")" "$R/payload/bin/"; done
for b in $BINS ${LIBS_OF:-}; do
  for l in $(ldd "$(command -v "$b")" | grep -o '/[^ ]*'); do mkdir -p "$R${l%/*}"; cp -L "$l" "$R$l"; done
done
[ -z "$PAYLOAD" ] || cp -a "$PAYLOAD"/. "$R/payload/"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$OUT/initrd.cpio"
rm -rf "$R"
if [ "${GZIP:-1}" = 1 ]; then gzip -1 -c "$OUT/initrd.cpio" > "$OUT/initrd.img"; rm "$OUT/initrd.cpio"; else mv "$OUT/initrd.cpio" "$OUT/initrd.img"; fi
printf 'KVER=%s\nKPKG=%s\nMODULES="%s"\n' "$KVER" "$KPKG" "$MODULES" > "$OUT/guest.env"
[ "${KEEP_UNPACKED:-0}" = 1 ] || rm -rf "$K"
echo "make-guest: kernel $KVER, $OUT (initrd.img $(du -h "$OUT/initrd.img" | cut -f1))"
