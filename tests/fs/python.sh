#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# python: the vineyardfs Python module against a real mount: numpy arrays,
# pandas DataFrames and bytes round trip, get maps the blob's own tmpfs pages (zero copy:
# they count as the process's shared memory, not as page cache), list,
# delete, wait_name.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount
PYTHONPATH=$TESTS_SRCDIR/../python VINEYARDFS_MOUNT=$MNT "$PY" - "$STATE" "$DATA_PATH" <<'EOF' ||
import errno, os, sys, threading, time
import numpy as np
import vineyardfs

state, data_path = sys.argv[1], sys.argv[2]
vfs = vineyardfs.Client()

a = np.random.default_rng(1).random((300, 200))
oid = vfs.put(a, name="a")
assert oid.startswith("o"), oid
b = vfs.get("a")
assert isinstance(b, np.memmap) and b.dtype == np.float64 and b.shape == (300, 200), (type(b), b.dtype, b.shape)
assert (b == a).all()
assert not b.flags.writeable
assert (vfs.get(oid) == a).all()
meta = vfs.meta("a")
assert meta["typename"] == "Tensor" and meta["nbytes"] == a.nbytes, meta

# Zero copy: the array's pages are the blob's tmpfs pages. Touching all of
# a 32 MiB tensor maps 32 MiB of shared memory (RssShmem) into this process
# with passthrough; without it they would be page-cache copies (RssFile).
def rss(kind):
    for line in open("/proc/self/status"):
        if line.startswith(kind + ":"):
            return int(line.split()[1]) << 10
big = np.ones(4 << 20)
vfs.put(big, name="big")
shmem, filemem = rss("RssShmem"), rss("RssFile")
m = vfs.get("big")
assert m.sum() == big.size
grew_shmem, grew_file = rss("RssShmem") - shmem, rss("RssFile") - filemem
if data_path == "passthrough":
    assert grew_shmem >= 30 << 20, "the tensor's pages are not the blob's (RssShmem +%d, RssFile +%d)" % (grew_shmem, grew_file)
else:
    assert grew_file >= 30 << 20, "fallback: expected page-cache pages (RssShmem +%d, RssFile +%d)" % (grew_shmem, grew_file)
del m
vfs.delete("big")
# The temporary name used to write the blob is gone; only "a" is listed.
assert vfs.list() == {"a": oid}, vfs.list()

for dt in ("int8", "uint16", "int32", "uint64", "float32", "bool"):
    x = (np.arange(24) % 7).astype(dt).reshape(2, 3, 4)
    assert (vfs.get(vfs.put(x)) == x).all(), dt
assert vfs.get(vfs.put(np.zeros((0, 5)))).shape == (0, 5)

import pandas as pd
df = pd.DataFrame({"x": np.arange(1000.0), "y": np.arange(1000, dtype=np.int32), "z": np.arange(1000) % 2 == 0})
vfs.put(df, name="df")
back = vfs.get("df")
assert list(back.columns) == ["x", "y", "z"] and back.equals(df), back
assert vfs.meta("df")["typename"] == "DataFrame"
col = vfs.get(os.path.basename(os.path.realpath(os.path.join(os.environ["VINEYARDFS_MOUNT"], "names", "df", "y"))))
assert (col == df["y"].to_numpy()).all()  # the column is a Tensor object of its own
# No copy: the frame's column is a memory map of the column's blob.
assert isinstance(back["x"].values.base, np.memmap) or isinstance(back["x"].values, np.memmap), type(back["x"].values.base)
del back
# delete is deep: the column Tensors put made for the frame go with it;
# with deep=False they stay, unnamed, under objects/.
objects = os.path.join(os.environ["VINEYARDFS_MOUNT"], "objects")
def columns(fid):
    return [os.path.basename(os.path.realpath(os.path.join(objects, fid, c))) for c in ("x", "y", "z")]
fid = vfs.meta("df")["id"]
cols = columns(fid)
vfs.delete("df")
assert not os.path.exists(os.path.join(objects, fid))
assert not any(os.path.exists(os.path.join(objects, c)) for c in cols), cols
fid = vfs.put(df)
cols = columns(fid)
vfs.delete(fid, deep=False)
assert not os.path.exists(os.path.join(objects, fid))
assert [vfs.get(c).tolist() for c in cols] == [df[c].tolist() for c in ("x", "y", "z")]
for c in cols:
    vfs.delete(c)

bid = vfs.put(b"hello, shared memory", name="greeting")
assert bytes(vfs.get("greeting")) == b"hello, shared memory"
assert bytes(vfs.get(bid)) == b"hello, shared memory"
anon = vfs.put(b"no name")
assert anon not in vfs.list().values()
assert bytes(vfs.get(anon)) == b"no name"

try:
    vfs.put(a, name="a")
    raise AssertionError("a taken name was accepted")
except vineyardfs.VineyardfsError as e:
    assert e.errno == 17, e  # EEXIST

