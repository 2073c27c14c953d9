#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# arrow: the mount's Arrow view. A packed vineyard::Table (one with a
# member ipc_) shows table.arrow in its directory and under its name: the
# ipc_ blob itself (same inode, same bytes), read by passthrough without
# growing the FUSE file's page cache (cachestat, as passthrough.sh
# measures it), read-only, listed and stat'ed without a fetch; removed
# with its table by rm -r. Tables without ipc_ and other objects have no
# view, and a member named table.arrow wins over it.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

SIZE_MB=64

# table NAME IPC_BLOB|"": create an empty vineyard::Table (no columns, no
# batches), packed when IPC_BLOB is given; its id.
table()
{
	local members='' reply

	[ -z "$2" ] || members=", \"ipc_\": \"$2\""
	reply=$(ctl "{\"op\": \"create\", \"typename\": \"vineyard::Table\", \"name\": \"$1\",
		\"fields\": {\"num_rows_\": 0, \"num_columns_\": 0, \"batch_num_\": 0, \"partitions_-size\": 0},
		\"members\": {\"schema_\": \"$SCHEMA\"$members}}")
	id_of "$reply" | grep . || fail "creating table $1 failed: $reply"
}

vfs_mount --memory 400M
[ "$(stat_get data_path)" = passthrough ] || fail "data_path is $(stat_get data_path), expected passthrough"

# The IPC bytes: any bytes will do for the view, which serves them as they are.
head -c $((SIZE_MB << 20)) /dev/urandom >"$T/ipc.bin"
cp "$T/ipc.bin" "$MNT/names/ipc" || fail "writing the ipc blob failed"
wait_sealed "$MNT/names/ipc"
blob=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/ipc") || fail "no blob for names/ipc"
reply=$(ctl '{"op": "create", "typename": "vineyard::SchemaProxy",
	"fields": {"fields_": [], "schema_textual_": ""}}')
SCHEMA=$(id_of "$reply")
[ -n "$SCHEMA" ] || fail "creating the schema failed: $reply"

packed=$(table t "$blob")
plain=$(table u "")

# Listed in the object's directory and under the name; the blob's inode.
ls "$MNT/objects/$packed" | grep -qx table.arrow || fail "objects/$packed lists no table.arrow: $(ls "$MNT/objects/$packed")"
ls "$MNT/names/t/" | grep -qx table.arrow || fail "names/t/ lists no table.arrow"
ino=$(stat -c %i "$MNT/blobs/$blob")
for f in "$MNT/objects/$packed/table.arrow" "$MNT/names/t/table.arrow"; do
	[ "$(stat -c %i "$f")" = "$ino" ] || fail "$f: inode $(stat -c %i "$f"), the ipc_ blob's is $ino"
	[ "$(stat -c %s "$f")" = $((SIZE_MB << 20)) ] || fail "$f: size $(stat -c %s "$f")"
	[ "$(stat -c %F "$f")" = "regular file" ] || fail "$f is a $(stat -c %F "$f")"
done

# Read by passthrough: the same bytes, no FUSE page cache, no read served.
view=$MNT/names/t/table.arrow
reads=$(stat_get reads_served)
before=$(cached_kb "$view") || fail "cachestat of $view failed"
cmp "$view" "$T/ipc.bin" || fail "table.arrow differs from the ipc_ blob's bytes"
after=$(cached_kb "$view") || fail "cachestat of $view failed"
[ $((after - before)) -lt $((16 << 10)) ] ||
	fail "reading the $SIZE_MB MiB view grew its page cache by $(((after - before) >> 10)) MiB (expected < 16 MiB)"
[ "$(stat_get reads_served)" = "$reads" ] || fail "the daemon served reads of the view: $reads -> $(stat_get reads_served)"

# Read-only, as the sealed blob is.
py_errno EPERM "open('$view', 'r+b')"

# No view for a table without ipc_, nor for other objects.
[ ! -e "$MNT/names/u/table.arrow" ] || fail "a table without ipc_ has a table.arrow"
ls "$MNT/names/u/" | grep -qx table.arrow && fail "names/u/ lists table.arrow"
reply=$(ctl "{\"op\": \"create\", \"typename\": \"Sequence\", \"name\": \"s\",
	\"fields\": {\"size_\": 1}, \"members\": {\"__elements_-0\": \"$packed\", \"ipc_\": \"$blob\"}}")
[ -n "$(id_of "$reply")" ] || fail "creating a Sequence failed: $reply"
[ ! -e "$MNT/names/s/table.arrow" ] || fail "a Sequence with an ipc_ member has a table.arrow"

# A member of that name wins over the view.
reply=$(ctl "{\"op\": \"create\", \"typename\": \"vineyard::Table\", \"name\": \"w\",
	\"fields\": {\"num_rows_\": 0, \"num_columns_\": 0, \"batch_num_\": 0, \"partitions_-size\": 0},
	\"members\": {\"schema_\": \"$SCHEMA\", \"ipc_\": \"$blob\", \"table.arrow\": \"$SCHEMA\"}}")
[ -n "$(id_of "$reply")" ] || fail "creating table w failed: $reply"
[ -L "$MNT/names/w/table.arrow" ] || fail "the member table.arrow of w is not the link to its object"

# rm -r of the table (without -f: every unlink must succeed) removes it
# and its view; the view is unlinked as members are (the object is then
# being removed).
rm "$MNT/names/s" || fail "removing s failed"
rm -r "$MNT/objects/$packed" || fail "rm -r of the packed table failed"
[ ! -e "$MNT/objects/$packed" ] || fail "objects/$packed is still there"
[ ! -e "$MNT/names/t" ] || fail "names/t is still there"

echo "PASS: arrow (the view of $SIZE_MB MiB grew its page cache by $(((after - before) >> 10)) MiB)"
