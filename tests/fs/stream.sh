#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# stream: byte streams in streams/ with real processes. Readers started
# before the writer get bytes as they are written and end at its close;
# readers started later replay from the start; a second writer gets EBUSY;
# a writer killed with SIGKILL fails the stream (EIO after its bytes,
# state "failed"); a reader interrupted with SIGINT returns EINTR at once;
# shell pipelines with tee and < work; object streams carry objects from a
# Python producer to Python and CLI consumers in order, listed in
# streams/<name>/, a Sequence once complete, failed when the producer is
# killed; a complete stream is a ByteStream
# object (chunks as members) that rm removes; a writer that runs out of
# memory waits until memory frees, then goes on without losing a byte, or
# after --stream-wait gets ENOSPC and the stream fails.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount
S=$MNT/streams

# A name only looked at is a pending stream while the kernel holds it, and
# goes when the kernel forgets it: nothing is left behind.
[ "$(stat_get streams)" = 0 ] || fail "a new store has streams"
[ -e "$S/typo" ] || fail "a stream name does not look like a (pending) stream"
[ "$(stat_get streams)" = 1 ] || fail "a looked-up stream is not counted"
[ -z "$(ls "$S")" ] || fail "streams/ lists an idle pending stream: $(ls "$S")"
drop_dentries()
{
	echo 2 >/proc/sys/vm/drop_caches
	stat_is streams 0
}
wait_until "the kernel to forget streams/typo" drop_dentries

# has FILE TEXT: FILE holds TEXT (for wait_until).
has()
{
	grep -q "$2" "$1" 2>/dev/null
}

# Two readers before the writer; the bytes reach them while it writes.
cat "$S/s" >"$T/r1" &
r1=$!
VFS_BG+=("$r1")
"$PY" -c 'import sys; sys.stdout.write(open(sys.argv[1]).read())' "$S/s" >"$T/r2" &
r2=$!
VFS_BG+=("$r2")
wait_until "two parked readers" stat_is requests_waiting 2
[ "$(xattr_get user.vineyard.state "$S/s")" = pending ] || fail "a stream read before its writer is not pending"
exec 5>"$S/s"
[ "$(xattr_get user.vineyard.state "$S/s")" = open ] || fail "a stream being written is not open"
printf 'part one\n' >&5
wait_until "the first reader to see part one" has "$T/r1" "part one"
pid_alive "$r1" || fail "the reader ended while the writer is open"
# A second writer is refused; a reader that comes now starts from the top.
must_fail "Device or resource busy" sh -c "echo x > '$S/s'"
cat "$S/s" >"$T/r3" 5>&- &
r3=$!
VFS_BG+=("$r3")
wait_until "the third reader to replay part one" has "$T/r3" "part one"
printf 'part two\n' >&5
exec 5>&-
for r in "$r1" "$r2" "$r3"; do
	wait "$r" || fail "a reader failed"
done
printf 'part one\npart two\n' >"$T/want"
for f in r1 r2 r3; do
	cmp "$T/want" "$T/$f" || fail "reader $f got: $(cat "$T/$f")"
done
cat "$S/s" >"$T/r4" || fail "reading a complete stream failed"
cmp "$T/want" "$T/r4" || fail "a reader after the end got: $(cat "$T/r4")"

# A complete stream is a sealed ByteStream object, named like the stream.
[ "$(xattr_get user.vineyard.state "$S/s")" = complete ] || fail "a closed stream is not complete"
id=$(xattr_get user.vineyard.id "$S/s")
[ "$(xattr_get user.vineyard.typename "$MNT/objects/$id")" = ByteStream ] || fail "its object is not a ByteStream"
[ "$(xattr_get user.vineyard.id "$MNT/names/s")" = "$id" ] || fail "names/s is not the stream's object"
cmp "$T/want" "$MNT/objects/$id/__chunk_-0" || fail "the chunk holds other bytes"
[ "$(xattr_get user.vineyard.size_ "$MNT/objects/$id")" = 18 ] || fail "size_ is not 18"
must_fail "Operation not permitted" sh -c "echo more > '$S/s'"
must_fail "Not a directory" rmdir "$S/s"
rm "$S/s" || fail "rm of a complete stream failed"
[ ! -e "$MNT/objects/$id" ] || fail "rm of the stream left its object"
[ ! -e "$MNT/names/s" ] || fail "rm of the stream left its name"

