"""The Python parts of bench/cluster, one round of one measurement per run:

  cluster.py propagation A B N TAG     publish N new small objects on member
                                       A, each timed from the publish request
                                       to its name showing in B's names/
  cluster.py etcd URL N TAG            the same through etcd alone: a put,
                                       timed until a watch on the prefix sees it
  cluster.py pipeline KIND A B CHUNKS ROWS RAWCOPY TAG
                                       stage 1 on A makes CHUNKS DataFrames
                                       (8 float64 columns x ROWS rows) and hands
                                       each to stage 2 on B, which reads every
                                       value; KIND: vfs (put + publish on A, get
                                       on B), file (a pickle file per chunk on A,
                                       copied over TCP to B's dir by RAWCOPY),
                                       redis (SET of the pickle on the redis at
                                       port A, GET from B; B names a dir unused)

propagation and etcd print "P50_MS P99_MS MAX_MS" and write every latency
(ms, one a line) to TAG.lat; pipeline prints "END_TO_END PRODUCER_END WAITED
READ" (seconds from the start: until B's last checksum, until stage 1 is
done; B's time waiting for chunks and reading them) and exits 1 if B's
checksum of any chunk is not A's. The stages of a pipeline
are separate processes (this file run as "stage ..."), started and warmed up
before the clock starts, told "go" on stdin.
"""
import base64
import http.client
import json
import os
import pickle
import queue
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import vineyardfs  # noqa: E402
from resp import Redis  # noqa: E402

now = time.monotonic
COLS = 8
MASK = (1 << 64) - 1


def percentiles(lat):
    s = sorted(lat)
    pick = (lambda q: s[min(len(s) - 1, int(q * len(s)))])
    return pick(0.5), pick(0.99), s[-1]


def report(lat, tag):
    with open(tag + ".lat", "w") as f:
        f.write("".join("%.3f\n" % x for x in lat))
    print("%.3f %.3f %.3f" % percentiles(lat))


def exists(path):
    try:
        os.stat(path)
        return True
    except FileNotFoundError:
        return False


def wait_for(path, timeout=60.0, tight=0.0):
    """Poll path until it exists: spinning for tight seconds, then every
    100 µs (FUSE has no inotify); bounded."""
    t0 = now()
    while not exists(path):
        t = now() - t0
        if t > timeout:
            sys.exit("cluster.py: %s did not appear in %.0f s" % (path, timeout))
        if t > tight:
            time.sleep(0.0001)


def propagation(a, b, n, tag):
    ca = vineyardfs.Client(a)
    lat = []
    for i in range(n):
        name = "%s-%d" % (tag, i)
        oid = ca.put(b"x" * 64, name=name)  # not timed: a new object each time
        t0 = now()
        ca._request({"op": "publish", "id": oid})
        wait_for(os.path.join(b, "names", name), tight=0.2)
        lat.append((now() - t0) * 1e3)
    report(lat, tag)


class Etcd:
    """etcd's v3 JSON gateway on one kept-alive connection."""

    def __init__(self, url):
        host, port = url.split("//", 1)[1].rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def post(self, path, body):
        self.conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit("cluster.py: etcd %s: HTTP %d %s" % (path, r.status, data[:200]))
        return json.loads(data)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def etcd(url, n, tag):
    """A put of a new key, timed until a watch on the prefix (opened first,
    on its own connection, read by a thread) reports it: what etcd alone
    takes for the path a publish goes through (put, then B's watch)."""
    prefix = "/bench/%s/" % tag
    end = prefix[:-1] + "0"  # the prefix's range end: '/' + 1
    seen = {}
    cond = threading.Condition()
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    w = http.client.HTTPConnection(host, int(port), timeout=60)
    w.request("POST", "/v3/watch", json.dumps({"create_request": {"key": b64(prefix), "range_end": b64(end)}}))
    stream = w.getresponse()
    if stream.readline().find(b'"created":true') < 0:
        sys.exit("cluster.py: the etcd watch was not created")

    def reader():
        while True:
            line = stream.readline()
            if not line:
                return
            t = now()
            for ev in json.loads(line).get("result", {}).get("events", []):
                with cond:
                    seen[base64.b64decode(ev["kv"]["key"]).decode()] = t
                    cond.notify_all()

    threading.Thread(target=reader, daemon=True).start()
    kv = Etcd(url)
    lat = []
    for i in range(n):
        key = "%s%d" % (prefix, i)
        t0 = now()
        kv.post("/v3/kv/put", {"key": b64(key), "value": b64("x" * 64)})
        with cond:
            if not cond.wait_for(lambda: key in seen, timeout=60):
                sys.exit("cluster.py: the etcd watch did not see %s in 60 s" % key)
            lat.append((seen[key] - t0) * 1e3)
    kv.post("/v3/kv/deleterange", {"key": b64(prefix), "range_end": b64(end)})
    report(lat, tag)


# ---- the pipeline ----


def make_chunk(i, rows):
    """A DataFrame that differs in every chunk; cheap to make."""
    base = np.arange(rows, dtype=np.float64)
    return pd.DataFrame({"c%d" % c: base * (c + 1) + i for c in range(COLS)}, copy=False)


def digest(df):
    """Every value read: the wrapping sum of each column's 64-bit words."""
    total = 0
    for c in df.columns:
        total = (total * 0x100000001B3 + int(np.asarray(df[c]).view(np.uint64).sum(dtype=np.uint64))) & MASK
    return total


