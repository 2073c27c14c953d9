#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# clib: libvineyardfs against a real mount (tests/clib_test.c: every call,
# its results and its errno values, zero copy by RssShmem), then Tensors
# across clients: C writes a Tensor and a Sequence of a Graph and a Scalar,
# Python and the CLI read them; Python writes, C reads.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

CLIB=$(dirname "$VINEYARDFS")/tests/clib_test
[ -x "$CLIB" ] || fail "$CLIB is not built"
vfs_mount
"$CLIB" "$MNT" "$DATA_PATH" all || fail "clib_test all"

# C -> Python, C -> CLI.
"$CLIB" "$MNT" "$DATA_PATH" write >"$T/id" || fail "clib_test write"
PYTHONPATH=$TESTS_SRCDIR/../python "$PY" - "$MNT" "$(head -n 1 "$T/id")" <<'PYEOF' || fail "Python did not read what C wrote"
import sys, numpy as np, vineyardfs
vfs = vineyardfs.Client(sys.argv[1])
a = vfs.get("from_c")
want = np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, -12]]], dtype=np.int32)
assert a.dtype == np.int32 and (a == want).all(), a
assert vfs.list()["from_c"] == sys.argv[2]
g, label = vfs.get("seq_c")
assert label == "from C", label
assert (g.vertex_num, g.edge_num) == (3, 3), (g.vertex_num, g.edge_num)
assert list(g.offsets) == [0, 2, 3, 3] and list(g.edges) == [1, 2, 0], (g.offsets, g.edges)
vfs.put(np.arange(12, dtype=np.uint16).reshape(3, 4) * 1000, name="from_py")
PYEOF
"$VINEYARDFS" get --mount "$MNT" -o "$T/c.npy" from_c
"$PY" -c 'import numpy as np, sys; a = np.load(sys.argv[1]); assert a.shape == (2, 2, 3) and a[1, 1, 2] == -12, a' "$T/c.npy" ||
	fail "the CLI's .npy of the C Tensor is wrong"
# The example of libvineyardfs(3) does what the page says.
VINEYARDFS_MOUNT=$MNT "$(dirname "$VINEYARDFS")/tests/example" >"$T/example" || fail "the man page's example failed"
grep -qx 'o[0-9a-f]*: float64 2x3, m\[1\]\[2\] = 6' "$T/example" || fail "the man page's example printed: $(cat "$T/example")"
# Python -> C.
"$CLIB" "$MNT" "$DATA_PATH" read || fail "C did not read what Python wrote"
echo "PASS: clib"
