"""vineyard::Table objects from pandas DataFrames and back, through the
mount (the conversion itself is vineyardfs.arrow's).

put makes a packed table (vineyardfs(7), the Arrow layouts): the daemon's
ctl op arrow_layout lays out an Arrow IPC file for the columns' buffer
sizes; one blob of that size is reserved, mapped, and the metadata pieces
and every buffer are written straight into the mapping (each byte once),
then sealed; then a BufferView per buffer, an array per column (and per
dictionary), the SchemaProxy, one RecordBatch and the Table (member ipc_:
the blob, which the mount also shows as table.arrow) are created.

get reads the whole tree from the Table's meta.json, maps each blob once
(a packed table: its one blob) and hands vineyardfs.arrow memoryviews of
the mapping: the numeric columns it returns are views of those pages.
"""

import base64
import json
import mmap
import os
import uuid

from . import arrow

_TMP_PREFIX = ".vfs-tmp-"  # as vineyardfs._TMP_PREFIX


def _layout_request(names, arrays, rows):
    fields, dicts, cols = [], [], []
    for i, (n, a) in enumerate(zip(names, arrays)):
        fields.append({"name": n, "type": a.type, "nullable": True})
        cols.append({"null_count": a.null_count, "buffers": [memoryview(b).nbytes for b in a.buffers]})
        if a.dictionary is not None:
            d = a.dictionary
            dicts.append({"field": i, "length": d.length, "null_count": d.null_count,
                          "buffers": [memoryview(b).nbytes for b in d.buffers]})
    return {"op": "arrow_layout", "fields": fields, "dictionaries": dicts,
            "batches": [{"rows": rows, "columns": cols}]}


def _fill(mm, buffers, offsets):
    for b, o in zip(buffers, offsets):
        view = memoryview(b).cast("B")
        if view.nbytes:
            mm[o:o + view.nbytes] = view


def put(client, df, name, made):
    """A packed vineyard::Table of DataFrame df (checked by the caller),
    named name; every object made goes into made; its id."""
    names, arrays, meta = arrow.frame_arrays(df)
    rows = len(df)
    reply = client._request(_layout_request(names, arrays, rows))
    nbytes = reply["nbytes"]
    tmp = _TMP_PREFIX + uuid.uuid4().hex
    path = os.path.join(client.mount, "names", tmp)
    try:
        with open(path, "xb+", buffering=0) as f:
            # Reserved first: ENOSPC now (or room made by a spilling
            # store), not SIGBUS half-way; zeroed, so the gaps are padding.
            os.posix_fallocate(f.fileno(), 0, nbytes)
            with mmap.mmap(f.fileno(), nbytes, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)) as mm:
                for p in reply["pieces"]:
                    data = base64.b64decode(p["data"])
                    mm[p["offset"]:p["offset"] + len(data)] = data
                for a, offs in zip(arrays, reply["batches"][0]["columns"]):
                    _fill(mm, a.buffers, offs)
                for d in reply.get("dictionaries", []):
                    _fill(mm, arrays[d["field"]].dictionary.buffers, d["buffers"])
        blob = client._sealed_blob(tmp)
        ids = {}

        def view(b, offset):
            size = memoryview(b).nbytes
            if size == 0:
                offset = 0
            key = (offset, size)
            if key not in ids:
                ids[key] = client._create("vineyard::BufferView", {"offset_": offset, "size_": size},
                                          {"buffer_": blob}, None, made)
            return ids[key]

        def array(i, a, offs):
            fields = {"length_": a.length, "null_count_": a.null_count, "offset_": 0, "data_type_": a.type}
            if a.type.startswith("dictionary<"):
                _, indices, _ = arrow.parse_dictionary(a.type)
                d = next(x for x in reply["dictionaries"] if x["field"] == i)
                members = {"indices_": client._create(
                               "vineyard::NumericArray<%s>" % indices,
                               {"length_": a.length, "null_count_": a.null_count, "offset_": 0, "data_type_": indices},
                               {"null_bitmap_": view(a.buffers[0], offs[0]), "buffer_": view(a.buffers[1], offs[1])},
                               None, made),
                           "dictionary_": array_plain(a.dictionary, d["buffers"])}
                return client._create("vineyard::DictionaryArray", fields, members, None, made)
            return array_plain(a, offs)

        def array_plain(a, offs):
            fields = {"length_": a.length, "null_count_": a.null_count, "offset_": 0, "data_type_": a.type}
            if len(a.buffers) == 3:
                members = {"null_bitmap_": view(a.buffers[0], offs[0]),
                           "buffer_offsets_": view(a.buffers[1], offs[1]),
                           "buffer_data_": view(a.buffers[2], offs[2])}
            else:
                members = {"null_bitmap_": view(a.buffers[0], offs[0]), "buffer_": view(a.buffers[1], offs[1])}
            return client._create(arrow.typename(a.type), fields, members, None, made)

        columns = {}
        for i, (a, offs) in enumerate(zip(arrays, reply["batches"][0]["columns"])):
            columns["__columns_-%d" % i] = array(i, a, offs)
        schema = client._create("vineyard::SchemaProxy", {
            "fields_": [{"name": n, "type": a.type, "nullable": True} for n, a in zip(names, arrays)],
            "schema_textual_": "\n".join("%s: %s" % (n, a.type) for n, a in zip(names, arrays))},
            {}, None, made)
        batch = client._create("vineyard::RecordBatch", {
            "column_num_": len(arrays), "row_num_": rows, "__columns_-size": len(arrays)},
            dict(columns, schema_=schema), None, made)
        return client._create("vineyard::Table", {
            "num_rows_": rows, "num_columns_": len(arrays), "batch_num_": 1, "partitions_-size": 1,
            "pandas_": meta}, {"schema_": schema, "partitions_-0": batch, "ipc_": blob}, name, made)
    finally:
        # The blob lives on in the table; its Blob object goes with the name.
        try:
            os.unlink(path)
        except OSError:
            pass


