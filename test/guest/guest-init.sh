#!/bin/sh
# /init of the test guest (make-guest.sh puts it into the initramfs). Mounts the pseudo file systems, loads the
# modules named in /etc/guest-modules, mounts each virtio-9p share at /<mount_tag>, runs the command that the
# host passed through fw_cfg (opt/cmd) with sh in /tmp and powers off.
# Two serial ports: ttyS0 is the console (kernel messages and the marker lines below: the "log"), ttyS1 carries
# the command's stdout and stderr, byte for byte (raw mode: no \r added): the "output".
#   GUEST-UP uptime=<s>             before the command
#   GUEST-EXIT=<status> uptime=<s>  after it (sync has run by then)
# Without a command it starts a shell on the console instead (for poking around by hand).
export PATH=/payload/bin:/bin:/sbin HOME=/tmp TERM=dumb NO_COLOR=1 LANG=C.UTF-8
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev; mount -t tmpfs tmpfs /tmp
for m in $(cat /etc/guest-modules); do modprobe "$m" || echo "guest-init: modprobe $m failed"; done
for t in /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag; do
  [ -r "$t" ] || continue; tag=$(tr -d '\0' < "$t"); mkdir -p "/$tag"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose "$tag" "/$tag"
done
cmd=/sys/firmware/qemu_fw_cfg/by_name/opt/cmd/raw
echo "GUEST-UP uptime=$(cut -d' ' -f1 /proc/uptime)"
if [ -r $cmd ]; then
  cp $cmd /tmp/cmd
  out=/dev/console
  if [ -c /dev/ttyS1 ] && exec 3<>/dev/ttyS1 && stty raw -echo <&3; then out=/dev/ttyS1; fi
  (cd /tmp && exec sh /tmp/cmd) </dev/null >$out 2>&1; rc=$?
  exec 3>&-      # the last close of ttyS1 waits until all of its output is sent
  sync; echo "GUEST-EXIT=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
else
  setsid cttyhack sh
fi
sync; poweroff -f
