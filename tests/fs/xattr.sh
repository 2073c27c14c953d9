#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# xattr: user fields set with setfattr while a writer holds the object
# open are kept (JSON values as JSON, the rest as strings) and end up in
# meta.json; reserved names, bad names, big values, sealed objects and
# other namespaces are refused with the documented errno.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount
x=$MNT/names/x

exec 3>"$x"
printf 'some bytes' >&3
oid=$(xattr_get user.vineyard.id "$x")
obj=$MNT/objects/$oid
[ "$(xattr_get user.vineyard.sealed "$x")" = false ] || fail "names/x is sealed while a writer holds it open"

setfattr -n user.vineyard.shape -v '[2,3]' "$x" || fail "setfattr user.vineyard.shape failed"
setfattr -n user.vineyard.label -v 'hello world' "$x" || fail "setfattr user.vineyard.label failed"
setfattr -n user.vineyard.rows -v 7 "$obj" || fail "setfattr user.vineyard.rows on objects/$oid failed"
setfattr -n user.vineyard.tmp -v gone "$x" || fail "setfattr user.vineyard.tmp failed"
long=$(printf "%064d" 0 | tr 0 a)
setfattr -n "user.vineyard.$long" -v 1 "$x" || fail "a 64-character field name was refused"
v4096=$(printf "%04096d" 0 | tr 0 v)
setfattr -n user.vineyard.big -v "$v4096" "$x" || fail "a 4096-byte value was refused"

# JSON round trip: [2,3] comes back as that JSON value.
out=$("$PY" -c '
import json, sys
v = sys.argv[1]
if json.loads(v) != [2, 3]:
    print("user.vineyard.shape reads back as %r, not [2,3]" % v)
    sys.exit(1)
' "$(xattr_get user.vineyard.shape "$x")") || fail "$out"
[ "$(xattr_get user.vineyard.label "$x")" = "hello world" ] ||
	fail "user.vineyard.label reads back as '$(xattr_get user.vineyard.label "$x")'"
# Set through the object directory, seen through the name.
[ "$(xattr_get user.vineyard.rows "$x")" = 7 ] || fail "user.vineyard.rows set on objects/$oid not seen on names/x"
[ "$(xattr_get user.vineyard.big "$x")" = "$v4096" ] || fail "the 4096-byte value did not round trip"

# Removing a field of an unsealed object.
setfattr -x user.vineyard.tmp "$x" || fail "setfattr -x user.vineyard.tmp failed on an unsealed object"
must_fail "No such attribute" getfattr -n user.vineyard.tmp "$x"
getfattr --absolute-names -d "$x" | grep -q '^user\.vineyard\.tmp=' && fail "getfattr -d still lists user.vineyard.tmp"

# Reserved names: EPERM.
for n in typename id signature nbytes instance_id global ctime mtime sealed meta members member.buffer_; do
	must_fail "Operation not permitted" setfattr -n "user.vineyard.$n" -v 1 "$x"
	must_fail "Operation not permitted" setfattr -x "user.vineyard.$n" "$x"
done
[ "$(xattr_get user.vineyard.typename "$x")" = Blob ] || fail "typename changed"
[ "$(xattr_get user.vineyard.id "$x")" = "$oid" ] || fail "id changed"

# Bad field names and values: EINVAL.
for n in 9bad a+b -a 'a b' "${long}b" ''; do
	must_fail "Invalid argument" setfattr -n "user.vineyard.$n" -v 1 "$x"
done
must_fail "Invalid argument" setfattr -n user.vineyard.huge -v "$(printf "%05000d" 0)" "$x"
must_fail "Invalid argument" setfattr -n user.vineyard.huge -v "${v4096}w" "$x"
must_fail "No such attribute" getfattr -n user.vineyard.huge "$x"

# Other namespaces: ENOTSUP.
must_fail "Operation not supported" setfattr -n trusted.vineyard.x -v 1 "$x"
must_fail "Operation not supported" setfattr -n security.vineyard -v 1 "$x"
must_fail "Operation not supported" setfattr -n user.other -v 1 "$x"

# Closing seals the object; the fields stay, in xattrs and in meta.json.
exec 3>&-
wait_sealed "$x"
[ "$(xattr_get user.vineyard.label "$x")" = "hello world" ] || fail "user.vineyard.label lost at sealing"
[ "$(xattr_get user.vineyard.rows "$obj")" = 7 ] || fail "user.vineyard.rows lost at sealing"
getfattr --absolute-names -d "$obj" | grep -qx 'user.vineyard.shape="\[2,3\]"' ||
	fail "getfattr -d objects/$oid does not show user.vineyard.shape=\"[2,3]\" after sealing"
[ "$(cat "$x")" = "some bytes" ] || fail "names/x does not hold the bytes written"
out=$("$PY" - "$obj/meta.json" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1]))
bad = []
if m.get("shape") != [2, 3]: bad.append("shape %r (want the list [2, 3])" % m.get("shape"))
if m.get("label") != "hello world": bad.append("label %r" % m.get("label"))
if m.get("rows") != 7: bad.append("rows %r (want the number 7)" % m.get("rows"))
if "tmp" in m: bad.append("the removed field tmp is there")
if m.get("big") != "v" * 4096: bad.append("big is not the 4096-byte string")
if m.get("sealed") is not True: bad.append("sealed %r" % m.get("sealed"))
if bad:
    print("meta.json: " + "; ".join(bad))
    sys.exit(1)
EOF2
) || fail "$out"

# Sealed: no more changes.
must_fail "Operation not permitted" setfattr -n user.vineyard.late -v 1 "$x"
must_fail "Operation not permitted" setfattr -n user.vineyard.label -v other "$obj"
must_fail "Operation not permitted" setfattr -x user.vineyard.label "$x"
[ "$(xattr_get user.vineyard.label "$x")" = "hello world" ] || fail "user.vineyard.label changed after sealing"
must_fail "No such attribute" getfattr -n user.vineyard.late "$x"

echo "PASS: xattr"