class _Blobs:
    """The blobs of one object, each mapped once, by id."""

    def __init__(self, d):
        self.d = d
        self.maps = {}

    def view(self, tree, path):
        """A memoryview of the buffer member tree found at path (member
        names from the object's directory): a raw blob, or a BufferView's
        range of its blob."""
        if tree.get("typename") == "vineyard::BufferView":
            whole = self.view(tree["buffer_"], path + ["buffer_"])
            off, size = int(tree["offset_"]), int(tree["size_"])
            if off < 0 or off + size > len(whole):
                raise ValueError("%s: range %d+%d outside its blob" % ("/".join(path), off, size))
            return whole[off:off + size]
        bid = tree["id"]
        if bid not in self.maps:
            p = os.path.join(self.d, *path)
            if int(tree.get("nbytes", 0)) == 0:
                self.maps[bid] = memoryview(b"")
            else:
                with open(p, "rb") as f:
                    self.maps[bid] = memoryview(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ))
        return self.maps[bid]


def _column(blobs, tree, path):
    t = tree.get("data_type_") or arrow.type_of(tree["typename"])
    n, nulls, off = int(tree["length_"]), int(tree.get("null_count_", 0)), int(tree.get("offset_", 0))
    if tree["typename"] == "vineyard::DictionaryArray":
        ind = tree["indices_"]
        ipath = path + ["indices_"]
        bufs = [blobs.view(ind["null_bitmap_"], ipath + ["null_bitmap_"]), blobs.view(ind["buffer_"], ipath + ["buffer_"])]
        return arrow.Column(t, n, int(ind.get("null_count_", nulls)), int(ind.get("offset_", 0)), bufs,
                            _column(blobs, tree["dictionary_"], path + ["dictionary_"]))
    if "buffer_offsets_" in tree:
        keys = ["null_bitmap_", "buffer_offsets_", "buffer_data_"]
    else:
        keys = ["null_bitmap_", "buffer_"]
    return arrow.Column(t, n, nulls, off, [blobs.view(tree[k], path + [k]) for k in keys])


def get(d, meta):
    """The DataFrame of the vineyard::Table or vineyard::RecordBatch whose
    directory is d and metadata tree meta."""
    blobs = _Blobs(d)
    if meta["typename"] == "vineyard::RecordBatch":
        batches = [(meta, [])]
    else:
        batches = [(meta["partitions_-%d" % i], ["partitions_-%d" % i])
                   for i in range(int(meta.get("partitions_-size", meta.get("batch_num_", 0))))]
    fields = arrow.load_array(meta["schema_"]["fields_"])
    names = [f["name"] for f in fields]
    columns = [[] for _ in names]
    for b, path in batches:
        for i in range(len(names)):
            key = "__columns_-%d" % i
            columns[i].append(_column(blobs, b[key], path + [key]))
    pandas_meta = meta.get("pandas_")
    if isinstance(pandas_meta, str):
        pandas_meta = json.loads(pandas_meta)
    if not batches:
        return arrow.frame(names, [[] for _ in names], pandas_meta)
    return arrow.frame(names, columns, pandas_meta)
