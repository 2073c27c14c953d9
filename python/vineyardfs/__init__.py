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
    vfs.put([a, 1.5, "label"], name="batch")
    vfs.get("batch")            # [memmap([...]), 1.5, 'label']

Vineyard's own names work too, so that a v6d script ports by changing
its import (``import vineyardfs as vineyard``):

    client = vineyardfs.connect()          # vineyard.connect(socket)
    oid = client.put(a, persist=True)      # published to the cluster
    client.put_name(oid, "x"); client.get_name("x") == oid
    client.get(name="x"); client.get_meta(oid)["typename"]
    client.list_objects("Tensor*"); client.persist(oid); client.drop_name("x")

What differs from v6d: an ObjectID is a string ("o" and 16 hex digits),
not an ObjectID object; metadata (get_meta, list_objects) is a dict,
the tree meta.json shows, not an ObjectMeta; connect takes the mount
point, not an IPC socket; get returns memory maps (read-only), and a
DataFrame's columns are numpy arrays, not Arrow arrays (a table's are
numpy views of its Arrow buffers, or pandas arrays built from them); put_name /
drop_name are the names of names/, shared by every process of the node.

Python values and the built-in types of vineyardfs(7):

    bytes-like (bytes, bytearray, memoryview, ...)  Blob
    numpy.ndarray                                   Tensor
    pandas.DataFrame of numeric / bool columns      DataFrame (arrow=True: Table)
    pandas.DataFrame of any other columns           vineyard::Table (Arrow)
    list, tuple                                     Sequence, Tuple
    bool, int, float, str, numpy scalar             Scalar
    vineyardfs.Graph                                Graph
