#!/bin/bash
# passthrough: with FUSE passthrough, reads of sealed data go straight to
# the blob's tmpfs pages: no FUSE page cache, no read served by the daemon.
# The same read on a --no-passthrough daemon fills the page cache and is
# served by the daemon, which shows that the measurement can tell the two
# data paths apart. Only the test's own files are measured (the FUSE file's
# page cache, and its blob's file in the daemon's tmpfs), so other work on
# the machine cannot move the numbers.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

SIZE_MB=256

mmap_sha()
{
	"$PY" -c '
import hashlib, mmap, sys
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    print(hashlib.sha256(m).hexdigest())
    m.close()
' "$1"
}

# measure MNT STATE: read MNT/names/x once with dd. Sets GREW to the growth
# of the FUSE file's own page cache and BACKING to the resident size of its
# blob's file in STATE/mem (the daemon's tmpfs), both in KiB. A sealed file
# is opened with keep_cache (fs/file.c): cached_kb's own open drops nothing.
measure()
{
	local blob before after

	blob=$(xattr_get user.vineyard.member.buffer_ "$1/names/x") || fail "no data blob for $1/names/x"
	[ -f "$2/mem/$blob" ] || fail "the blob file $2/mem/$blob of $1/names/x is missing"
	before=$(cached_kb "$1/names/x") || fail "cachestat of $1/names/x failed"
	dd if="$1/names/x" bs=1M of=/dev/null status=none || fail "dd of $1/names/x failed"
	after=$(cached_kb "$1/names/x") || fail "cachestat of $1/names/x failed"
	BACKING=$(cached_kb "$2/mem/$blob") || fail "cachestat of $2/mem/$blob failed"
	GREW=$((after - before))
}

vfs_mount --memory 600M
[ "$(stat_get data_path)" = passthrough ] || fail "data_path is $(stat_get data_path), expected passthrough"
sha=$("$PY" - "$MNT/names/x" "$SIZE_MB" <<'EOF'
import hashlib, os, sys
h = hashlib.sha256()
with open(sys.argv[1], "xb") as f:
    for _ in range(int(sys.argv[2]) // 8):
        b = os.urandom(8 << 20)
        h.update(b)
        f.write(b)
print(h.hexdigest())
EOF
) || fail "writing the $SIZE_MB MiB object failed"
wait_sealed "$MNT/names/x"
[ "$(stat -c %s "$MNT/names/x")" = $((SIZE_MB << 20)) ] || fail "names/x has size $(stat -c %s "$MNT/names/x")"

measure "$MNT" "$STATE"
[ "$GREW" -lt $((32 << 10)) ] ||
	fail "reading $SIZE_MB MiB through passthrough grew the FUSE file's page cache by $((GREW >> 10)) MiB (expected < 32 MiB)"
[ "$BACKING" = $((SIZE_MB << 10)) ] ||
	fail "passthrough: $((BACKING >> 10)) MiB of the $SIZE_MB MiB blob file is resident in tmpfs, expected all of it"
[ "$(stat_get reads_served)" = 0 ] || fail "the daemon served $(stat_get reads_served) reads in passthrough mode"
[ "$(stat_get writes_served)" = 0 ] || fail "the daemon served $(stat_get writes_served) writes in passthrough mode"
got=$(dd if="$MNT/names/x" bs=1M status=none | sha256sum)
[ "${got%% *}" = "$sha" ] || fail "dd of names/x: sha256 ${got%% *}, expected $sha"
got=$(mmap_sha "$MNT/names/x") || fail "mmap of names/x failed"
[ "$got" = "$sha" ] || fail "mmap of names/x: sha256 $got, expected $sha"
[ "$(stat_get reads_served)" = 0 ] || fail "the daemon served $(stat_get reads_served) reads in passthrough mode"
[ "$(stat_get data_path)" = passthrough ] || fail "data_path is $(stat_get data_path) after reading, expected passthrough"
pt_grew=$GREW

# The same on a daemon without passthrough.
mkdir "$T/mnt2" "$T/state2"
vfs_mount_at "$T/state2" "$T/mnt2" --memory 600M --no-passthrough
[ "$(stat_get data_path "$T/mnt2")" = fallback ] || fail "--no-passthrough: data_path is $(stat_get data_path "$T/mnt2"), expected fallback"
cp "$MNT/names/x" "$T/mnt2/names/x" || fail "copying names/x to the fallback daemon failed"
wait_sealed "$T/mnt2/names/x"
reads=$(stat_get reads_served "$T/mnt2")
measure "$T/mnt2" "$T/state2"
[ "$GREW" -gt $((128 << 10)) ] ||
	fail "reading $SIZE_MB MiB without passthrough grew the FUSE file's page cache by only $((GREW >> 10)) MiB (expected > 128 MiB): the measurement cannot tell the data paths apart"
[ "$BACKING" = $((SIZE_MB << 10)) ] ||
	fail "--no-passthrough: $((BACKING >> 10)) MiB of the $SIZE_MB MiB blob file is resident in tmpfs, expected all of it"
[ "$(stat_get reads_served "$T/mnt2")" -gt "$reads" ] || fail "--no-passthrough: the daemon served no reads"
got=$(mmap_sha "$T/mnt2/names/x") || fail "mmap of mnt2/names/x failed"
[ "$got" = "$sha" ] || fail "mmap of mnt2/names/x: sha256 $got, expected $sha"

echo "PASS: passthrough (FUSE file page cache growth: passthrough $((pt_grew >> 10)) MiB, fallback $((GREW >> 10)) MiB)"
