"""A DataFrame of ROWS rows with int, float, string, timestamp and category
columns: put, get, and get followed by reading every value, through the
vineyardfs Python module (a packed vineyard::Table) against pickle and CSV
files on tmpfs and against pickle through Redis. Every round runs each
path once, the order rotating (interleaved); medians with min-max, ratios.

Usage: arrow.py MOUNT TMPFS_DIR REDIS_PORT ROUNDS ROWS
       arrow.py put MOUNT ROWS NAME    (the same frame put once, named NAME:
                                        the table bench/arrow's view part reads)
"""
import os
import pickle
import statistics
import sys
import time

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import vineyardfs  # noqa: E402
from resp import Redis  # noqa: E402

PUT_ONLY = sys.argv[1] == "put"
if PUT_ONLY:
    mount, rows, put_name = sys.argv[2], int(sys.argv[3]), sys.argv[4]
else:
    mount, tmpfs_dir, port, rounds, rows = sys.argv[1:6]
    port, rounds, rows = int(port), int(rounds), int(rows)
vfs = vineyardfs.Client(mount)

rng = np.random.default_rng(1)
frame = pd.DataFrame({
    "id": np.arange(rows, dtype=np.int64),
    "price": rng.random(rows) * 1000,
    # Distinct string objects (pickle would store a repeated object once).
    "name": np.array(["name-%d" % i for i in rng.integers(0, 10**12, rows)], dtype=object),
    "ts": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**9, rows), unit="ms"),
    "city": pd.Categorical(np.array(["city%02d" % i for i in range(64)])[rng.integers(0, 64, rows)]),
})

if PUT_ONLY:
    vfs.put(frame, name=put_name)
    sys.exit(0)


def touch(df):
    """Read every value: numbers summed, every string's length, every code."""
    total = float(df["id"].to_numpy().sum()) + float(df["price"].to_numpy().sum())
    total += float(df["ts"].to_numpy().view(np.int64).sum())
    total += sum(map(len, df["name"].to_numpy()))
    total += float(df["city"].cat.codes.to_numpy().sum()) + len(df["city"].cat.categories)
    return total


def ok(df):
    return (list(df.columns) == list(frame.columns) and len(df) == rows
            and df["name"].iloc[rows // 3] == frame["name"].iloc[rows // 3]
            and df["ts"].iloc[rows - 1] == frame["ts"].iloc[rows - 1]
            and df["city"].iloc[7] == frame["city"].iloc[7])


def vfs_path():
    return (lambda: vfs.put(frame)), vfs.get, vfs.delete


def pickle_path():
    p = os.path.join(tmpfs_dir, "f.pkl")

    def put():
        with open(p, "wb") as f:
            pickle.dump(frame, f, protocol=5)
        return p

    def get(p):
        with open(p, "rb") as f:
            return pickle.load(f)
    return put, get, os.unlink


def csv_path():
    p = os.path.join(tmpfs_dir, "f.csv")

    def put():
        frame.to_csv(p, index=False)
        return p

    def get(p):
        return pd.read_csv(p, dtype={"id": np.int64, "price": np.float64, "name": object, "city": "category"},
                           parse_dates=["ts"])
    return put, get, os.unlink


def redis_path():
    r = Redis(port)

    def put():
        r.cmd("SET", "f", pickle.dumps(frame, protocol=5))
        return "f"

    def get(k):
        return pickle.loads(r.cmd("GET", k))
    return put, get, (lambda k: r.cmd("DEL", k))


paths = {"vineyardfs": vfs_path(), "pickle tmpfs": pickle_path(), "CSV tmpfs": csv_path(),
         "pickle via redis": redis_path()}
names = list(paths)
times = {k: ([], [], []) for k in names}
print("== DataFrame of %d rows: int64, float64, string (object), timestamp[ns], category; "
      "%d interleaved rounds ==" % (rows, rounds))
for r in range(rounds):
    order = names[r % len(names):] + names[:r % len(names)]
    for k in order:
        put, get, drop = paths[k]
        t0 = time.perf_counter()
        ref = put()
        t1 = time.perf_counter()
        df = get(ref)
        t2 = time.perf_counter()
        touch(df)
        t3 = time.perf_counter()
        assert ok(df), k
        if r == 0:  # once, untimed: the whole frame is equal
            assert_frame_equal(df, frame, check_exact=k != "CSV tmpfs")
        df = None
        drop(ref)
        for lst, v in zip(times[k], (t1 - t0, t2 - t1, t3 - t1)):
            lst.append(v)
    print("round %d: %s" % (r + 1, ", ".join("%s put %.3f get %.4f get+read %.3f"
                                              % (k, times[k][0][-1], times[k][1][-1], times[k][2][-1])
                                              for k in names)), flush=True)


def fig(lst):
    return "%.4f (%.4f-%.4f)" % (statistics.median(lst), min(lst), max(lst))


print()
print("medians in seconds (min-max over %d rounds)" % rounds)
print("%-18s %-26s %-26s %-26s" % ("path", "put", "get", "get + read every value"))
for k in names:
    print("%-18s %-26s %-26s %-26s" % ((k,) + tuple(fig(x) for x in times[k])))
v = [statistics.median(x) for x in times["vineyardfs"]]
for k in names[1:]:
    b = [statistics.median(x) for x in times[k]]
    print("vineyardfs / %-16s put %.2f, get %.4f, get+read %.2f" % (k, v[0] / b[0], v[1] / b[1], v[2] / b[2]))
