#!/bin/bash
# cluster: two members and etcd on 127.0.0.1. Publish on A: B shows it in
# names/, objects/ (the same meta.json), vineyardfs ls and the xattrs
# (location remote:alpha), without its bytes (open: EREMOTE); a name taken
# twice is EEXIST for the loser; delete on A: gone on B; vineyardfs
# cluster and .vineyardfs/cluster show the members. Without --etcd a store
# is alone (.vineyardfs/cluster says so, publish is ENOTCONN).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

# Alone first.
vfs_mount
[ "$(cat "$MNT/.vineyardfs/cluster")" = "cluster -" ] || fail "a store without --etcd is not alone"
echo x >"$MNT/names/solo"
wait_sealed "$MNT/names/solo"
must_fail "not connected" "$VINEYARDFS" publish -m "$MNT" solo

etcd_start
member_mount 1 alpha
member_mount 2 beta
A=$T/m1
B=$T/m2
wait_joined "$A" "$B"

printf 'hello\n' >"$A/names/greeting"
wait_sealed "$A/names/greeting"
id=$(xattr_get user.vineyard.id "$A/names/greeting")
[ ! -e "$B/names/greeting" ] || fail "an object was shown on B before it was published"
out=$("$VINEYARDFS" publish -m "$A" greeting) || fail "publish: $out"
[ "$out" = "greeting: published" ] || fail "publish said '$out'"

etcd_has /vineyardfs/t/names/greeting || fail "names/greeting is not in etcd"
wait_until "greeting on B" test -e "$B/names/greeting"
[ "$(stat -c %s "$B/names/greeting")" = 6 ] || fail "size on B is not 6"
cmp "$A/objects/$id/meta.json" "$B/objects/$id/meta.json" || fail "meta.json differs between A and B"
ls "$B/objects" | grep -qx "$id" || fail "$id not in B's objects/"
[ "$(xattr_get user.vineyard.location "$B/names/greeting")" = remote:alpha ] ||
	fail "location on B: $(xattr_get user.vineyard.location "$B/names/greeting")"
[ "$(xattr_get user.vineyard.instance_id "$B/objects/$id")" = 1 ] || fail "instance_id on B is not 1"
[ "$(xattr_get user.vineyard.location "$A/names/greeting")" = memory ] || fail "location on A changed"
"$VINEYARDFS" ls -m "$B" | grep -q greeting || fail "vineyardfs ls on B does not show greeting"
ls -l "$B/names/" >/dev/null || fail "ls -l of B's names/"
# Its bytes are A's: no fetch in this slice, and B cannot change it.
py_errno EREMOTE "open('$B/names/greeting', 'rb')"
py_errno EREMOTE "os.unlink('$B/names/greeting')"
py_errno EREMOTE "os.chmod('$B/names/greeting', 0o600)"

# One name, two objects: etcd settles it, the loser gets EEXIST.
echo b >"$B/names/dup"
echo a >"$A/names/dup"
wait_sealed "$B/names/dup"
wait_sealed "$A/names/dup"
"$VINEYARDFS" publish -m "$B" dup >/dev/null || fail "the first publish of dup failed"
must_fail "File exists" "$VINEYARDFS" publish -m "$A" dup

# Python's publish, and the EEXIST it raises.
printf 'py' >"$A/names/frompy"
wait_sealed "$A/names/frompy"
PYTHONPATH=$TESTS_SRCDIR/../python "$PY" - "$A" <<'EOF' || fail "python publish"
import errno, sys
import vineyardfs
c = vineyardfs.Client(sys.argv[1])
assert c.publish("frompy") == "published"
try:
    c.publish("dup")
except vineyardfs.VineyardfsError as e:
    assert e.errno == errno.EEXIST, e
else:
    raise AssertionError("publish of dup did not raise EEXIST")
EOF
wait_until "frompy on B" test -e "$B/names/frompy"

# The members and this member's view.
out=$("$VINEYARDFS" cluster -m "$B")
echo "$out" | grep -q "^member 1 alpha 127.0.0.1:[0-9]* live$" || fail "vineyardfs cluster: $out"
echo "$out" | grep -q "^etcd_reachable yes$" || fail "vineyardfs cluster: $out"
"$VINEYARDFS" cluster --json -m "$A" | "$PY" -c 'import json, sys
c = json.load(sys.stdin)["cluster"]
assert c["instance"] == 1 and c["node"] == "alpha" and c["joined"], c' || fail "cluster --json"

# Delete on the owner: gone on B.
rm "$A/names/greeting"
wait_until "greeting gone from etcd" not etcd_has "/vineyardfs/t/objects/$id"
wait_until "greeting gone from B" test ! -e "$B/names/greeting"
wait_until "$id gone from B's objects/" test ! -e "$B/objects/$id"
exit 0
