#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# trips: the FUSE round trips the kernel and its callers can be spared.
# Extended attributes the store never has (security.*, POSIX ACLs) answer
# EOPNOTSUPP, so ls -l asks for them once, not for every entry, while
# user.vineyard.* attributes work as before. A name missing from names/
# is a negative entry the kernel keeps: asked once, and shown at once when
# the name appears through names/, a rename, the ctl (create and name) or
# a stream (a cluster member's publish: cluster_names.sh). A reader
# opening right after the writer's close reads every byte, and a ctl
# wait covers the short time until the seal. The daemon clears
# set-user-ID bits where the kernel would (FUSE_HANDLE_KILLPRIV_V2), so
# the kernel asks for security.capability once per file, not per write.
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

# absent NAME: names/NAME is missing, twice (the second from the kernel's
# negative entry, when it keeps one).
absent()
{
	local i

	for i in 1 2; do
		[ ! -e "$MNT/names/$1" ] || fail "names/$1 exists before it was made"
	done
}

# state_is STATE PATH: for wait_until.
state_is()
{
	[ "$(xattr_get user.vineyard.state "$2" 2>/dev/null)" = "$1" ]
}

# Every way a name appears, each after its absence was cached.
absent made
printf 'made' >"$MNT/names/made"
[ "$(cat "$MNT/names/made")" = made ] || fail "names/made, created after a failed stat, does not read back"
absent moved
mv "$MNT/names/o2" "$MNT/names/moved" || fail "mv names/o2 names/moved failed"
[ "$(cat "$MNT/names/moved")" = "object 2" ] || fail "names/moved does not show o2's bytes"
absent thing
reply=$(ctl '{"op":"create","typename":"Thing","fields":{"n_":1},"name":"thing"}')
tid=$(id_of "$reply")
[ -n "$tid" ] || fail "ctl create failed: $reply"
[ "$(xattr_get user.vineyard.id "$MNT/names/thing")" = "$tid" ] || fail "names/thing, made by the ctl, is not shown at once"
absent alias
reply=$(ctl '{"op":"name","id":"'"$tid"'","name":"alias"}')
case $reply in *'"ok":true'*) ;; *) fail "ctl name failed: $reply" ;; esac
[ "$(xattr_get user.vineyard.id "$MNT/names/alias")" = "$tid" ] || fail "names/alias, named by the ctl, is not shown at once"
absent s
printf 'streamed' >"$MNT/streams/s"
[ "$(cat "$MNT/streams/s")" = streamed ] || fail "streams/s does not read back"
wait_until "streams/s complete" state_is complete "$MNT/streams/s"
sid=$(xattr_get user.vineyard.id "$MNT/streams/s")
[ "$(xattr_get user.vineyard.id "$MNT/names/s" 2>/dev/null)" = "$sid" ] ||
	fail "names/s, the complete stream's object, is not shown at once"
rm "$MNT/names/thing" "$MNT/names/alias" 2>/dev/null || true

# Set-user-ID and set-group-ID bits: a writer other than root clears them
# (at its open: its writes pass through), root keeps them, a chown clears
# them; a group-ID bit without group execute stays.
"$PY" - "$MNT" <<'PYEOF' || fail "set-user-ID bits"
import os, stat, subprocess, sys
m = sys.argv[1]
os.umask(0)
def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)
def check(p, want, why):
    if mode(p) != want:
        print("%s: mode %o, expected %o (%s)" % (p, mode(p), want, why))
        sys.exit(1)
held = {}
for n, bits in (("su", 0o6777), ("sg", 0o2767), ("sr", 0o6777)):
    p = m + "/names/" + n
    held[n] = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, bits)
    os.write(held[n], b"mine")
    check(p, bits, "created by root")
writer = "import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY); os.write(fd, b'more'); os.close(fd)"
for n, want in (("su", 0o777), ("sg", 0o2767)):
    subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", writer, m + "/names/" + n], check=True)
    check(m + "/names/" + n, want, "after a write by nobody")
fd = os.open(m + "/names/sr", os.O_WRONLY)
os.write(fd, b"root")
os.close(fd)
check(m + "/names/sr", 0o6777, "after a write by root")
for fd in held.values():
    os.close(fd)
os.chown(m + "/names/sr", 65534, -1)
check(m + "/names/sr", 0o777, "after a chown")
PYEOF

# stat_missing PATH: ten stats of a name that does not exist.
stat_missing()
{
	local i

	for i in $(seq 10); do
		! stat "$1" >/dev/null 2>&1 || fail "$1 exists"
	done
}

# A reader right after the writer's close: every byte is there at once;
# the seal follows the kernel's asynchronous RELEASE and its commit, and
# a ctl wait for the name returns once it is sealed (vineyardfs(8)).
"$PY" - "$MNT" <<'PYEOF' || fail "a reader right after the close"
import json, os, sys
m = sys.argv[1]
unsealed = 0
for i in range(200):
    p = "%s/names/rc%d" % (m, i)
    data = os.urandom(4096)
    fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, data)
    os.close(fd)
    with open(p, "rb") as f:
        if f.read() != data:
            print("rc%d: a reader right after the close got other bytes" % i)
            sys.exit(1)
    if os.getxattr(p, "user.vineyard.sealed") != b"true":
        unsealed += 1
        with open(m + "/.vineyardfs/ctl", "r+b", buffering=0) as c:
            c.write(json.dumps({"op": "wait", "name": "rc%d" % i, "timeout_ms": 30000}).encode())
            r = json.loads(c.read())
        if not r.get("ok") or os.getxattr(p, "user.vineyard.sealed") != b"true":
            print("rc%d: not sealed after a ctl wait: %r" % (i, r))
            sys.exit(1)
print("objects read unsealed right after their close: %d of 200" % unsealed)
PYEOF

if trace_open "$MNT"; then
	# A missing name: one LOOKUP, however often it is asked.
	trace_run stat_missing "$MNT/names/nothing"
	[ "$(trace_n LOOKUP)" -le 1 ] || fail "10 stats of a missing name sent $(trace_n LOOKUP) LOOKUP requests"
	# 64 writes of one new file: security.capability asked once.
	trace_run dd if=/dev/zero of="$MNT/names/written" bs=16k count=64 status=none
	[ "$(trace_n GETXATTR)" -le 1 ] || fail "64 writes sent $(trace_n GETXATTR) GETXATTR requests"

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