# A killed writer fails the stream: readers get its bytes, then EIO.
cat "$S/k" >"$T/k1" 2>"$T/k1.err" &
k1=$!
VFS_BG+=("$k1")
wait_until "a parked reader" stat_is requests_waiting 1
(bash -c 'exec 6>"$1"; printf "before the kill\n" >&6; kill -9 $$' _ "$S/k") 2>/dev/null || true
rc=0
wait "$k1" || rc=$?
[ "$rc" != 0 ] || fail "the reader of a failed stream exited 0"
grep -q "Input/output error" "$T/k1.err" || fail "the reader of a failed stream said: $(cat "$T/k1.err")"
[ "$(cat "$T/k1")" = "before the kill" ] || fail "the reader of a failed stream got: $(cat "$T/k1")"
[ "$(xattr_get user.vineyard.state "$S/k")" = failed ] || fail "the stream of a killed writer is not failed"
xattr_get user.vineyard.error "$S/k" | grep -q "signal 9" || fail "the failure does not say why"
must_fail "Input/output error" cat "$S/k"
rm "$S/k"

# SIGINT ends a parked read at once with EINTR.
"$PY" - "$S/never" "$T/intr" <<'EOF' &
import os, signal, sys
class Interrupted(Exception):
    pass
def on_int(*a):
    raise Interrupted()
signal.signal(signal.SIGINT, on_int)
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    os.read(fd, 4096)
    out = "read returned"
except Interrupted:
    out = "EINTR"
open(sys.argv[2], "w").write(out)
EOF
ipid=$!
VFS_BG+=("$ipid")
wait_until "a parked reader" stat_is requests_waiting 1
kill -INT "$ipid"
wait "$ipid" || fail "the interrupted reader failed"
[ "$(cat "$T/intr")" = EINTR ] || fail "the interrupted reader got: $(cat "$T/intr")"
wait_until "no parked reads" stat_is requests_waiting 0

# Pipelines: producer | tee stream, consumer < stream, 40 MiB (3 chunks).
head -c $((40 << 20)) /dev/urandom >"$T/data"
sha256sum <"$T/data" >"$T/data.sum"
sha256sum <"$S/p" >"$T/p.sum" &
c=$!
VFS_BG+=("$c")
wait_until "a parked consumer" stat_is requests_waiting 1
cat "$T/data" | tee "$S/p" >/dev/null
wait "$c" || fail "the consumer failed"
cmp "$T/data.sum" "$T/p.sum" || fail "the consumer read other bytes"
[ "$(xattr_get user.vineyard.chunks "$S/p")" = 3 ] || fail "40 MiB did not make 3 chunks"
rm "$S/p"

# Object streams: a Python consumer started first takes the Tensors a
# Python producer pushes, in order, as they come; the CLI reads the same
# stream from the start; streams/q lists what was pushed; the complete
# stream is a Sequence. A producer killed mid-way fails its stream.
cat >"$T/consume.py" <<'EOF'
import sys, vineyardfs
vfs = vineyardfs.Client(sys.argv[1])
with open(sys.argv[2], "w") as out:
    for a in vfs.stream_reader("q"):
        out.write("%s %s\n" % (a.dtype, a.sum()))
        out.flush()
EOF
cat >"$T/produce.py" <<'EOF'
import os, sys, time, numpy as np, vineyardfs
vfs = vineyardfs.Client(sys.argv[1])
with vfs.stream_writer("q") as w:
    w.push(np.full(4, 1.5))
    while not os.path.exists(sys.argv[2]):   # the test says when to go on
        time.sleep(0.01)
    w.push(np.arange(10, dtype=np.int32))
    w.push(vfs.put(np.ones(3, dtype=np.uint8)))
