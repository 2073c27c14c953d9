"""put/get of a 1 GiB float64 Tensor and a 10-column DataFrame through the
vineyardfs Python module, against numpy/pandas files on tmpfs and on disk
(with fsync) and against pickle through Redis; prints medians and ratios.

Usage: putget.py MOUNT TMPFS_DIR DISK_DIR REDIS_PORT ROUNDS ROWS
"""
import os
import pickle
import statistics
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import vineyardfs  # noqa: E402
from resp import Redis  # noqa: E402

mount, tmpfs_dir, disk_dir, port, rounds, rows = sys.argv[1:7]
port, rounds, rows = int(port), int(rounds), int(rows)
vfs = vineyardfs.Client(mount)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def touch(x):
    """Read every byte of the result, so that lazy maps are not flattered."""
    if isinstance(x, pd.DataFrame):
        return float(sum(x[c].to_numpy().sum() for c in x.columns))
    return float(np.asarray(x).sum())


def run(label, put, get, check, cleanup=None):
    puts, gets, uses = [], [], []
    for i in range(rounds):
        tp, ref = timed(lambda: put(i))
        tg, val = timed(lambda: get(ref))
        tu, total = timed(lambda: touch(val))
        assert check(val), label
        val = None
        if cleanup is not None:
            cleanup(ref)  # not timed: frees the round's memory
        puts.append(tp)
        gets.append(tg)
        uses.append(tu)
    return statistics.median(puts), statistics.median(gets), statistics.median(uses)


def report(results):
    """The table of medians, then vineyardfs against each baseline."""
    print("%-22s %10s %10s %12s" % ("path", "put", "get", "get+read all"))
    for k, (p, g, u) in results.items():
        print("%-22s %10.3f %10.4f %12.3f" % (k, p, g, g + u))
    v = results["vineyardfs"]
    for k, b in results.items():
        if k != "vineyardfs":
            print("vineyardfs / %-18s put %.2f, get %.4f, get+read %.2f"
                  % (k, v[0] / b[0], v[1] / b[1], (v[1] + v[2]) / (b[1] + b[2])))


def file_pair(d, ext, value, save, load):
    """put saves value into a file in d (fsync'ed on disk), get loads it."""
    def put(i):
        p = os.path.join(d, "v%d.%s" % (i, ext))
        with open(p, "wb") as f:
            save(f, value)
            f.flush()
            if d == disk_dir:
                os.fsync(f.fileno())
        return p

    def get(p):
        with open(p, "rb") as f:
            v = load(f)
        os.unlink(p)
        return v
    return put, get


def np_file(d):
    return file_pair(d, "npy", tensor, np.save, np.load)


def df_file(d):
    return file_pair(d, "pkl", frame, lambda f, v: pickle.dump(v, f, protocol=5), pickle.load)


def vfs_put(value):
    def put(i):
        return vfs.put(value)

    def get(oid):
        return vfs.get(oid)
    return put, get


def redis_pair(value):
    r = Redis(port)

    def put(i):
        r.cmd("SET", "k%d" % i, pickle.dumps(value, protocol=5))
        return "k%d" % i

    def get(k):
        v = pickle.loads(r.cmd("GET", k))
        r.cmd("DEL", k)
        return v
    return put, get


print("== 1 GiB float64 Tensor (%d rounds, medians, seconds) ==" % rounds)
tensor = np.random.default_rng(0).random(1 << 27)
ok_t = (lambda v: v.shape == tensor.shape and v[12345] == tensor[12345])
results = {}
results["vineyardfs"] = run("vfs", *vfs_put(tensor), ok_t, vfs.delete)
results["np.save tmpfs"] = run("tmpfs", *np_file(tmpfs_dir), ok_t)
results["np.save disk+fsync"] = run("disk", *np_file(disk_dir), ok_t)
report(results)

# get must not grow with the size of the object: 1 MiB against 1 GiB.
small = np.ones(1 << 17)
sid = vfs.put(small)
bid = vfs.put(tensor)
g_small = statistics.median(timed(lambda: vfs.get(sid))[0] for _ in range(50))
g_big = statistics.median(timed(lambda: vfs.get(bid))[0] for _ in range(50))
print("get latency, median of 50: 1 MiB %.1f us, 1 GiB %.1f us, ratio %.2f" % (g_small * 1e6, g_big * 1e6, g_big / g_small))
vfs.delete(sid)
vfs.delete(bid)
tensor = None

print()
print("== DataFrame of 10 float64 columns x %d rows (%d MiB; %d rounds) ==" % (rows, rows * 80 >> 20, rounds))
rng = np.random.default_rng(1)
frame = pd.DataFrame({"c%d" % i: rng.random(rows) for i in range(10)})
ok_f = (lambda v: list(v.columns) == list(frame.columns) and v["c3"].iloc[777] == frame["c3"].iloc[777])
results = {}
results["vineyardfs"] = run("vfs", *vfs_put(frame), ok_f, vfs.delete)
results["pickle tmpfs"] = run("tmpfs", *df_file(tmpfs_dir), ok_f)
results["pickle disk+fsync"] = run("disk", *df_file(disk_dir), ok_f)
results["pickle via redis"] = run("redis", *redis_pair(frame), ok_f)
report(results)