vfs.delete("a")
try:
    vfs.get("a")
    raise AssertionError("a deleted object is still there")
except FileNotFoundError:
    pass

t = threading.Timer(0.3, lambda: vfs.put(b"late", name="late"))
t.start()
start = time.monotonic()
lid = vfs.wait_name("late", timeout=20)
assert bytes(vfs.get(lid)) == b"late" and time.monotonic() - start >= 0.25
t.join()
# A name being written is not ready: wait_name waits for its seal.
mnt = os.environ["VINEYARDFS_MOUNT"]
with open(os.path.join(mnt, "names", "slow"), "wb", buffering=0) as w:
    w.write(b"first half ")
    try:
        vfs.wait_name("slow", timeout=0.3)
        raise AssertionError("wait_name returned an unsealed object")
    except TimeoutError:
        pass
    w.write(b"second half")
assert bytes(vfs.get(vfs.wait_name("slow", timeout=20))) == b"first half second half"
try:
    vfs.wait_name("never", timeout=0.2)
    raise AssertionError("wait_name did not time out")
except TimeoutError:
    pass

# A Tensor built in place: its array is the blob's shared memory (writing
# it maps shared pages, not private ones), sealed without a copy.
def rss_shmem():
    return int(open("/proc/self/status").read().split("RssShmem:")[1].split()[0])
before = set(os.listdir(os.path.join(mnt, "names")))
shm0 = rss_shmem()
tw = vfs.tensor_writer((1024, 512), "float64", name="inplace")
tw.array[:] = np.arange(1024 * 512, dtype=np.float64).reshape(1024, 512)
shm = rss_shmem() - shm0
assert data_path != "passthrough" or shm >= 4096 - 64, "the array is not shared memory (RssShmem +%d kB)" % shm
v = tw.array[3]
try:
    tw.seal()
    raise AssertionError("seal() with a view of the array alive")
except ValueError:
    pass
del v
tid = tw.seal()
got = vfs.get("inplace")
assert got.dtype == np.float64 and got.shape == (1024, 512) and got[1023, 511] == 1024 * 512 - 1
assert vfs.meta("inplace")["id"] == tid
# An exception in the block discards it; nothing is left behind.
try:
    with vfs.tensor_writer(1000, np.int32, name="dropped") as t:
        t.array[:] = 7
        raise KeyError("stop")
except KeyError:
    pass
with vfs.tensor_writer((), "uint8") as z:
    pass
assert vfs.get(z.id).shape == ()
assert set(os.listdir(os.path.join(mnt, "names"))) == before | {"inplace"}, os.listdir(os.path.join(mnt, "names"))
for bad in [((2, 2), ">f8"), ((2, 2), "complex128"), ((-1,), "int8")]:
    try:
        vfs.tensor_writer(*bad)
        raise AssertionError("tensor_writer%r worked" % (bad,))
    except (TypeError, ValueError):
        pass

# Vineyard's names: a v6d script ports by changing its import.
import vineyardfs as vineyard
client = vineyard.connect(mnt)
vid = client.put(np.arange(6, dtype=np.int64).reshape(2, 3))
client.put_name(vid, "v6d")
assert client.get_name("v6d") == vid
assert (client.get(name="v6d") == np.arange(6).reshape(2, 3)).all()
assert (client.get(vid) == np.arange(6).reshape(2, 3)).all()
assert client.get_meta(vid)["typename"] == "Tensor"
tensors = client.list_objects("Tens*", limit=1000)
assert vid in [m["id"] for m in tensors] and all(m["typename"] == "Tensor" for m in tensors), tensors
assert len(client.list_objects("Tensor", limit=1)) == 1
assert client.list_objects("^Data", regex=True, limit=1000) == [m for m in client.list_objects("*", limit=1000) if m["typename"].startswith("Data")]
client.put(b"y", name="taken")
try:
    client.put_name(vid, "taken")  # another object's name
    raise AssertionError("put_name onto a taken name worked")
except vineyard.VineyardfsError as e:
    assert e.errno == errno.EEXIST, e
client.drop_name("v6d")
try:
    client.get_name("v6d")
    raise AssertionError("get_name of a dropped name worked")
except FileNotFoundError:
    pass
assert client.get_meta(vid)["id"] == vid  # the object stays
# Not in a cluster: persist says so (ENOTCONN), as put(persist=True) does.
for call in (lambda: client.persist(vid), lambda: client.put(b"x", persist=True)):
    try:
        call()
        raise AssertionError("persist outside a cluster worked")
    except vineyard.VineyardfsError as e:
        assert e.errno == errno.ENOTCONN, e
try:
    vineyard.connect("/")
    raise AssertionError("connect to / worked")
except FileNotFoundError:
    pass
try:
    client.get()
    raise AssertionError("get() of nothing worked")
except TypeError:
    pass
print("python module: ok")
EOF
	fail "the Python module test failed"
[ "$(stat_get objects)" -ge 1 ] || fail "no objects left after the Python test"
echo "PASS: python"
