#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# basic: a file copied into names/ becomes a sealed Blob object, readable
# through every view (names/, objects/o…/buffer_, blobs/b…) with cat, dd,
# mmap and numpy, and described by its xattrs and meta.json.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

umask 022
vfs_mount

head -c 3145728 /dev/urandom >"$T/data"
chmod 0644 "$T/data"
cp "$T/data" "$MNT/names/x"
wait_sealed "$MNT/names/x"

oid=$(xattr_get user.vineyard.id "$MNT/names/x")
bid=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/x")
case $oid in o[0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) ;; *) fail "bad object id '$oid'" ;; esac
[ ${#oid} -eq 17 ] || fail "object id '$oid' is not o + 16 hex"
case $bid in b8*) ;; *) fail "blob id '$bid' does not start with b8 (bit 63)" ;; esac
[ ${#bid} -eq 17 ] || fail "blob id '$bid' is not b + 16 hex"
[ "$(ls "$MNT/objects")" = "$oid" ] || fail "objects/ lists '$(ls "$MNT/objects")', expected $oid"
[ "$(ls "$MNT/blobs")" = "$bid" ] || fail "blobs/ lists '$(ls "$MNT/blobs")', expected $bid"

# The same bytes through every view.
cmp "$T/data" "$MNT/names/x" || fail "names/x differs from the source"
cmp "$T/data" "$MNT/objects/$oid/buffer_" || fail "objects/$oid/buffer_ differs from the source"
cmp "$T/data" "$MNT/blobs/$bid" || fail "blobs/$bid differs from the source"

# ls -l: size and mode (0644 from cp under umask 022).
for f in "names/x" "objects/$oid/buffer_" "blobs/$bid"; do
	read -r mode _ _ _ size _ <<<"$(ls -l "$MNT/$f")"
	[ "$mode" = "-rw-r--r--" ] || fail "ls -l $f: mode $mode, expected -rw-r--r--"
	[ "$size" = 3145728 ] || fail "ls -l $f: size $size, expected 3145728"
done
read -r mode _ <<<"$(ls -ld "$MNT/objects/$oid")"
[ "$mode" = "drwxr-xr-x" ] || fail "ls -ld objects/$oid: mode $mode, expected drwxr-xr-x (x where r)"

# Inode numbers are the ids.
ino=$(stat -c %i "$MNT/objects/$oid")
[ "$ino" = "$(printf %u "0x${oid#o}")" ] || fail "inode of objects/$oid is $ino, expected $(printf %u "0x${oid#o}")"
ino=$(stat -c %i "$MNT/blobs/$bid")
[ "$ino" = "$(printf %u "0x${bid#b}")" ] || fail "inode of blobs/$bid is $ino, expected $(printf %u "0x${bid#b}")"
ino=$(stat -c %i "$MNT/names/x")
want=$(printf %u $((0x${oid#o} | (1 << 60))))
[ "$ino" = "$want" ] || fail "inode of names/x is $ino, expected id|1<<60 = $want"
ino=$(stat -c %i "$MNT/objects/$oid/meta.json")
want=$(printf %u $((0x${oid#o} | (2 << 60))))
[ "$ino" = "$want" ] || fail "inode of meta.json is $ino, expected id|2<<60 = $want"

# xattrs, as getfattr -d shows them.
instance=$(stat_get instance_id)
check_xattrs()
{
	local f=$1 id=$2 dump want

	dump=$(getfattr --absolute-names -d "$MNT/$f" 2>/dev/null) || fail "getfattr -d $f failed"
	for want in 'user.vineyard.typename="Blob"' "user.vineyard.id=\"$id\"" \
		'user.vineyard.nbytes="3145728"' "user.vineyard.instance_id=\"$instance\"" \
		'user.vineyard.sealed="true"'; do
		echo "$dump" | grep -qxF "$want" || fail "getfattr -d $f lacks $want: $dump"
	done
	echo "$dump" | grep -qE '^user\.vineyard\.ctime="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z"$' ||
		fail "getfattr -d $f: no ISO 8601 ctime with ns: $dump"
}
check_xattrs "names/x" "$oid"
check_xattrs "objects/$oid" "$oid"
check_xattrs "blobs/$bid" "$bid"
getfattr --absolute-names -d "$MNT/names/x" 2>/dev/null | grep -qxF "user.vineyard.member.buffer_=\"$bid\"" ||
	fail "names/x has no user.vineyard.member.buffer_=\"$bid\""

# meta.json: the whole tree as JSON.
out=$("$PY" - "$MNT/objects/$oid/meta.json" "$oid" "$bid" <<'EOF'
import json, sys
path, oid, bid = sys.argv[1:]
with open(path) as f:
    m = json.load(f)
bad = []
if m.get("typename") != "Blob": bad.append("typename %r" % m.get("typename"))
if m.get("id") != oid: bad.append("id %r" % m.get("id"))
if m.get("nbytes") != 3145728: bad.append("nbytes %r" % m.get("nbytes"))
b = m.get("buffer_")
if not isinstance(b, dict) or b.get("id") != bid: bad.append("buffer_ %r" % b)
if bad:
    print("meta.json: " + ", ".join(bad))
    sys.exit(1)
EOF
) || fail "$out"

# dd with 1 MiB blocks, and mmap.
want=$(sha256sum <"$T/data")
got=$(dd if="$MNT/names/x" bs=1M status=none | sha256sum)
[ "$got" = "$want" ] || fail "dd bs=1M of names/x: sha256 $got, expected $want"
out=$("$PY" - "$MNT/names/x" "$T/data" <<'EOF'
import mmap, sys
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "rb") as g:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    ok = m[:] == g.read()
    m.close()
if not ok:
    print("mmap of names/x differs from the source")
    sys.exit(1)
EOF
) || fail "$out"

# numpy: write an array, read it back with np.memmap.
"$PY" - "$MNT/names/arr" "$T/arr.npy" <<'EOF' || fail "numpy write failed"
import sys, numpy as np
a = np.random.default_rng().standard_normal(100000)
a.tofile(sys.argv[1])
np.save(sys.argv[2], a)
EOF
wait_sealed "$MNT/names/arr"
out=$("$PY" - "$MNT/names/arr" "$T/arr.npy" <<'EOF'
import sys, numpy as np
m = np.memmap(sys.argv[1], dtype=np.float64, mode="r")
a = np.load(sys.argv[2])
if m.shape != a.shape or not np.array_equal(m, a):
    print("np.memmap of names/arr: shape %s, differs from the array written" % (m.shape,))
    sys.exit(1)
EOF
) || fail "$out"
[ "$(xattr_get user.vineyard.nbytes "$MNT/names/arr")" = 800000 ] ||
	fail "names/arr nbytes is not 800000"

# An empty file is a sealed, empty object.
: >"$MNT/names/empty"
wait_sealed "$MNT/names/empty"
[ "$(xattr_get user.vineyard.nbytes "$MNT/names/empty")" = 0 ] ||
	fail "names/empty: nbytes is not 0"
[ "$(stat -c %s "$MNT/names/empty")" = 0 ] || fail "names/empty: size is not 0"
[ "$(xattr_get user.vineyard.typename "$MNT/names/empty")" = Blob ] ||
	fail "names/empty: typename is not Blob"
[ "$(stat_get objects)" = 3 ] || fail "stats objects is $(stat_get objects), expected 3"
[ "$(stat_get blobs_sealed)" = 3 ] || fail "stats blobs_sealed is $(stat_get blobs_sealed), expected 3"

# The control files.
got=$(cat "$MNT/.vineyardfs/version")
want=$("$VINEYARDFS" --version)
[ "$got" = "$want" ] || fail ".vineyardfs/version is '$got', expected '$want'"
[ "$(stat_get data_path)" = "$DATA_PATH" ] || fail "stats data_path is $(stat_get data_path), expected $DATA_PATH"
[ "$(stat_get pid)" = "$(vfs_pid)" ] || fail "stats pid differs from the pid in $STATE/lock"

echo "PASS: basic"