"""

import errno
import json
import math
import mmap
import operator
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

__all__ = ["Client", "Graph", "TensorWriter", "VineyardfsError", "connect"]

_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
           "uint64", "float32", "float64", "bool")
# The limits of core/types.c and the catalog, checked here first so that a
# bad value fails before anything is written.
_DIMS_MAX = 32
_SEQUENCE_MAX = 1000000
_NAME_MAX = 255
# Names in names/ that begin so are blobs still being built: the daemon
# removes them at start-up, listings skip them (VFS_TMP_PREFIX in
# include/vineyardfs.h).
_TMP_PREFIX = ".vfs-tmp-"
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
# The fields every object's metadata has: a member of the same name would
# hide them in meta.json. The keys of core/object.c's table flagged
# OBJECT_KEY_TREE; tests/fs/cli.sh checks an object shows them all.
_FIXED = ("typename", "id", "signature", "nbytes", "instance_id", "global",
          "ctime", "sealed")


def _array(v):
    """A JSON array field, which Vineyard may also write as a string."""
    return json.loads(v) if isinstance(v, str) else v


def _name_error(name):
    """Why name cannot be a name or a member name (None if it can): the
    rules of the catalog."""
    if not isinstance(name, str):
        return "is a %s, not a str" % type(name).__name__
    if name in ("", ".", ".."):
        return "is empty, . or .."
    if "/" in name or "\0" in name:
        return "holds / or NUL"
    try:
        if len(name.encode("utf-8")) > _NAME_MAX:
            return "is longer than %d bytes" % _NAME_MAX
    except UnicodeEncodeError:
        return "is not valid Unicode"
    return None


def _need_numpy(what):
    if _np is None:
        raise ImportError("numpy is needed %s" % what)


def _int64_vector(x, what):
    """x as a one-dimensional int64 array (x itself when it is one, so a
    memory map stays one); TypeError or ValueError naming what otherwise."""
    _need_numpy("for a Graph")
    if isinstance(x, _np.ndarray) and x.dtype == _np.int64 and x.ndim == 1:
        return x
    try:
        a = _np.asarray(x)
    except Exception as e:
        raise TypeError("%s: not an array of integers (%s)" % (what, e)) from None
    if a.ndim != 1:
        raise ValueError("%s: one dimension expected, not %d" % (what, a.ndim))
    if a.size == 0:  # np.asarray([]) is float64; empty is empty
        return _np.zeros(0, dtype=_np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError("%s: integers expected, not %s" % (what, a.dtype))
    if a.dtype.kind == "u" and int(a.max()) > _INT64_MAX:
        raise ValueError("%s: %d does not fit in int64" % (what, int(a.max())))
    return a.astype(_np.int64)


def _count(x, what):
    """A non-negative int (anything operator.index takes)."""
    try:
        n = operator.index(x)
    except TypeError:
        raise TypeError("%s must be an integer, not %s" % (what, type(x).__name__)) from None
    if n < 0 or n > _INT64_MAX:
        raise ValueError("%s must be a count from 0 to 2**63 - 1, not %d" % (what, n))
    return n


class VineyardfsError(OSError):
    """A request the store refused; errno and strerror say why."""


class Graph:
    """A graph in compressed sparse rows, as the Graph type stores it.

    The out-edges of vertex v are edges[offsets[v]:offsets[v + 1]].

    vertex_num, edge_num: ints; offsets: int64 array of vertex_num + 1
    items; edges: int64 array of edge_num items; vertex_props, edge_props:
    pandas DataFrames with a row per vertex and per edge, or None.

    Made by Client.get, offsets and edges are read-only numpy.memmap views
    of the stored blobs (an empty one is a read-only empty array: there is
    nothing to map) and the properties DataFrames of such columns.

    Made by hand, offsets and edges may be any one-dimensional integer
    arrays or sequences (they are converted to int64 here, TypeError or
    ValueError if they cannot be); vertex_num defaults to len(offsets) - 1
    and edge_num to offsets[-1], the end of the last vertex's edges. Whether
    the counts agree with the arrays and the properties is the store's rule,
    checked when the graph is put.
    """

    __slots__ = ("vertex_num", "edge_num", "offsets", "edges", "vertex_props", "edge_props")

    def __init__(self, offsets, edges, vertex_props=None, edge_props=None,
                 vertex_num=None, edge_num=None):
        self.offsets = _int64_vector(offsets, "offsets")
        self.edges = _int64_vector(edges, "edges")
        if vertex_num is None:
            if len(self.offsets) == 0:
                raise ValueError("offsets: vertex_num + 1 items expected, at least one")
            vertex_num = len(self.offsets) - 1
        if edge_num is None:
            edge_num = int(self.offsets[-1]) if len(self.offsets) else 0
        self.vertex_num = _count(vertex_num, "vertex_num")
        self.edge_num = _count(edge_num, "edge_num")
        for what, df in (("vertex_props", vertex_props), ("edge_props", edge_props)):
            if df is not None and (_pd is None or not isinstance(df, _pd.DataFrame)):
                raise TypeError("%s must be a pandas DataFrame or None" % what)
        self.vertex_props = vertex_props
        self.edge_props = edge_props

    def __repr__(self):
        return "Graph(vertex_num=%d, edge_num=%d%s%s)" % (
            self.vertex_num, self.edge_num,
            ", vertex_props=%s" % list(self.vertex_props.columns) if self.vertex_props is not None else "",
            ", edge_props=%s" % list(self.edge_props.columns) if self.edge_props is not None else "")


class StreamWriter:
    """The producer of an object stream (see Client.stream_writer). It
    holds a control file open: the daemon fails the stream if that file is
    closed before close()."""

    def __init__(self, client, name, mode=0o644):
        self._client = client
        self._ctl = open(os.path.join(client.mount, ".vineyardfs", "ctl"), "r+b", buffering=0)
        try:
            client._request({"op": "stream_open", "name": name, "mode": mode}, self._ctl)
        except BaseException:
            self._ctl.close()
            raise
        self.name = name

    def push(self, value):
        """Append value (put first; an "o…" id string is pushed as is);
        returns its index in the stream."""
        if isinstance(value, str) and len(value) == 17 and value.startswith("o"):
            oid = value
        else:
            oid = self._client.put(value)
        return self._client._request({"op": "stream_push", "id": oid}, self._ctl)["index"]

    def close(self, error=None):
        """End the stream: complete (returns its Sequence's id), or failed
        with error (a string)."""
        if self._ctl is None:
            raise ValueError("stream %s is closed" % self.name)
        try:
            req = {"op": "stream_close"}
            if error is not None:
                req["error"] = str(error)
            return self._client._request(req, self._ctl).get("id")
        finally:
            self._ctl.close()
            self._ctl = None

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if self._ctl is not None:
            self.close(None if exc is None else "%s: %s" % (kind.__name__, exc))
        return False


class TensorWriter:
    """A Tensor built in place (see Client.tensor_writer): ``array`` is a
    writable numpy array over the new blob's shared memory, so what is
    written there is the object, with no copy at seal(). As a context
    manager, the Tensor is sealed at the end of the block, or discarded if
    it raises."""

    def __init__(self, client, shape, dtype, name=None):
        _need_numpy("to build a Tensor")
        dt = _np.dtype(dtype)
        if dt.name not in _DTYPES or not dt.isnative:
            raise TypeError("unsupported dtype %s (%s, native byte order)" % (dt, ", ".join(_DTYPES)))
        self.shape = tuple(operator.index(n) for n in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        if len(self.shape) > _DIMS_MAX or any(n < 0 for n in self.shape):
            raise ValueError("a shape of at most %d dimensions, none negative: %r" % (_DIMS_MAX, shape))
        if name is not None and _name_error(name):
            raise ValueError("name %r %s" % (name, _name_error(name)))
        self.dtype = dt
        self._client = client
        self._name = name
        self._tmp = _TMP_PREFIX + uuid.uuid4().hex
        self._path = os.path.join(client.mount, "names", self._tmp)
        self._mm = None
        nbytes = math.prod(self.shape) * dt.itemsize
        self._file = open(self._path, "xb+", buffering=0)
        try:
            if nbytes:
                # The memory, reserved now: ENOSPC at once (or room made
                # by a store that spills), not a SIGBUS while filling it.
                os.posix_fallocate(self._file.fileno(), 0, nbytes)
                # Mapped in one go (the pages exist now): faulted one by
                # one while filled, 2 GiB cost 1.2 s of system time here.
                self._mm = mmap.mmap(self._file.fileno(), nbytes,
                                     flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0))
                self.array = _np.frombuffer(self._mm, dtype=dt).reshape(self.shape)
            else:
                self.array = _np.zeros(self.shape, dtype=dt)
        except BaseException:
            self.discard()
            raise

    def _unmap(self):
        self.array = None
        if self._mm is not None:
            try:
                self._mm.close()
            except BufferError:
                raise ValueError("views of the array are still alive: drop them before seal()") from None
            self._mm = None

    def seal(self):
        """Make the Tensor (named as asked) and return its id; the array
        goes (no view of it may be left)."""
        if self._file is None:
            raise ValueError("this Tensor was sealed or discarded already")
        self._unmap()
        self._file.close()
        self._file = None
        made = []
        try:
            blob = self._client._sealed_blob(self._tmp)
            return self._client._tensor_over(blob, self.dtype, self.shape, self._name, made)
        finally:
            # The blob lives on in the Tensor, or goes with its Blob object.
            try:
                os.unlink(self._path)
            except OSError:
                pass

    def discard(self):
        """Drop the Tensor being built."""
        try:
            self._unmap()
        except ValueError:
            pass  # the views keep the pages; the object goes all the same
        if self._file is not None:
            self._file.close()
            self._file = None
        try:
            os.unlink(self._path)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if self._file is None:
            return False
        if exc is None:
            self.id = self.seal()
        else:
            self.discard()
        return False


class Client:
    """A vineyardfs mount seen from this process."""

    def __init__(self, mount=None):
        self.mount = mount or os.environ.get("VINEYARDFS_MOUNT", "/vineyard")
        if not os.path.isfile(os.path.join(self.mount, ".vineyardfs", "ctl")):
            raise FileNotFoundError(errno.ENOENT, "not a vineyardfs mount", self.mount)
        self._spills = None

    def _store_spills(self):
        """Does the store spill to disk (stats: spill_dir)? Asked once."""
        if self._spills is None:
            self._spills = False
            with open(os.path.join(self.mount, ".vineyardfs", "stats")) as f:
                for line in f:
                    key, _, value = line.rstrip("\n").partition(" ")
                    if key == "spill_dir":
                        self._spills = value not in ("", "-")
        return self._spills

    # -- the control file -------------------------------------------------

    def _request(self, req, ctl=None):
        """One request; on ctl (an open control file) when given, which
        keeps state between requests (an object stream being produced)."""
        if ctl is None:
            path = os.path.join(self.mount, ".vineyardfs", "ctl")
            with open(path, "r+b", buffering=0) as f:
                return self._request(req, f)
        ctl.write(json.dumps(req).encode())
        reply = json.loads(ctl.read().decode())
        if not reply.get("ok"):
            raise VineyardfsError(reply.get("errno", errno.EIO), reply.get("message", "refused"))
        return reply

    # -- checking a value, before anything is written ------------------------

    @staticmethod
    def _kind(value, where=""):
        """Which built-in type value becomes; TypeError if none. The one
        place that decides, for _check and _put alike."""
        if isinstance(value, Graph):
            return "Graph"
        if _pd is not None and isinstance(value, _pd.DataFrame):
            return "DataFrame"
        if _np is not None and isinstance(value, _np.ndarray):
            return "Tensor"
        if isinstance(value, list):
            return "Sequence"
        if isinstance(value, tuple):
            return "Tuple"
        if isinstance(value, (bytes, bytearray, memoryview)):
            return "Blob"
        if isinstance(value, (bool, int, float, str)) or (_np is not None and isinstance(value, _np.generic)):
            return "Scalar"
        try:
            memoryview(value)
        except TypeError:
            raise TypeError("%scannot store a %s: bytes-like, numpy array, pandas DataFrame, list, "
                            "tuple, bool, int, float, str or Graph expected"
                            % (where, type(value).__name__)) from None
        return "Blob"

    def _check(self, value, where, path, arrow=None):
        """Raise TypeError or ValueError, saying where, if value (or any
        part of it) cannot be stored; path holds the ids of the lists and
        tuples being checked, to refuse one that holds itself."""
        kind = self._kind(value, where)
        if kind == "Blob":
            self._bytes(value, where)
        elif kind == "Tensor":
            if value.dtype.name not in _DTYPES:  # the byte order is fixed on writing
                raise TypeError("%sunsupported dtype %s (%s)" % (where, value.dtype, ", ".join(_DTYPES)))
            if value.ndim > _DIMS_MAX:
                raise ValueError("%sat most %d dimensions, not %d" % (where, _DIMS_MAX, value.ndim))
        elif kind == "DataFrame":
            if self._as_table(value, arrow):
                self._table_columns(value, where)
            else:
                self._columns(value, where)
        elif kind == "Scalar":
            self._scalar(value, where)
        elif kind == "Graph":
            for what in ("offsets", "edges"):
                _int64_vector(getattr(value, what), where + what)
            _count(value.vertex_num, where + "vertex_num")
            _count(value.edge_num, where + "edge_num")
            for what in ("vertex_props", "edge_props"):
                df = getattr(value, what)
                if df is None:
                    continue
                if _pd is None or not isinstance(df, _pd.DataFrame):
                    raise TypeError("%s%s must be a pandas DataFrame or None" % (where, what))
                self._columns(df, where + what + ": ")
        else:
            if id(value) in path:
                raise ValueError("%sthe %s holds itself" % (where, type(value).__name__))
            if len(value) > _SEQUENCE_MAX:
                raise ValueError("%sat most %d elements, not %d" % (where, _SEQUENCE_MAX, len(value)))
            path.add(id(value))
            for i, v in enumerate(value):
                self._check(v, "%s[%d]: " % (where.rstrip(": "), i), path, arrow)
            path.discard(id(value))

    @staticmethod
    def _bytes(value, where=""):
        """value's bytes as a flat memoryview of unsigned bytes."""
        view = memoryview(value)
        if not view.c_contiguous:
            raise ValueError("%sa bytes-like value must be C-contiguous" % where)
        return view.cast("B") if view.format != "B" or view.ndim != 1 else view

    @staticmethod
    def _columns(df, where=""):
        """The column names of DataFrame df, as stored: distinct strings
        that can be member names, each over a column of a Tensor dtype."""
        cols = [str(c) for c in df.columns]
        if len(set(cols)) != len(cols):
            raise ValueError("%sDataFrame column names must be distinct: %s" % (where, cols))
        for c, dt in zip(cols, df.dtypes):
            why = _name_error(c) or ("is a name the metadata uses"
                                     if c in ("meta.json", "columns_") + _FIXED else None)
            if why:
                raise ValueError("%sDataFrame column %r cannot be a member name: it %s" % (where, c, why))
            if not isinstance(dt, _np.dtype) or dt.name not in _DTYPES:
                raise TypeError("%sDataFrame column %r has dtype %s, not one of %s"
                                % (where, c, dt, ", ".join(_DTYPES)))
        return cols

    @staticmethod
    def _as_table(df, arrow):
        """Does DataFrame df become a vineyard::Table? With arrow None: when
        a column is not of a Tensor dtype (what the DataFrame type holds),
        so that what was stored as a DataFrame before still is."""
        if arrow is not None:
            return bool(arrow)
        return not all(isinstance(dt, _np.dtype) and dt.name in _DTYPES for dt in df.dtypes)

    @staticmethod
    def _table_columns(df, where=""):
        """Check what frame_arrays would refuse, but the values of object
        columns (checked as they are encoded, before anything is written)."""
        from . import arrow
        names = [str(c) for c in df.columns]
        if len(set(names)) != len(names):
            raise ValueError("%sDataFrame column names must be distinct: %s" % (where, names))
        for c, dt in zip(names, df.dtypes):
            if c == "":
                raise ValueError("%sDataFrame column names cannot be empty" % where)
            if not arrow.supported(dt):
                raise TypeError("%sDataFrame column %r has dtype %s, which has no Arrow type here"
                                % (where, c, dt))

    @staticmethod
    def _scalar(value, where=""):
        """The fields of a Scalar holding value: {"type_": ..., "value_": ...}."""
        if _np is not None and isinstance(value, _np.generic):
            if value.dtype.name in _DTYPES:
                kind, value = value.dtype.name, value.item()
            elif isinstance(value, str):
                kind, value = "str", str(value)
            else:
                raise TypeError("%sa numpy %s has no Scalar type" % (where, value.dtype))
        elif isinstance(value, bool):
            kind = "bool"
        elif isinstance(value, int):
            kind, value = "int64", int(value)
        elif isinstance(value, float):
            kind, value = "float64", float(value)
        else:
            kind, value = "str", str(value)
        if kind == "str":
            if "\0" in value:
                raise ValueError("%sa str Scalar cannot hold NUL" % where)
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ValueError("%sa str Scalar must be valid Unicode (%s)" % (where, e.reason)) from None
        elif isinstance(value, int) and not isinstance(value, bool) and not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError("%s%d does not fit in 64 signed bits (JSON integers of the store)" % (where, value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError("%s%r has no JSON form" % (where, value))
        return {"type_": kind, "value_": value}

    # -- writing -----------------------------------------------------------

    def _blob(self, data):
        """Write data into a new sealed blob; returns its temporary name
        and blob id. The blob is born as a Blob object under the temporary
        name, which goes once the caller's object holds the blob (see
        _tensor); on failure the Blob object goes at once."""
        tmp = _TMP_PREFIX + uuid.uuid4().hex
        path = os.path.join(self.mount, "names", tmp)
        try:
            with open(path, "xb", buffering=0) as f:
                view = self._bytes(data)
                # A store that spills makes room for what is reserved first
                # (else a write past the memory left could fail half-way);
                # elsewhere reserving would only zero the pages once more.
                if view.nbytes and self._store_spills():
                    os.posix_fallocate(f.fileno(), 0, view.nbytes)
                while view.nbytes:  # write(2) may take less than all
                    view = view[f.write(view):]
            return tmp, self._sealed_blob(tmp)
        except BaseException:
            try:
                os.unlink(path)
            except OSError:
                pass
            raise

    def _sealed_blob(self, tmp):
        """The blob of the Blob object names/tmp, once sealed: the kernel
        releases the file just after its close, the blob is sealed then,
        and the daemon answers the wait."""
        self.wait_name(tmp, timeout=30)
        return os.getxattr(os.path.join(self.mount, "names", tmp), "user.vineyard.member.buffer_").decode()

    def _tensor_over(self, blob, dtype, shape, name, made):
        """A Tensor object over blob, of dtype and shape; its id."""
        return self._create("Tensor", {"value_type_": dtype.name, "shape_": list(shape)},
                            {"buffer_": blob}, name, made)

    def _create(self, typename, fields, members, name, made):
        """One create request; the new id is appended to made."""
        oid = self._request({"op": "create", "typename": typename, "name": name,
                             "fields": fields, "members": members})["id"]
        made.append(oid)
        return oid

    def _blob_object(self, data, name, made):
        """A Blob object holding data's bytes."""
        tmp, _ = self._blob(data)
        path = os.path.join(self.mount, "names", tmp)
        try:
            oid = os.getxattr(path, "user.vineyard.id").decode()
        except BaseException:
            os.unlink(path)
            raise
        made.append(oid)
        if name is not None:
            self._request({"op": "name", "id": oid, "name": name})
        # The Blob object keeps its own id; the temporary name goes.
        self._request({"op": "unname", "name": tmp})
        return oid

    def _tensor(self, arr, name, made):
        """A Tensor object over a new blob holding arr (checked already),
        in C order and native byte order: copied only when it is not."""
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        arr = _np.ascontiguousarray(arr)
        tmp, blob = self._blob(arr.reshape(-1).view(_np.uint8))
        try:
            return self._tensor_over(blob, arr.dtype, arr.shape, name, made)
        finally:
            # The blob lives on in the Tensor; its Blob object goes.
            os.unlink(os.path.join(self.mount, "names", tmp))

    def _dataframe(self, df, name, made):
        """A DataFrame object, a Tensor object per column (the index is not kept)."""
        cols = self._columns(df)
        members = {c: self._tensor(df.iloc[:, i].to_numpy(), None, made) for i, c in enumerate(cols)}
        return self._create("DataFrame", {"columns_": cols}, members, name, made)

    def _put(self, value, name, made, arrow=None):
        """Store value (checked already); every object made goes into made,
        in order, members before the objects that hold them."""
        kind = self._kind(value)
        if kind == "Blob":
            return self._blob_object(value, name, made)
        if kind == "Tensor":
            return self._tensor(value, name, made)
        if kind == "DataFrame":
            if self._as_table(value, arrow):
                from . import table
                return table.put(self, value, name, made)
            return self._dataframe(value, name, made)
        if kind == "Scalar":
            return self._create("Scalar", self._scalar(value), None, name, made)
        if kind == "Graph":
            members = {"offsets": self._tensor(_int64_vector(value.offsets, "offsets"), None, made),
                       "edges": self._tensor(_int64_vector(value.edges, "edges"), None, made)}
            if value.vertex_props is not None:
                members["vertex_properties_"] = self._dataframe(value.vertex_props, None, made)
            if value.edge_props is not None:
                members["edge_properties_"] = self._dataframe(value.edge_props, None, made)
            return self._create("Graph", {"vertex_num_": _count(value.vertex_num, "vertex_num"),
                                          "edge_num_": _count(value.edge_num, "edge_num")},
                                members, name, made)
        members = {"__elements_-%d" % i: self._put(v, None, made, arrow) for i, v in enumerate(value)}
        return self._create(kind, {"size_": len(value)}, members, name, made)

    def _undo(self, made):
        """Delete what a failed put made, holders first (a member cannot go
        while an object holds it)."""
        for oid in reversed(made):
            try:
                self._request({"op": "delete", "id": oid})
            except OSError:
                pass  # the first failure is the one to report

    def put(self, value, name=None, persist=False, arrow=None):
        """Store value as a new object (named name, if given) and return its
        id. The value's bytes are written once, into shared memory.

        bytes-like -> Blob; numpy.ndarray -> Tensor (dtype one of int8 ..
        uint64, float32, float64, bool; C order); pandas.DataFrame whose
        columns are all of those dtypes -> DataFrame of one-dimensional
        Tensor columns (names as str, index not kept), as before tables
        came; any other pandas.DataFrame, or any with arrow=True ->
        vineyard::Table in Arrow's layout, packed in one blob that is an
        Arrow IPC file (vineyardfs.table): numeric, bool, str/bytes (object
        or "string" columns; None, NaN, pd.NA as nulls), datetime64[ns]
        naive or tz-aware, timedelta64[ns], category, and the nullable
        Int*/UInt*/Float*/boolean dtypes; names as str, the index kept (a
        RangeIndex as metadata, any other as columns __index_level_0__ ...
        as pyarrow names them); arrow=False insists on the DataFrame; list -> Sequence and tuple -> Tuple, each element stored as an
        object of its own, recursively; bool, int, float, str or a numpy
        scalar -> Scalar (type_ bool, int64, float64, str or the numpy
        dtype); Graph -> Graph, with its arrays and DataFrames as members.

        The value is checked before anything is written: TypeError for what
        cannot be stored (a column holding other Python objects: the
        TypeError names it), ValueError for what the type's rules refuse here
        (columns that cannot be member names, ints outside int64, NaN, a
        list holding itself...). What the store refuses raises VineyardfsError
        (errno EINVAL for a broken layout, EEXIST for a taken name); either
        way the objects made so far are deleted, so nothing is left
        half-made. With persist (Vineyard's word), the object is published
        to the mount's cluster as well (publish, without waiting for etcd).
        """
        if name is not None and _name_error(name):
            raise (ValueError if isinstance(name, str) else TypeError)(
                "name %r %s" % (name, _name_error(name)))
        self._check(value, "", set(), arrow)
        made = []
        try:
            oid = self._put(value, name, made, arrow)
        except BaseException:
            self._undo(made)
            raise
        if persist:
            self.publish(oid, timeout=0)
        return oid

    def put_graph(self, offsets, edges, vertex_props=None, edge_props=None, name=None):
        """put(Graph(offsets, edges, vertex_props, edge_props), name): a
        graph in compressed sparse rows, where vertex v's out-edges are
        edges[offsets[v]:offsets[v + 1]]. The store refuses (EINVAL) edges
        of other than offsets[-1] items, and properties of other than a row
        per vertex or edge."""
        return self.put(Graph(offsets, edges, vertex_props, edge_props), name)

    def create(self, typename, members=None, fields=None, name=None, mode=0o644):
        """Make an object of typename over existing sealed objects and
        blobs (members: member name -> id), with fields (a dict), named
        name if given; its id. A member may be another member's published
        object or blob: the object is then global, and the daemon
        publishes it at once (vineyardfs(8), CLUSTER, Global objects).
        The type's rules are checked first (VineyardfsError EINVAL)."""
        return self._request({"op": "create", "typename": typename, "fields": fields or {},
                              "members": members or {}, "name": name, "mode": mode})["id"]

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

    def get(self, ref=None, name=None):
        """The value of an object (by id or name; Vineyard's get(name=...)
        too), without a copy:

        Blob -> memoryview of the mapped bytes; Tensor -> read-only
        numpy.memmap; DataFrame -> pandas DataFrame whose columns are such
        memory maps; vineyard::Table or RecordBatch (packed or not) ->
        pandas DataFrame equal to the one put, each blob mapped once:
        numeric and temporal columns without nulls are read-only views of
        the mapping, bools are unpacked (a copy), text and categories built
        from offsets and data, nulls as pd.NA in the nullable dtypes; Sequence -> list and Tuple -> tuple of get() of each
        element, in order; Scalar -> its value as a bool, int, float or str
        (as stored; a float type's value always as a float); Graph -> a
        Graph of memory maps. An object of any other typename -> its
        metadata tree, a dict (as meta() gives it).
        """
        if (ref is None) == (name is None):
            raise TypeError("get: give an id or a name, one of them")
        return self._value(self._dir(ref if ref is not None else name))

    @staticmethod
    def _view(path):
        """A read-only memoryview of a blob's file, mapped."""
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:  # nothing to map
                return memoryview(b"")
            return memoryview(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ))

    def _member(self, d, name):
        """The value of member name of the object in directory d: an object
        member is a link to its directory, a blob member is the blob's file."""
        path = os.path.join(d, name)
        if os.path.isdir(path):
            return self._value(os.path.realpath(path))
        return self._view(path)

    def _value(self, d):
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
        typename = meta["typename"]
        if typename == "Blob":
            return self._view(os.path.join(d, "buffer_"))
        if typename == "Tensor":
            _need_numpy("to read a Tensor")
            shape = tuple(_array(meta["shape_"]))
            if int(meta["buffer_"]["nbytes"]) == 0:  # nothing to map
                a = _np.zeros(shape, dtype=meta["value_type_"])
                a.flags.writeable = False
                return a
            return _np.memmap(os.path.join(d, "buffer_"), dtype=meta["value_type_"], shape=shape, mode="r")
        if typename == "DataFrame":
            if _pd is None:
                raise ImportError("pandas is needed to read a DataFrame")
            cols = _array(meta["columns_"])
            # Each column is its Tensor's memory map; copy=False keeps them so.
            return _pd.DataFrame({c: self._member(d, c) for c in cols}, columns=cols, copy=False)
        if typename in ("vineyard::Table", "vineyard::RecordBatch"):
            if _pd is None:
                raise ImportError("pandas is needed to read a %s" % typename)
            from . import table
            return table.get(d, meta)
        if typename in ("Sequence", "Tuple"):
            items = [self._member(d, "__elements_-%d" % i) for i in range(int(meta["size_"]))]
            return items if typename == "Sequence" else tuple(items)
        if typename == "Scalar":
            value = meta["value_"]
            return float(value) if meta["type_"] in ("float32", "float64") else value
        if typename == "Graph":
            return Graph(self._member(d, "offsets"), self._member(d, "edges"),
                         self._member(d, "vertex_properties_") if "vertex_properties_" in meta else None,
                         self._member(d, "edge_properties_") if "edge_properties_" in meta else None,
                         vertex_num=int(meta["vertex_num_"]), edge_num=int(meta["edge_num_"]))
        return meta

    # -- the rest ------------------------------------------------------------

    def list(self):
        """Names and the ids they name."""
        out = {}
        names = os.path.join(self.mount, "names")
        for n in os.listdir(names):
            if n.startswith(_TMP_PREFIX):
                continue
            out[n] = os.path.basename(self._dir(n))
        return out

    def delete(self, ref, deep=True):
        """Delete an object (by id or name) with its names. With deep (the
        default), each member object it leaves held by no other object and
        without a name goes too, recursively (the objects put made for a
        value's parts); members with a name or another holder stay. With
        deep=False the members all stay (unnamed ones under objects/). A
        member of another object cannot be deleted (EBUSY)."""
        self._request({"op": "delete", "id": os.path.basename(self._dir(ref)), "deep": bool(deep)})

    # -- object streams ------------------------------------------------------

    def tensor_writer(self, shape, dtype, name=None):
        """A Tensor of shape and dtype to fill in place: its ``array`` is a
        writable numpy array over the blob's shared memory; ``seal()``
        makes the Tensor (named name) and returns its id, with no copy.
        ``with vfs.tensor_writer(...) as t:`` seals at the end of the
        block (the id in ``t.id``) or discards on an exception."""
        return TensorWriter(self, shape, dtype, name)

    def stream_writer(self, name, mode=0o644):
        """Produce the object stream name: push(value) puts a value (or
        pushes an existing object by id) for the consumers at once;
        close() ends it and returns the id of the Sequence it becomes. As
        a context manager, an exception fails the stream (consumers get
        EIO after what was pushed), and so does a process that dies first."""
        return StreamWriter(self, name, mode)

    def stream_reader(self, name, timeout=None, ids=False):
        """Iterate the object stream name from its start, blocking for each
        next object until the producer pushes it (timeout in seconds per
        object, None for no limit) and ending when it closes; yields
        get(id) of each (zero copy), or the ids with ids=True. A failed
        stream raises VineyardfsError (EIO) after its objects."""
        index = 0
        while True:
            req = {"op": "stream_next", "name": name, "index": index}
            if timeout is not None:
                req["timeout_ms"] = max(0, int(timeout * 1000))
            try:
                reply = self._request(req)
            except VineyardfsError as e:
                if e.errno == errno.ETIMEDOUT:
                    raise TimeoutError(errno.ETIMEDOUT, "no object %d of stream %s after %s s" % (index, name, timeout))
                raise
            if reply.get("end"):
                return
            yield reply["id"] if ids else self.get(reply["id"])
            index += 1

    def publish(self, ref, timeout=10.0):
        """Publish an object (by id or name) to the mount's cluster, with
        its member objects and names (vineyardfs(8), CLUSTER). The daemon
        queues it; this waits up to timeout seconds (0: not at all) for
        etcd's answer and returns "published", or "queued" while etcd is
        away (it is published when etcd answers). Raises VineyardfsError:
        EEXIST when a name of it is another object's in the cluster,
        ENOTCONN when the mount is in no cluster."""
        oid = os.path.basename(self._dir(ref))
        reply = self._request({"op": "publish", "id": oid})
        deadline = time.monotonic() + max(0.0, timeout)
        while reply.get("state") != "published" and time.monotonic() < deadline:
            time.sleep(0.02)
            reply = self._request({"op": "publish_status", "id": oid})
        return reply.get("state", "queued")

    # -- Vineyard's names ----------------------------------------------------

    def get_meta(self, ref):
        """Vineyard's get_meta: the metadata tree (a dict, as meta())."""
        return self.meta(ref)

    def get_name(self, name):
        """Vineyard's get_name: the id name names (KeyError-like
        FileNotFoundError when it names nothing)."""
        return os.path.basename(self._dir(name))

    def put_name(self, ref, name):
        """Vineyard's put_name: name an object (by id or name) with name as
        well (EEXIST when name is taken)."""
        self._request({"op": "name", "id": os.path.basename(self._dir(ref)), "name": name})

    def drop_name(self, name):
        """Vineyard's drop_name: take name away; its object stays."""
        self._request({"op": "unname", "name": name})

    def persist(self, ref):
        """Vineyard's persist: publish the object to the cluster (publish,
        without waiting for etcd's answer)."""
        self.publish(ref, timeout=0)

    def list_objects(self, pattern="*", regex=False, limit=5):
        """Vineyard's list_objects: the metadata of at most limit objects
        whose typename matches pattern (a shell pattern, or a regular
        expression with regex), in id order."""
        import fnmatch
        import re
        match = re.compile(pattern).search if regex else (lambda t: fnmatch.fnmatchcase(t, pattern))
        out = []
        objects = os.path.join(self.mount, "objects")
        for oid in sorted(os.listdir(objects)):
            if len(out) >= limit:
                break
            try:
                with open(os.path.join(objects, oid, "meta.json")) as f:
                    meta = json.load(f)
            except FileNotFoundError:  # deleted meanwhile
                continue
            if match(meta.get("typename", "")):
                out.append(meta)
        return out

    def wait_name(self, name, timeout=None):
        """Block until name exists and names a sealed object (a name made
        by writing into names/ appears before its bytes are complete), then
        return the id it names. The daemon parks the request (no thread of
        its own waits); timeout in seconds, None for no limit; raises
        TimeoutError after it. A signal handler that raises (Ctrl-C's
        KeyboardInterrupt) ends the wait at once."""
        req = {"op": "wait", "name": name}
        if timeout is not None:
            req["timeout_ms"] = max(0, int(timeout * 1000))
        try:
            return self._request(req)["id"]
        except VineyardfsError as e:
            if e.errno == errno.ETIMEDOUT:
                raise TimeoutError(errno.ETIMEDOUT, "no sealed object named %s after %s s" % (name, timeout))
            raise


def connect(mount=None):
    """Vineyard's connect: a Client of the mount (mount, else
    VINEYARDFS_MOUNT, else /vineyard); where v6d takes an IPC socket, a
    path that is not a mount raises FileNotFoundError."""
    return Client(mount)