def copier(jobs, rawcopy, dst_dir):
    """Copy each finished file on A to B's dir over TCP, one at a time, in
    the order made: rawcopy send on A's side, rawcopy recv on B's, then a
    rename, so that B sees only whole files."""
    while True:
        src = jobs.get()
        if src is None:
            return
        name = os.path.basename(src)
        part = os.path.join(dst_dir, "." + name)
        snd = subprocess.Popen([rawcopy, "send", src], stdout=subprocess.PIPE, text=True)
        port = snd.stdout.readline().strip()
        rcv = subprocess.run([rawcopy, "recv", port, part, str(os.path.getsize(src))],
                             stdout=subprocess.DEVNULL)
        if snd.wait() != 0 or rcv.returncode != 0:
            sys.exit("cluster.py: copying %s failed" % src)
        os.rename(part, os.path.join(dst_dir, name))


def produce(kind, a, b, chunks, rows, rawcopy, tag):
    sums = []
    if kind == "vfs":
        c = vineyardfs.Client(a)
    elif kind == "redis":
        r = Redis(int(a))
    else:
        jobs = queue.Queue()
        t = threading.Thread(target=copier, args=(jobs, rawcopy, b))
        t.start()
    for i in range(chunks):
        df = make_chunk(i, rows)
        sums.append(digest(df))
        name = "%s-%d" % (tag, i)
        if kind == "vfs":
            c._request({"op": "publish", "id": c.put(df, name=name)})
        elif kind == "redis":
            r.cmd("SET", name, pickle.dumps(df, protocol=5))
            r.cmd("RPUSH", tag, i)
        else:
            path = os.path.join(a, name)
            with open(path + ".tmp", "wb") as f:
                pickle.dump(df, f, protocol=5)
            os.rename(path + ".tmp", path)
            jobs.put(path)
    if kind == "file":
        jobs.put(None)
        t.join()
    return sums


def consume(kind, a, b, chunks, tag):
    """Every chunk's checksum, and the seconds spent waiting for chunks and
    reading them (the get or GET, unpickling, every value summed)."""
    sums = []
    waited = read = 0.0
    if kind == "vfs":
        c = vineyardfs.Client(b)
    elif kind == "redis":
        r = Redis(int(a))
    for i in range(chunks):
        name = "%s-%d" % (tag, i)
        t0 = now()
        if kind == "vfs":
            c.wait_name(name, timeout=60)  # parked in the daemon: no polling
            t1 = now()
            df = c.get(name)
        elif kind == "redis":
            r.cmd("BLPOP", tag, 0)
            t1 = now()
            df = pickle.loads(r.cmd("GET", name))
        else:
            path = os.path.join(b, name)
            wait_for(path)
            t1 = now()
            with open(path, "rb") as f:
                df = pickle.load(f)
        sums.append(digest(df))
        del df
        waited += t1 - t0
        read += now() - t1
    return sums, waited, read


def stage(role, kind, a, b, chunks, rows, rawcopy, tag):
    # Warm up pandas, numpy and pickle on a small chunk, untimed.
    pickle.loads(pickle.dumps(make_chunk(0, 1024), protocol=5))
    digest(make_chunk(0, 1024))
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    t0 = now()
    waited = read = 0.0
    if role == "produce":
        sums = produce(kind, a, b, chunks, rows, rawcopy, tag)
    else:
        sums, waited, read = consume(kind, a, b, chunks, tag)
    print("%r %r %r %r %s" % (t0, now(), waited, read, ",".join("%x" % s for s in sums)), flush=True)


LIVE = []  # the stages started, killed if the pipeline fails


def start_stage(role, args):
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "stage", role] + args,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    LIVE.append(p)
    if p.stdout.readline() != "ready\n":
        p.kill()
        sys.exit("cluster.py: the %s did not start" % role)
    return p


def finish(p, role):
    line = p.stdout.readline()
    if p.wait() != 0 or not line:
        sys.exit("cluster.py: the %s failed (exit %s)" % (role, p.returncode))
    t0, t1, waited, read, sums = line.split()
    return float(t1), float(waited), float(read), sums


def pipeline(kind, a, b, chunks, rows, rawcopy, tag):
    args = [kind, a, b, str(chunks), str(rows), rawcopy, tag]
    cons = start_stage("consume", args)
    prod = start_stage("produce", args)
    t0 = now()
    cons.stdin.write("go\n")  # the consumer first: it waits for the first chunk
    cons.stdin.flush()
    prod.stdin.write("go\n")
    prod.stdin.flush()
    pend, _, _, psums = finish(prod, "producer")
    cend, waited, read, csums = finish(cons, "consumer")
    if psums != csums:
        sys.exit("cluster.py: %s: CHECKSUM MISMATCH between A's chunks and what B read:\n  A %s\n  B %s"
                 % (kind, psums, csums))
    print("%.3f %.3f %.3f %.3f" % (cend - t0, pend - t0, waited, read))


def main():
    av = sys.argv
    if len(av) == 10 and av[1] == "stage":
        stage(av[2], av[3], av[4], av[5], int(av[6]), int(av[7]), av[8], av[9])
    elif len(av) == 6 and av[1] == "propagation":
        propagation(av[2], av[3], int(av[4]), av[5])
    elif len(av) == 5 and av[1] == "etcd":
        etcd(av[2], int(av[3]), av[4])
    elif len(av) == 9 and av[1] == "pipeline":
        try:
            pipeline(av[2], av[3], av[4], int(av[5]), int(av[6]), av[7], av[8])
        finally:
            for p in LIVE:  # none left holding the mounts on a failure
                if p.poll() is None:
                    p.kill()
                    p.wait()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
