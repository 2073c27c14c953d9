"""vineyardfs: zero-copy objects in a vineyardfs mount, from Python.

Needs only the mount (found by the ``mount`` argument, ``VINEYARDFS_MOUNT``
or ``/vineyard``) and the standard library; numpy and pandas are used when
present.
Arrays come back as read-only memory maps of the objects' own blobs: the
pages they show are the producer's pages, nothing is copied.

    import vineyardfs, numpy as np
    vfs = vineyardfs.Client()
    vfs.put(np.arange(10.0), name="x")
    a = vfs.get("x")            # numpy.memmap over the blob, read-only
"""

import errno
import json
import os
import time
import uuid

try:
    import numpy as _np
except ImportError:  # numpy is optional: bytes still work
    _np = None
try:
    import pandas as _pd
except ImportError:  # so is pandas: DataFrames need it
    _pd = None

__all__ = ["Client", "VineyardfsError"]

_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
           "uint64", "float32", "float64", "bool")


def _array(v):
    """A JSON array field, which Vineyard may also write as a string."""
    return json.loads(v) if isinstance(v, str) else v


class VineyardfsError(OSError):
    """A request the store refused; errno and strerror say why."""


class Client:
    """A vineyardfs mount seen from this process."""

    def __init__(self, mount=None):
        self.mount = mount or os.environ.get("VINEYARDFS_MOUNT", "/vineyard")
        if not os.path.isfile(os.path.join(self.mount, ".vineyardfs", "ctl")):
            raise FileNotFoundError(errno.ENOENT, "not a vineyardfs mount", self.mount)

    # -- the control file -------------------------------------------------

    def _request(self, req):
        path = os.path.join(self.mount, ".vineyardfs", "ctl")
        with open(path, "r+b", buffering=0) as ctl:
            ctl.write(json.dumps(req).encode())
            reply = json.loads(ctl.read().decode())
        if not reply.get("ok"):
            raise VineyardfsError(reply.get("errno", errno.EIO), reply.get("message", "refused"))
        return reply

    # -- writing -----------------------------------------------------------

    def _blob(self, data):
        """Write data into a new sealed blob; returns its id. The blob is
        born as a Blob object under a temporary name, which goes once the
        caller's object holds the blob (see put)."""
        tmp = ".vfs-tmp-%s" % uuid.uuid4().hex
        path = os.path.join(self.mount, "names", tmp)
        with open(path, "xb", buffering=0) as f:
            view = memoryview(data)
            while view.nbytes:  # write(2) may take less than all
                view = view[f.write(view):]
        # The kernel releases the file just after close; the blob is sealed then.
        deadline = time.monotonic() + 30
        while os.getxattr(path, "user.vineyard.sealed") != b"true":
            if time.monotonic() > deadline:
                raise TimeoutError("blob %s did not seal" % tmp)
            time.sleep(0.0005)
        return tmp, os.getxattr(path, "user.vineyard.member.buffer_").decode()

    def _tensor(self, arr, name=None):
        """A Tensor object over a new blob holding arr; returns its id."""
        arr = _np.ascontiguousarray(arr)
        dtype = arr.dtype.name
        if dtype not in _DTYPES:
            raise TypeError("unsupported dtype %s" % dtype)
        tmp, blob = self._blob(arr.reshape(-1).view(_np.uint8))
        try:
            reply = self._request({
                "op": "create", "typename": "Tensor", "name": name,
                "fields": {"value_type_": dtype, "shape_": list(arr.shape)},
                "members": {"buffer_": blob}})
        finally:
            os.unlink(os.path.join(self.mount, "names", tmp))
        return reply["id"]

    def put(self, value, name=None):
        """Store bytes (a Blob), a numpy array (a Tensor) or a pandas
        DataFrame (a DataFrame of Tensor columns); returns the object id.
        The value's bytes are written once, into shared memory."""
        if _pd is not None and isinstance(value, _pd.DataFrame):
            cols = [str(c) for c in value.columns]
            if len(set(cols)) != len(cols) or any("/" in c or not c for c in cols):
                raise ValueError("DataFrame columns must be distinct names without '/'")
            members = {c: self._tensor(value[col].to_numpy()) for c, col in zip(cols, value.columns)}
            try:
                return self._request({"op": "create", "typename": "DataFrame", "name": name,
                                      "fields": {"columns_": cols}, "members": members})["id"]
            except VineyardfsError:
                for oid in members.values():
                    self._request({"op": "delete", "id": oid})
                raise
        if _np is not None and isinstance(value, _np.ndarray):
            return self._tensor(value, name)
        data = bytes(value) if not isinstance(value, (bytes, bytearray, memoryview)) else value
        tmp, _ = self._blob(data)
        path = os.path.join(self.mount, "names", tmp)
        oid = os.getxattr(path, "user.vineyard.id").decode()
        if name is not None:
            self._request({"op": "name", "id": oid, "name": name})
        # The Blob object keeps its own id; the temporary name goes.
        self._request({"op": "unname", "name": tmp})
        return oid

    # -- reading -----------------------------------------------------------

    def _dir(self, ref):
        """The object directory of an id or a name."""
        if ref.startswith("o") and len(ref) == 17:
            path = os.path.join(self.mount, "objects", ref)
            if os.path.isdir(path):
                return path
        path = os.path.join(self.mount, "names", ref)
        if os.path.islink(path) or os.path.isdir(path):
            return os.path.realpath(path)
        if os.path.isfile(path):  # a Blob object's name is its bytes
            return os.path.join(self.mount, "objects",
                                os.getxattr(path, "user.vineyard.id").decode())
        raise FileNotFoundError(errno.ENOENT, "no such object", ref)

    def meta(self, ref):
        """The whole metadata tree of an object."""
        with open(os.path.join(self._dir(ref), "meta.json")) as f:
            return json.load(f)

    def get(self, ref):
        """The value of an object, without a copy: a read-only numpy.memmap
        for a Tensor, a pandas DataFrame of such columns for a DataFrame, a
        memoryview of the mapped bytes for a Blob."""
        return self._value(self._dir(ref))

    def _value(self, d):
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
        buf = os.path.join(d, "buffer_")
        if meta["typename"] == "DataFrame":
            if _pd is None:
                raise ImportError("pandas is needed to read a DataFrame")
            cols = _array(meta["columns_"])
            # Each column is its Tensor's memory map; copy=False keeps them so.
            return _pd.DataFrame({c: self._value(os.path.realpath(os.path.join(d, c))) for c in cols},
                                 columns=cols, copy=False)
        if meta["typename"] == "Tensor":
            if _np is None:
                raise ImportError("numpy is needed to read a Tensor")
            shape = _array(meta["shape_"])
            if meta["buffer_"]["nbytes"] == 0:
                return _np.zeros(shape, dtype=meta["value_type_"])
            return _np.memmap(buf, dtype=meta["value_type_"], shape=tuple(shape), mode="r")
        if meta["typename"] == "Blob":
            import mmap
            if meta["nbytes"] == 0:
                return memoryview(b"")
            with open(buf, "rb") as f:
                return memoryview(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ))
        raise TypeError("no reader for typename %s yet" % meta["typename"])

    # -- the rest ------------------------------------------------------------

    def list(self):
        """Names and the ids they name."""
        out = {}
        names = os.path.join(self.mount, "names")
        for n in os.listdir(names):
            if n.startswith(".vfs-tmp-"):
                continue
            out[n] = os.path.basename(self._dir(n))
        return out

    def delete(self, ref):
        """Delete an object (by id or name) with its names."""
        self._request({"op": "delete", "id": os.path.basename(self._dir(ref))})

    def wait_name(self, name, timeout=None):
        """Block until name exists and names a sealed object (a name made
        by writing into names/ appears before its bytes are complete), then
        return the id it names. Polls for now; a server-side wait will come."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while True:
            try:
                d = self._dir(name)
                if os.getxattr(d, "user.vineyard.sealed") == b"true":
                    return os.path.basename(d)
            except FileNotFoundError:
                pass
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("no sealed object named %s after %s s" % (name, timeout))
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
