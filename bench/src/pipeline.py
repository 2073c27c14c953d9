"""A two-stage pipeline, producer -> consumer, over 64 MiB chunks: through a
vineyardfs byte stream (both stages at once, plain read and write), through
a vineyardfs object stream (both at once; each chunk put as a Tensor and
pushed, the consumer maps it), through a tmpfs file and through a file on
disk with fsync (one stage after the other). Prints end-to-end
times, the consumer's time to its first full chunk, ratios, and where the
time goes; checks that the consumer's checksum is the producer's.

Both stages are separate processes (this file run as "worker ..."), started
and warmed up before the clock starts, told "go" on stdin; they report
CLOCK_MONOTONIC times, which are comparable across processes.

Usage: pipeline.py bench MOUNT TMPFS_DIR DISK_DIR DAEMON_PID ROUNDS CHUNKS STAGE_MS
       pipeline.py transport PATH CHUNKS     (one stream pass, no work)
"""
import errno
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import vineyardfs  # noqa: E402

CHUNK = 64 << 20
WORDS = CHUNK // 8
BLOCK = 1 << 15  # words: 256 KiB, worked on while it is in the CPU's cache
NBLOCKS = WORDS // BLOCK
MASK = (1 << 64) - 1
SEED = 0x5EED
MIXC = np.uint64(0xBF58476D1CE4E5B9)
SHIFT = np.uint64(31)
now = time.monotonic


class Work:
    """The per-chunk work of both stages, block by block so that it is CPU
    work, not a test of memory bandwidth: each 256 KiB block is stirred in
    the cache and the chunk goes through memory once. The producer fills
    a block with a counter pattern and stirs it with `passes` mixing passes
    (splitmix-like, 3 numpy operations each); the consumer checksums a
    block, stirs it as often and sums it (its "result"). Both checksum
    every chunk: its sum and its position-weighted sum (weights 2j + 1),
    folded over the chunks in order. passes may be fractional: the first
    blocks get one pass more."""

    def __init__(self):
        self.buf = np.empty(WORDS, np.uint64)
        self.buf.fill(1)  # fault the pages in now
        self.tmp = np.ones(BLOCK, np.uint64)
        self.idx = np.arange(BLOCK, dtype=np.uint64)
        self.weight = self.idx * np.uint64(2) + np.uint64(1)
        self.result = 0

    def stir(self, v, n):
        for _ in range(n):
            np.right_shift(v, SHIFT, out=self.tmp)
            np.bitwise_xor(v, self.tmp, out=v)
            np.multiply(v, MIXC, out=v)

    def passes_of(self, b, passes):
        whole = int(passes)
        return whole + (b < (passes - whole) * NBLOCKS)

    def mix(self, passes):
        """Stir the whole chunk (for calibrating)."""
        for b in range(NBLOCKS):
            self.stir(self.buf[b * BLOCK:(b + 1) * BLOCK], self.passes_of(b, passes))

    def digest(self, v, o, sums):
        """Add block v, at word o of the chunk, to sums [sum, weighted sum]."""
        s1 = int(v.sum(dtype=np.uint64))
        np.multiply(v, self.weight, out=self.tmp)
        sums[0] += s1
        sums[1] += int(self.tmp.sum(dtype=np.uint64)) + 2 * o * s1

    @staticmethod
    def chunk_digest(sums):
        return ((sums[0] & MASK) ^ ((sums[1] & MASK) * 0x9E3779B97F4A7C15)) & MASK

    def produce(self, i, passes):
        sums = [0, 0]
        for b in range(NBLOCKS):
            o = b * BLOCK
            v = self.buf[o:o + BLOCK]
            np.add(self.idx, np.uint64((i * WORDS + o + SEED) & MASK), out=v)
            self.stir(v, self.passes_of(b, passes))
            self.digest(v, o, sums)
        return self.chunk_digest(sums)

    def consume(self, passes):
        sums = [0, 0]
        r = 0
        for b in range(NBLOCKS):
            o = b * BLOCK
            v = self.buf[o:o + BLOCK]
            self.digest(v, o, sums)
            self.stir(v, self.passes_of(b, passes))
            r += int(v.sum(dtype=np.uint64))
        self.result = (self.result + r) & MASK
        return self.chunk_digest(sums)


def fold(total, i, d):
    """Order-sensitive: a chunk in the wrong place changes the total."""
    return ((total * 0x100000001B3) ^ ((d + i) & MASK)) & MASK


def write_all(fd, mv):
    off = 0
    while off < len(mv):
        off += os.write(fd, mv[off:])


