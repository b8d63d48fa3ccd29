#!/bin/bash
# run-guest.sh [attachments] [options] GUEST_DIR 'shell command' [-- more qemu args]
# By hand, what guest.ts's runGuest() does from the tests: boots the guest that make-guest.sh built under
# QEMU/TCG, runs the command in it (sh in /tmp; PATH has /payload/bin), prints the command's output (serial
# ttyS1) and exits with its exit status. The console (ttyS0: kernel messages, marker lines) goes to the log.
# 124: QEMU ran past the timeout; 125: the guest stopped without a GUEST-EXIT= line (see the log).
# Attachments (repeatable, in order):
#   -cd FILE      image as a SCSI CD-ROM (scsi-cd on virtio-scsi), read-only -> /dev/sr0, sr1 ... (and /dev/sg*)
#   -disk FILE    raw image as a virtio disk, read-write -> /dev/vda, vdb ...; -rodisk FILE: read-only
#                 (QEMU locks what it opens read-write: the same file twice then fails with 'Failed to get "write" lock')
#   -sg URL|DEV   SCSI pass-through (scsi-generic) of an iSCSI LUN (iscsi://HOST:PORT/IQN/LUN) or host /dev/sgN -> /dev/sg*
#   -share DIR    host folder as virtio-9p, read-write, mounted at /share
# Options: -log FILE (default GUEST_DIR/serial.log)  -t SECONDS (timeout, default 300)  -m MiB (default 512)
# Without a command (GUEST_DIR only) the guest gives you a shell on this terminal (Ctrl-A x quits QEMU).
set -u
log= t=300 mem=512 dev=() n=0
esc() { printf '%s' "${1//,/,,}"; }   # a comma in a QEMU option value is written twice
while [ $# -gt 0 ]; do case $1 in
  -cd)     dev+=(-drive "file=$(esc "$2"),if=none,id=d$n,format=raw,readonly=on,media=cdrom" -device "scsi-cd,bus=scsi0.0,scsi-id=$n,lun=0,drive=d$n");;
  -disk)   dev+=(-drive "file=$(esc "$2"),if=none,id=d$n,format=raw" -device "virtio-blk-pci,drive=d$n");;
  -rodisk) dev+=(-drive "file=$(esc "$2"),if=none,id=d$n,format=raw,readonly=on" -device "virtio-blk-pci,drive=d$n");;
  -sg)     dev+=(-drive "file=$(esc "$2"),if=none,id=d$n,format=raw" -device "scsi-generic,bus=scsi0.0,scsi-id=$n,lun=0,drive=d$n");;
  -share)  dev+=(-virtfs "local,path=$(esc "$2"),mount_tag=share,security_model=none");;
  -log) log=$2;; -t) t=$2;; -m) mem=$2;;
  *) break;; esac; shift 2; n=$((n+1)); done
G=$1; shift
k=$G/vmlinux; init=(-kernel "$k" -initrd "$G/initrd.img" -append "console=ttyS0 quiet panic=-1 scsi_mod.scan=sync")
q=(qemu-system-x86_64 -accel tcg -M pc -cpu max -smp 1 -m "$mem" -nodefaults -no-user-config -display none -no-reboot)
if [ $# = 0 ]; then exec "${q[@]}" -serial mon:stdio "${init[@]}" -device virtio-scsi-pci,id=scsi0 "${dev[@]}"; fi
cmd=$1; shift; [ "${1:-}" = -- ] && shift
log=${log:-$G/serial.log}; tmp=$(mktemp -d); printf '%s\n' "$cmd" > "$tmp/cmd"
nice -n 10 timeout "$t" "${q[@]}" -serial "file:$log" -serial "file:$tmp/out" "${init[@]}" \
  -fw_cfg "name=opt/cmd,file=$tmp/cmd" -device virtio-scsi-pci,id=scsi0 "${dev[@]}" "$@"
s=$?; cat "$tmp/out"; rm -rf "$tmp"
rc=$(tr -d '\r' < "$log" | sed -n 's/^GUEST-EXIT=\([0-9]*\).*/\1/p' | tail -1)
[ $s = 124 ] && { echo "run-guest: timeout after ${t}s, log: $log" >&2; exit 124; }
[ -n "$rc" ] || { echo "run-guest: no GUEST-EXIT line (qemu status $s), log: $log" >&2; exit 125; }
exit "$rc"
