#!/bin/sh
# Build vineyardfs, mount a demo store, write a sample object and show it.
# The store stays mounted at /tmp/vineyardfs-demo/mnt; the last lines say
# how to take it down.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

sh scripts/deps.sh
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || ../configure --quiet
make -j"$(nproc)" --no-print-directory -s
cd "$top"

demo=/tmp/vineyardfs-demo
mnt=$demo/mnt
state=$demo/state
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then
	build/vineyardfs umount "$mnt"
fi
build/vineyardfs mount --state-dir "$state" --memory 1G "$mnt"

run() {
	printf '\n$ %s\n' "$*"
	"$@"
}
head -c 1048576 /dev/urandom >"$demo/sample.bin"
run cp "$demo/sample.bin" "$mnt/names/sample"
# The object seals when the kernel releases the file, just after close.
i=0
until [ "$(getfattr --only-values -n user.vineyard.sealed "$mnt/names/sample" 2>/dev/null)" = true ]; do
	i=$((i + 1))
	[ $i -lt 1000 ] || { echo "demo: object did not seal" >&2; exit 1; }
done
run ls -l "$mnt" "$mnt/names" "$mnt/objects" "$mnt/blobs"
run getfattr -d "$mnt/names/sample"
obj=$(ls "$mnt/objects")
run ls -l "$mnt/objects/$obj"
run cat "$mnt/objects/$obj/meta.json"
run cmp "$demo/sample.bin" "$mnt/names/sample"
run cat "$mnt/.vineyardfs/stats"
printf '\nThe store is mounted at %s. Take it down with:\n' "$mnt"
printf '  %s/build/vineyardfs umount %s && umount %s/mem\n' "$top" "$mnt" "$state"