def read_chunk(fd, mv):
    """Fill mv unless EOF comes first; returns the bytes read."""
    off = 0
    while off < len(mv):
        n = os.readv(fd, [mv[off:]])
        if n == 0:
            break
        off += n
    return off


class ObjectStream:
    """A stage's end of an object stream, for path "obj:MOUNT:NAME": the
    producer puts each chunk as a Tensor (written through the mount, which
    passes the write straight to the blob's memory) and pushes it; the
    consumer takes each Tensor's id as it arrives and reads its bytes into
    its own buffer (it stirs them in place), as (b) reads its file."""

    def __init__(self, role, path):
        _, self.mount, self.name = path.split(":", 2)
        self.client = vineyardfs.Client(self.mount)
        self.role = role
        if role == "produce":
            self.writer = self.client.stream_writer(self.name)
        else:
            self.items = self.client.stream_reader(self.name, ids=True)

    def write(self, arr):
        self.writer.push(arr)

    def read(self, mv):
        """Fill mv with the next chunk; False at the end of the stream."""
        oid = next(self.items, None)
        if oid is None:
            return False
        fd = os.open(os.path.join(self.mount, "objects", oid, "buffer_"), os.O_RDONLY)
        try:
            n = read_chunk(fd, mv)
        finally:
            os.close(fd)
        if n != len(mv):
            sys.exit("consumer: a chunk of %d bytes" % n)
        return True

    def close(self):
        if self.role == "produce":
            self.writer.close()


def worker(role, path, passes, chunks, do_fsync):
    """One stage. passes < 0: no work at all (transport only, no checksum).
    path "-": no I/O (the stage alone); "obj:MOUNT:NAME": an object stream.
    Prints "ready", waits for "go", runs, prints one line of figures."""
    w = Work()
    mv = memoryview(w.buf).cast("B")
    if passes >= 0:  # warm up numpy's loops, untimed
        w.produce(0, 1)
        w.consume(1)
    w.result = 0
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    t_go = now()
    c0 = os.times()
    t_first = None
    t_work = t_io = 0.0
    per_chunk = []
    total = nbytes = 0
    fd = obj = None
    if path.startswith("obj:"):
        obj = ObjectStream(role, path)
    elif path != "-":
        fd = os.open(path, (os.O_WRONLY | os.O_CREAT) if role == "produce" else os.O_RDONLY, 0o644)
    if role == "produce":
        for i in range(chunks):
            t = now()
            if passes >= 0:
                total = fold(total, i, w.produce(i, passes))
            t2 = now()
            t_work += t2 - t
            per_chunk.append(t2 - t)
            if fd is not None:
                write_all(fd, mv)
            elif obj is not None:
                obj.write(w.buf)
            t_io += now() - t2
            nbytes += CHUNK
            if t_first is None:
                t_first = now()
        t = now()
        if fd is not None:
            if do_fsync:
                os.fsync(fd)
            os.close(fd)
        elif obj is not None:
            obj.close()
        t_io += now() - t
    else:
        i = 0
        while fd is not None or obj is not None or i < chunks:
            t = now()
            if fd is not None:
                n = read_chunk(fd, mv)
                if n == 0:
                    break
                if n != CHUNK:
                    sys.exit("consumer: a short chunk of %d bytes at %d" % (n, nbytes))
            elif obj is not None and not obj.read(mv):
                break
            t2 = now()
            t_io += t2 - t
            if t_first is None:
                t_first = t2
            if passes >= 0:
                total = fold(total, i, w.consume(passes))
            per_chunk.append(now() - t2)
            t_work += per_chunk[-1]
            nbytes += CHUNK
            i += 1
        if fd is not None:
            os.close(fd)
    t_end = now()
    c1 = os.times()
    print("%r %r %r %d %d %r %r %r %r %r" % (t_go, t_first if t_first is not None else t_end, t_end, total,
                                             nbytes, t_work, t_io, c1.user - c0.user, c1.system - c0.system,
                                             statistics.median(per_chunk) if per_chunk else 0.0),
          flush=True)


class Result:
    def __init__(self, line):
        f = line.split()
        self.go, self.first, self.end = float(f[0]), float(f[1]), float(f[2])
        self.total, self.nbytes = int(f[3]), int(f[4])
        self.work, self.io, self.user, self.sys, self.chunk_work = (float(x) for x in f[5:10])
        self.time = self.end - self.go


