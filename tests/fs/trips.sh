#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# trips: the FUSE round trips the kernel and its callers can be spared.
# Extended attributes the store never has (security.*, POSIX ACLs) answer
# EOPNOTSUPP, so ls -l asks for them once, not for every entry, while
# user.vineyard.* attributes work as before.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"
# shellcheck source=SCRIPTDIR/trace_lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/trace_lib.sh"

vfs_mount
N=50
for i in $(seq $N); do
	printf 'object %d' "$i" >"$MNT/names/o$i"
done
wait_until "every object sealed" stat_is blobs_unsealed 0

# Never-had attributes: EOPNOTSUPP (ENOTSUP, the same number), on names, objects' files and blobs.
x=$MNT/names/o1
oid=$(xattr_get user.vineyard.id "$x")
bid=$(xattr_get user.vineyard.member.buffer_ "$x")
for p in "$x" "$MNT/objects/$oid" "$MNT/blobs/$bid" "$MNT/names"; do
	for n in security.capability security.selinux system.posix_acl_access system.posix_acl_default; do
		py_errno ENOTSUP "os.getxattr('$p', '$n')"
	done
done
# The store's own attributes and other names as before.
[ "$(xattr_get user.vineyard.typename "$x")" = Blob ] || fail "user.vineyard.typename of names/o1 is not Blob"
py_errno ENODATA "os.getxattr('$x', 'user.vineyard.nosuchfield')"
py_errno ENODATA "os.getxattr('$x', 'trusted.x')"
getfattr --absolute-names -d -m - "$x" | grep -q '^user\.vineyard\.id=' || fail "getfattr -d does not list user.vineyard.id"

if trace_open "$MNT"; then
	# ls -l asks the first entry, then no more (coreutils caches
	# "not supported" per device).
	ls -l "$MNT/names" >/dev/null
	trace_run ls -l "$MNT/names" >/dev/null
	g=$(trace_n GETXATTR)
	[ "$g" -le 4 ] || fail "ls -l of $N entries sent $g GETXATTR requests (at most 4 expected)"
	# A user.vineyard.* attribute is still asked each time (getfattr
	# asks for the size, then the value).
	trace_run getfattr -n user.vineyard.typename "$x" >/dev/null
	g=$(trace_n GETXATTR)
	{ [ "$g" -ge 1 ] && [ "$g" -le 2 ]; } || fail "getfattr of user.vineyard.typename sent $g GETXATTR requests"
fi
echo "PASS"