EOF
PYTHONPATH=$TESTS_SRCDIR/../python "$PY" "$T/consume.py" "$MNT" "$T/consumed" &
cons=$!
VFS_BG+=("$cons")
wait_until "a parked consumer" stat_is requests_waiting 1
PYTHONPATH=$TESTS_SRCDIR/../python "$PY" "$T/produce.py" "$MNT" "$T/go" &
prod=$!
VFS_BG+=("$prod")
wait_until "the consumer to get the first object" has "$T/consumed" "float64 6.0"
[ "$(ls "$S/q")" = 0 ] || fail "streams/q lists: $(ls "$S/q")"
must_fail "Device or resource busy" rm "$S/q/0" # still being produced
[ "$(xattr_get user.vineyard.state "$S/q")" = open ] || fail "an object stream being produced is not open"
"$VINEYARDFS" stream read --mount "$MNT" q >"$T/cli.read" &
cr=$!
VFS_BG+=("$cr")
wait_until "the CLI to replay the first object" has "$T/cli.read" "^0 o"
touch "$T/go"
wait "$prod" || fail "the Python producer failed"
wait "$cons" || fail "the Python consumer failed"
printf 'float64 6.0\nint32 45\nuint8 3\n' >"$T/want.q"
cmp "$T/want.q" "$T/consumed" || fail "the consumer got: $(cat "$T/consumed")"
wait "$cr" || fail "the CLI reader failed"
[ "$(wc -l <"$T/cli.read")" = 3 ] || fail "the CLI read: $(cat "$T/cli.read")"
[ "$(ls "$S/q" | tr '\n' ' ')" = "0 1 2 " ] || fail "streams/q lists: $(ls "$S/q")"
first=$(sed -n '1s/^0 //p' "$T/cli.read")
[ "$(readlink "$S/q/0")" = "../../objects/$first" ] || fail "streams/q/0 links to $(readlink "$S/q/0")"
[ "$(xattr_get user.vineyard.typename "$S/q/1/")" = Tensor ] || fail "streams/q/1 is not the Tensor"
[ "$(xattr_get user.vineyard.state "$S/q")" = complete ] || fail "a closed object stream is not complete"
[ "$(xattr_get user.vineyard.typename "$MNT/names/q")" = Sequence ] || fail "a complete object stream is not a Sequence"
[ "$(xattr_get user.vineyard.size_ "$MNT/names/q")" = 3 ] || fail "its Sequence has not 3 elements"
must_fail "Operation not permitted" "$VINEYARDFS" stream push --mount "$MNT" q "$T/want.q"
# An object stream is a directory: unlink refuses it, rm -r (its entries,
# then rmdir) removes it with its Sequence and the objects no one else holds.
must_fail "Is a directory" rm -f "$S/q"
rm -r "$S/q" || fail "rm -r of a complete object stream failed"
# (A name looked up in streams/ is a new pending stream.)
[ "$(xattr_get user.vineyard.state "$S/q")" = pending ] || fail "rm -r of the object stream left it"
[ ! -e "$MNT/names/q" ] || fail "rm -r of the object stream left its Sequence's name"
[ ! -e "$MNT/objects/$first" ] || fail "rm -r of the object stream left its first object"
# shellcheck disable=SC2016 # $1 and $$ belong to the inner shell
(bash -c 'exec 8<>"$1/.vineyardfs/ctl"; printf "{\"op\":\"stream_open\",\"name\":\"dead\"}" >&8; cat <&8 >/dev/null; kill -9 $$' _ "$MNT") 2>/dev/null || true
must_fail "failed: its producer closed the control file" "$VINEYARDFS" stream read --mount "$MNT" dead

# Backpressure: 30 MiB (2 chunks of 16 MiB) into a 40 MiB store that holds
# a 20 MiB object: the writer waits for its second chunk until that object
# goes, then ends, every byte in place.
mkdir "$T/m2" "$T/s2"
vfs_mount_at "$T/s2" "$T/m2" --memory 40M
head -c $((20 << 20)) /dev/zero >"$T/m2/names/ballast"
wait_sealed "$T/m2/names/ballast"
head -c $((30 << 20)) /dev/urandom >"$T/data2"
cp "$T/data2" "$T/m2/streams/b" &
w=$!
VFS_BG+=("$w")
wait_until "the writer to wait for memory" stat_is requests_waiting 1 "$T/m2"
pid_alive "$w" || fail "the writer did not wait for memory"
rm "$T/m2/names/ballast"
wait "$w" || fail "the writer failed after memory freed"
cmp "$T/data2" "$T/m2/streams/b" || fail "the stream written under pressure differs"
# Memory that never frees: ENOSPC after --stream-wait, and the stream fails.
mkdir "$T/m3" "$T/s3"
vfs_mount_at "$T/s3" "$T/m3" --memory 40M --stream-wait 1
head -c $((20 << 20)) /dev/zero >"$T/m3/names/ballast"
wait_sealed "$T/m3/names/ballast"
must_fail "No space left on device" cp "$T/data2" "$T/m3/streams/c"
[ "$(xattr_get user.vineyard.state "$T/m3/streams/c")" = failed ] || fail "a stream that ran out of memory is not failed"
must_fail "Input/output error" cat "$T/m3/streams/c"
echo "PASS: stream"