class Stage:
    """A worker process, ready to go."""
    live = []

    def __init__(self, role, path, passes, chunks, do_fsync=False):
        self.p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "worker", role, path,
                                   repr(passes), str(chunks), "1" if do_fsync else "0"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        Stage.live.append(self.p)
        self.role = role
        if self.p.stdout.readline() != "ready\n":
            self.fail()

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()

    def result(self):
        line = self.p.stdout.readline()
        rc = self.p.wait()
        Stage.live.remove(self.p)
        if rc != 0 or not line:
            self.fail()
        return Result(line)

    def fail(self):
        sys.exit("pipeline.py: the %s failed (exit %s)" % (self.role, self.p.poll()))


def kill_stages():
    for p in Stage.live:
        p.kill()
        p.wait()


def cpu_s(pid):
    """User + system time of process pid (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def unlink(path):
    """A stream is busy until its writer's release has been handled."""
    for _ in range(500):
        try:
            os.unlink(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
            time.sleep(0.01)
    os.unlink(path)


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def verify(label, pr, cr, chunks, want=None):
    """A wrong answer is not a benchmark."""
    size = chunks * CHUNK
    if pr.nbytes != size or cr.nbytes != size:
        sys.exit("pipeline.py: %s: CHECK FAILED: producer wrote %d bytes, consumer read %d, want %d"
                 % (label, pr.nbytes, cr.nbytes, size))
    if cr.total != pr.total or (want is not None and pr.total != want):
        sys.exit("pipeline.py: %s: CHECKSUM MISMATCH: producer %#018x, consumer %#018x, expected %#018x"
                 % (label, pr.total, cr.total, want if want is not None else pr.total))


def calibrate(target):
    """Mixing passes for each stage so that a chunk costs about target
    seconds in either; measured in this process, the best of 7 (the
    machine is shared: what others take only ever adds)."""
    w = Work()

    def best(fn):
        fn()
        ts = []
        for _ in range(7):
            t = now()
            fn()
            ts.append(now() - t)
        return min(ts)
    base_p = best(lambda: w.produce(3, 0))
    base_c = best(lambda: w.consume(0))
    mix = (best(lambda: w.mix(9)) - best(lambda: w.mix(1))) / 8  # a pass more, the block in the cache
    rp = round(max(0.0, (target - base_p) / mix), 2)
    rc = round(max(0.0, (target - base_c) / mix), 2)
    return base_p, base_c, mix, rp, rc


def prewarm(mib):
    """Memory the run may take, made host-backed again just before it (see
    bench/src/prewarm.c; PIPELINE_PREWARM names the helper)."""
    helper = os.environ.get("PIPELINE_PREWARM")
    if helper:
        subprocess.run([helper, str(mib)], check=True)


def stage_alone(role, passes, chunks):
    s = Stage(role, "-", passes, chunks)
    s.go()
    return s.result()


def bench(mount, tmpfs_dir, disk_dir, daemon, rounds_n, chunks, stage_ms):
    size_gib = chunks * CHUNK / (1 << 30)
    print("== a pipeline of two stages over %d chunks of 64 MiB (%.3g GiB); %d rounds, medians, seconds =="
          % (chunks, size_gib, rounds_n))
    base_p, base_c, mix, rp, rc = calibrate(stage_ms / 1000)
    # One correction from the stages run alone, as the workers run them.
    p_alone = stage_alone("produce", rp, chunks)
    c_alone = stage_alone("consume", rc, chunks)
    # Per-chunk medians: a stall on the shared machine does not count.
    if abs(c_alone.chunk_work / p_alone.chunk_work - 1) > 0.03:
        rc = round(max(0.0, rc + (p_alone.chunk_work - c_alone.chunk_work) / mix), 2)
        c_alone = stage_alone("consume", rc, chunks)
    want = p_alone.total
    print("calibration, per chunk: producer %.1f ms fill+checksum + %.2f mixing passes, consumer %.1f ms"
          " checksum + %.2f passes, %.1f ms a pass (target %d ms)"
          % (base_p * 1e3, rp, base_c * 1e3, rc, mix * 1e3, stage_ms))
    print("stages alone (no I/O, one process each): producer %.2f s, consumer %.2f s (consumer/producer %.2f);"
          " median chunk %.1f ms, %.1f ms" % (p_alone.time, c_alone.time, c_alone.time / p_alone.time,
                                             p_alone.chunk_work * 1e3, c_alone.chunk_work * 1e3))

    stream = os.path.join(mount, "streams", "p")
    tfile = os.path.join(tmpfs_dir, "p")
    dfile = os.path.join(disk_dir, "p")
    runs = {"a": [], "o": [], "b": [], "c": []}
    drops = []

    def run_stream():
        prewarm(chunks * 64 + 256)
        c = Stage("consume", stream, rc, chunks)
        p = Stage("produce", stream, rp, chunks)
        cpu0 = cpu_s(daemon)
        t0 = now()
        c.go()  # the consumer first: it opens the stream before it exists
        p.go()
        pr, cr = p.result(), c.result()
        cpu = cpu_s(daemon) - cpu0
        verify("stream", pr, cr, chunks, want)
        unlink(stream)
        return dict(e2e=cr.end - t0, first=cr.first - t0, pr=pr, cr=cr, daemon=cpu)

    def run_objects():
        prewarm(chunks * 64 + 256)
        c = Stage("consume", "obj:%s:q" % mount, rc, chunks)
        p = Stage("produce", "obj:%s:q" % mount, rp, chunks)
        cpu0 = cpu_s(daemon)
        t0 = now()
        c.go()
        p.go()
        pr, cr = p.result(), c.result()
        cpu = cpu_s(daemon) - cpu0
        verify("object stream", pr, cr, chunks, want)
        os.rmdir(os.path.join(mount, "streams", "q"))  # and its Sequence, deep
        return dict(e2e=cr.end - t0, first=cr.first - t0, pr=pr, cr=cr, daemon=cpu)

    def run_file(path, disk):
        prewarm(chunks * 64 + 256)
        p = Stage("produce", path, rp, chunks, do_fsync=disk)
        c = Stage("consume", path, rc, chunks)
        cpu0 = cpu_s(daemon)
        t0 = now()
        p.go()
        pr = p.result()
        if disk:
            t = now()
            drop_caches()
            drops.append(now() - t)
        tc = now()
        c.go()
        cr = c.result()
        cpu = cpu_s(daemon) - cpu0
        verify("disk" if disk else "tmpfs", pr, cr, chunks, want)
        os.unlink(path)
        # The hand-over (and drop_caches) is not counted.
        return dict(e2e=(pr.end - t0) + (cr.end - tc), first=(pr.end - t0) + (cr.first - tc),
                    pr=pr, cr=cr, daemon=cpu)

    for r in range(rounds_n):
        runs["a"].append(run_stream())
        runs["o"].append(run_objects())
        runs["b"].append(run_file(tfile, False))
        runs["c"].append(run_file(dfile, True))

    def med(k, fn):
        return statistics.median(fn(x) for x in runs[k])

    ncpu = os.cpu_count()
    labels = {"a": "(a) vineyardfs stream", "o": "(a') object stream", "b": "(b) tmpfs file, then read",
              "c": "(c) disk+fsync, then read"}
    print()
    print("%-27s %10s %12s %12s %12s %11s" % ("path", "end-to-end", "first chunk", "producer", "consumer",
                                              "daemon CPU"))
    for k in "aobc":
        print("%-27s %10.2f %12.3f %12.2f %12.2f %11.2f" % (
            labels[k], med(k, lambda x: x["e2e"]), med(k, lambda x: x["first"]),
            med(k, lambda x: x["pr"].time), med(k, lambda x: x["cr"].time), med(k, lambda x: x["daemon"])))
    for k in "aobc":
        print("  %-4s end-to-end per round: %s" % (labels[k][:4].strip(), " ".join("%.2f" % x["e2e"] for x in runs[k])))
    print("(producer, consumer: each stage from its start to its end. first chunk: from the start of the")
    print(" run until the consumer holds its first full 64 MiB. (b), (c): producer + consumer, the")
    print(" hand-over not counted, nor (c)'s drop_caches, median %.2f s.)" % statistics.median(drops))
    print()
    print("where the time goes (medians, seconds; work: the stage's numpy work; I/O: in read, write,")
    print("fsync, close, waiting included; CPU: user + sys of the process; busy: all CPU time, the")
    print("daemon's too, over %d CPUs x end-to-end):" % ncpu)
    for k in "aobc":
        for role in ("pr", "cr"):
            print("  %-4s %-8s work %5.2f, I/O %5.2f, CPU %5.2f + %5.2f" % (
                labels[k][:4].strip(), "producer" if role == "pr" else "consumer",
                med(k, lambda x: x[role].work), med(k, lambda x: x[role].io),
                med(k, lambda x: x[role].user), med(k, lambda x: x[role].sys)), end="")
            if role == "cr":
                print(", busy %3.0f%%" % (100 * med(k, lambda x: (x["pr"].user + x["pr"].sys + x["cr"].user
                                                                 + x["cr"].sys + x["daemon"]) / (ncpu * x["e2e"]))))
            else:
                print()
    a = med("a", lambda x: x["e2e"])
    o = med("o", lambda x: x["e2e"])
    b = med("b", lambda x: x["e2e"])
    c = med("c", lambda x: x["e2e"])
    alone = max(p_alone.time, c_alone.time)
    for k, t in (("a", a), ("o", o)):
        print("  %-4s takes %.2f s (%.0f%%) more than the slower stage alone; the daemon used %.2f s of CPU a GiB"
              % (labels[k][:4].strip(), t - alone, (t - alone) / alone * 100, med(k, lambda x: x["daemon"]) / size_gib))
    print()
    nruns = sum(len(v) for v in runs.values())
    print("checksums: all %d runs read what the producer wrote (%#018x, %d bytes)" % (nruns, want, chunks * CHUNK))
    for k, t in (("a", a), ("o", o)):
        n = labels[k][:4].strip()
        print("(b) tmpfs / %-4s %s: %.2f    aim >= 1.8: %s" % (n, "stream" if k == "a" else "objects", b / t,
                                                          "met" if b / t >= 1.8 else "not met"))
        print("(c) disk / %-4s %s:  %.2f    aim > (b)/%s: %s" % (n, "stream" if k == "a" else "objects", c / t, n,
                                                           "met" if c / t > b / t else "not met"))


def transport(path, chunks):
    """One stream pass with no work: the writer and a concurrent reader."""
    prewarm(chunks * 64 + 256)
    c = Stage("consume", path, -1, chunks)
    p = Stage("produce", path, -1, chunks)
    t0 = now()
    c.go()
    p.go()
    pr, cr = p.result(), c.result()
    if pr.nbytes != chunks * CHUNK or cr.nbytes != pr.nbytes:
        sys.exit("pipeline.py: transport: wrote %d bytes, read %d" % (pr.nbytes, cr.nbytes))
    return cr.end - t0, pr, cr


def transport_report(mount, tmpfs_dir, rounds_n, chunks):
    """Stream and tmpfs transport with no work: write + concurrent read,
    the complete stream read again, a tmpfs file written, then read."""
    stream = os.path.join(mount, "streams", "t")
    tfile = os.path.join(tmpfs_dir, "t")
    size = chunks * CHUNK
    fig = {"both": [], "wr": [], "rd": [], "replay": [], "twr": [], "trd": []}
    for _ in range(rounds_n):
        t, pr, cr = transport(stream, chunks)
        fig["both"].append(t)
        fig["wr"].append(pr.time)
        fig["rd"].append(cr.time)
        c = Stage("consume", stream, -1, chunks)
        c.go()
        fig["replay"].append(c.result().time)
        unlink(stream)
        prewarm(chunks * 64 + 256)
        p = Stage("produce", tfile, -1, chunks)
        p.go()
        fig["twr"].append(p.result().time)
        c = Stage("consume", tfile, -1, chunks)
        c.go()
        fig["trd"].append(c.result().time)
        os.unlink(tfile)
    m = {k: statistics.median(v) for k, v in fig.items()}
    gbs = (lambda t: size / t / 1e9)
    print()
    print("transport alone, no work (GB/s = 10^9 B/s, 64 MiB read/write calls, medians of %d):" % rounds_n)
    print("  stream, writer + concurrent reader: %.2f s end to end (%.2f GB/s); writer %.2f GB/s, reader %.2f GB/s"
          % (m["both"], gbs(m["both"]), gbs(m["wr"]), gbs(m["rd"])))
    print("  stream, complete, read again:       %.2f GB/s" % gbs(m["replay"]))
    print("  tmpfs file, write then read:        write %.2f GB/s, read %.2f GB/s" % (gbs(m["twr"]), gbs(m["trd"])))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        role, path, passes, chunks, do_fsync = sys.argv[2:7]
        worker(role, path, float(passes), int(chunks), do_fsync == "1")
        return
    try:
        if len(sys.argv) == 9 and sys.argv[1] == "bench":
            mount, tmpfs_dir, disk_dir, pid, rounds_n, chunks, stage_ms = sys.argv[2:9]
            bench(mount, tmpfs_dir, disk_dir, int(pid), int(rounds_n), int(chunks), int(stage_ms))
            transport_report(mount, tmpfs_dir, int(rounds_n), int(chunks))
        elif len(sys.argv) == 4 and sys.argv[1] == "transport":
            t, _, _ = transport(sys.argv[2], int(sys.argv[3]))
            unlink(sys.argv[2])
            print("%.3f" % t)
        else:
            sys.exit(__doc__)
    finally:
        kill_stages()


if __name__ == "__main__":
    main()
