"""Just enough of redis-server's protocol (RESP) for the benchmarks: one
connection to 127.0.0.1, commands sent whole, bulk and array replies read
back (SET and GET of big values, RPUSH, BLPOP, FLUSHALL)."""
import socket


class Redis:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, (bytes, bytearray, memoryview)) else str(a).encode()
            out += [b"$%d\r\n" % len(a), a, b"\r\n"]
        self.s.sendall(b"".join(out))
        return self.reply()

    def reply(self):
        line = self.f.readline()
        if line[:1] == b"$":
            n = int(line[1:])
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if line[:1] == b"*":
            return [self.reply() for _ in range(int(line[1:]))]
        if line[:1] == b"-":
            raise RuntimeError(line.decode())
        return line
