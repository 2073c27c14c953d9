"""pandas columns <-> Apache Arrow arrays, as buffers: no I/O here.

put: frame_arrays(df) turns a DataFrame into Arrow arrays (type strings
in pyarrow's spelling, the contract of core/arrow_type.h; buffers in IPC
order: [validity, values] or [validity, offsets, data], validity empty
when there is no null), plus the "pandas_" metadata that says how to
rebuild the exact dtypes. The buffers are the frame's own numpy memory
where Arrow's layout is numpy's (numbers, timestamps, durations,
categorical codes, the values of nullable arrays): the caller writes them
once, into the table's blob. Bools are bit-packed and strings encoded
here (copies: Arrow's layout is not pandas').

get: frame(fields, columns, pandas_meta) rebuilds the DataFrame from
arrays whose buffers are memoryviews of the mapped blob: numbers,
timestamps and durations without nulls stay views of the mapping (zero
copy); bools are unpacked from bits, strings and categories built from
offsets and data, nulls become pd.NA (nullable dtypes), None (text) or
NaT (times): those are copies.
"""

import json

import numpy as np
import pandas as pd

# numpy dtype name <-> Arrow type string of a fixed-width column.
_NUMERIC = {"int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
            "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
            "float32": "float", "float64": "double"}
_NUMPY = {v: k for k, v in _NUMERIC.items()}
# pandas' nullable dtypes, rebuilt from pandas_ even without nulls.
_MASKED = ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
           "Float32", "Float64", "boolean")
_UNITS = ("s", "ms", "us", "ns")
_INT32_MAX = (1 << 31) - 1
INDEX_COLUMN = "__index_level_%d__"


class Array:
    """One Arrow array to write: its type string, length, null count, its
    buffers in IPC order (bytes-like; validity b"" when no null) and, for
    a dictionary, the Array of its values."""

    __slots__ = ("type", "length", "null_count", "buffers", "dictionary")

    def __init__(self, type_, length, null_count, buffers, dictionary=None):
        self.type = type_
        self.length = length
        self.null_count = null_count
        self.buffers = buffers
        self.dictionary = dictionary


def _validity(mask):
    """(null count, validity bitmap) of a null mask (True = null)."""
    n = int(np.count_nonzero(mask)) if mask is not None else 0
    if n == 0:
        return 0, b""
    return n, np.packbits(~mask, bitorder="little")


def _flat(a):
    """a's bytes, no copy when it is contiguous already."""
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _strings(name, values):
    """An Array of the str (or bytes) values of an object array; None,
    NaN, pd.NA and NaT are nulls; TypeError naming the column for any
    other value."""
    mask = pd.isna(values)
    nulls = bool(mask.any())
    present = values[~mask] if nulls else values
    kinds = set(map(type, present))
    if all(issubclass(k, str) for k in kinds):
        binary = False
    elif all(issubclass(k, (bytes, bytearray)) for k in kinds):
        binary = True
    else:
        bad = sorted(k.__name__ for k in kinds if not issubclass(k, (str, bytes, bytearray)))
        raise TypeError("DataFrame column %r holds %s values: an object column must hold str "
                        "(or bytes), with None or NaN as nulls" % (name, ", ".join(bad) or "mixed str and bytes"))
    if binary:
        enc = list(map(bytes, present))
        lens = np.fromiter(map(len, enc), dtype=np.int64, count=len(enc))
        data = b"".join(enc)
    else:
        joined = "".join(present)
        try:
            data = joined.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError("DataFrame column %r: a string is not valid Unicode (%s)" % (name, e.reason)) from None
        if len(data) == len(joined):  # ASCII: a character is a byte
            lens = np.fromiter(map(len, present), dtype=np.int64, count=len(present))
        else:
            enc = [s.encode("utf-8") for s in present]
            lens = np.fromiter(map(len, enc), dtype=np.int64, count=len(enc))
        del joined
    if nulls:
        full = np.zeros(len(values), dtype=np.int64)
        full[~mask] = lens
        lens = full
    large = len(data) > _INT32_MAX
    offsets = np.zeros(len(values) + 1, dtype=np.int64 if large else np.int32)
    np.cumsum(lens, out=offsets[1:])
    count, validity = _validity(mask if nulls else None)
    kind = ("large_" if large else "") + ("binary" if binary else "string")
    return Array(kind, len(values), count, [validity, _flat(offsets), data])


def _fixed(type_, values, mask=None):
    count, validity = _validity(mask)
    return Array(type_, len(values), count, [validity, _flat(values)])


def _column(name, col):
    """The Array of one column (a Series); TypeError naming it if it has no
    Arrow type here."""
    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        cats = dt.categories
        if cats.hasnans:
            raise ValueError("DataFrame column %r: a category is NaN" % name)
        values = _column(name, pd.Series(cats))
        if values.dictionary is not None:
            raise TypeError("DataFrame column %r: categories that are categorical" % name)
        count, validity = _validity(codes < 0)
        type_ = "dictionary<values=%s, indices=%s, ordered=%d>" % (values.type, codes.dtype.name, dt.ordered)
        return Array(type_, len(codes), count, [validity, _flat(codes)], values)
    if isinstance(dt, pd.DatetimeTZDtype):
        arr = col.array
        # The zone's name as Arrow spells it: pytz's .zone, zoneinfo's .key.
        tz = getattr(dt.tz, "zone", None) or getattr(dt.tz, "key", None) or str(dt.tz)
        return _fixed("timestamp[ns, tz=%s]" % tz, arr.asi8, np.asarray(arr.isna()))
    if isinstance(dt, (pd.StringDtype,)):
        return _strings(name, col.to_numpy(dtype=object))
    if dt.name in _MASKED:
        arr = col.array
        if dt.name == "boolean":
            count, validity = _validity(arr._mask)
            return Array("bool", len(arr), count, [validity, np.packbits(arr._data, bitorder="little")])
        return _fixed(_NUMERIC[arr._data.dtype.name], arr._data, arr._mask)
    if not isinstance(dt, np.dtype):
        raise TypeError("DataFrame column %r has dtype %s, which has no Arrow type here" % (name, dt))
    if dt.name in _NUMERIC:
        return _fixed(_NUMERIC[dt.name], col.to_numpy())
    if dt == np.bool_:
        values = col.to_numpy()
        return Array("bool", len(values), 0, [b"", np.packbits(values, bitorder="little")])
    if dt.kind in "mM":
        unit = np.datetime_data(dt)[0]
        if unit not in _UNITS:
            raise TypeError("DataFrame column %r has dtype %s: units s, ms, us, ns only" % (name, dt))
        values = col.to_numpy()
        kind = "timestamp" if dt.kind == "M" else "duration"
        return _fixed("%s[%s]" % (kind, unit), values.view(np.int64), np.isnat(values))
    if dt == object:
        return _strings(name, col.to_numpy())
    raise TypeError("DataFrame column %r has dtype %s, which has no Arrow type here" % (name, dt))


def supported(dt):
    """Has a column of pandas dtype dt an Arrow type here? (object columns:
    if their values are str or bytes, checked when they are encoded)"""
    if isinstance(dt, (pd.CategoricalDtype, pd.DatetimeTZDtype, pd.StringDtype)):
        return True
    if str(dt) in _MASKED:
        return True
    if not isinstance(dt, np.dtype):
        return False
    if dt.kind in "mM":
        return np.datetime_data(dt)[0] in _UNITS
    return dt.name in _NUMERIC or dt == np.bool_ or dt == object


def frame_arrays(df):
    """(names, arrays, pandas_meta) of DataFrame df: a field per column, in
    order, then a column per level of a non-trivial index
    (__index_level_0__ ..., as pyarrow does; a RangeIndex is kept in
    pandas_meta only). ValueError for names that cannot be fields."""
    names = [str(c) for c in df.columns]
    cols = [df.iloc[:, i] for i in range(df.shape[1])]
    meta = {"columns": [str(c.dtype) for c in cols]}
    idx = df.index
    if isinstance(idx, pd.RangeIndex):
        meta["index"] = {"kind": "range", "start": int(idx.start), "stop": int(idx.stop),
                         "step": int(idx.step), "name": idx.name if isinstance(idx.name, str) else None}
    else:
        levels = [idx.get_level_values(i) for i in range(idx.nlevels)]
        meta["index"] = {"kind": "columns", "names": [n if isinstance(n, str) else None for n in idx.names],
                         "columns": [INDEX_COLUMN % i for i in range(len(levels))]}
        names += meta["index"]["columns"]
        cols += [pd.Series(lv, copy=False) for lv in levels]
        meta["columns"] += [str(lv.dtype) for lv in levels]
    if len(set(names)) != len(names):
        raise ValueError("DataFrame column names must be distinct: %s" % names)
    for n in names:
        if n == "":
            raise ValueError("DataFrame column names cannot be empty")
        try:
            n.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError("DataFrame column %r: the name is not valid Unicode (%s)" % (n, e.reason)) from None
    return names, [_column(n, c) for n, c in zip(names, cols)], meta


def typename(type_):
    """The Vineyard typename of an array of type_ (core/arrow_type.h)."""
    if type_.startswith("dictionary<"):
        return "vineyard::DictionaryArray"
    if type_ == "bool":
        return "vineyard::BooleanArray"
    binary = {"string": "StringArray", "large_string": "LargeStringArray",
              "binary": "BinaryArray", "large_binary": "LargeBinaryArray"}
    if type_ in binary:
        return "vineyard::BaseBinaryArray<arrow::%s>" % binary[type_]
    return "vineyard::NumericArray<%s>" % type_


def parse_dictionary(type_):
    """(values type, indices type, ordered) of a dictionary type string."""
    body = type_[len("dictionary<"):-1]
    values, rest = body.split(", indices=", 1)
    indices, ordered = rest.split(", ordered=", 1)
    return values[len("values="):], indices, ordered.strip() in ("1", "true")


def type_of(name):
    """The type string an array typename names (not DictionaryArray's:
    its data_type_ does)."""
    binary = {"StringArray": "string", "LargeStringArray": "large_string",
              "BinaryArray": "binary", "LargeBinaryArray": "large_binary"}
    if name == "vineyard::BooleanArray":
        return "bool"
    if name.startswith("vineyard::NumericArray<"):
        return name[len("vineyard::NumericArray<"):-1]
    if name.startswith("vineyard::BaseBinaryArray<arrow::"):
        return binary[name[len("vineyard::BaseBinaryArray<arrow::"):-1]]
    raise TypeError("%s is not an Arrow array's typename" % name)


def load_array(v):
    """A JSON array field, which Vineyard may also write as a string."""
    return json.loads(v) if isinstance(v, str) else v


# -- get ------------------------------------------------------------------

class Column:
    """One Arrow array read back: type string, length, null_count, offset
    (slots), buffers (memoryviews, IPC order) and dictionary (a Column)."""

    __slots__ = ("type", "length", "null_count", "offset", "buffers", "dictionary")

    def __init__(self, type_, length, null_count, offset, buffers, dictionary=None):
        self.type = type_
        self.length = length
        self.null_count = null_count
        self.offset = offset
        self.buffers = buffers
        self.dictionary = dictionary


def _mask(c):
    """The null mask (True = null) of c, or None when it has no null."""
    if c.null_count == 0 or len(c.buffers[0]) == 0:
        return None
    bits = np.unpackbits(np.frombuffer(c.buffers[0], dtype=np.uint8), count=c.offset + c.length,
                         bitorder="little")
    return bits[c.offset:] == 0


def _numbers(c, dtype):
    size = np.dtype(dtype).itemsize
    return np.frombuffer(c.buffers[1], dtype=dtype, count=c.length, offset=c.offset * size)


def _temporal(c):
    """datetime64 / timedelta64 values of a timestamp, date or duration."""
    t = c.type
    if t.startswith("date32"):
        return _numbers(c, np.int32).astype("datetime64[D]").astype("datetime64[ns]")
    if t.startswith("date64"):
        return _numbers(c, np.int64).astype("datetime64[ms]").astype("datetime64[ns]")
    unit = t[t.index("[") + 1:].split(",")[0].rstrip("]")
    kind = "datetime64" if t.startswith("timestamp") else "timedelta64"
    values = _numbers(c, np.int64).view("%s[%s]" % (kind, unit))
    if unit != "ns":  # pandas 1.5 holds nanoseconds only
        values = values.astype("%s[ns]" % kind)
    return values


def _texts(c):
    """An object array of the str (bytes for binary) values, None at nulls."""
    wide = c.type.startswith("large_")
    offs = np.frombuffer(c.buffers[1], dtype=np.int64 if wide else np.int32, count=c.length + 1,
                         offset=c.offset * (8 if wide else 4))
    out = np.empty(c.length, dtype=object)
    if c.length == 0:
        return out
    first, last = int(offs[0]), int(offs[-1])
    data = bytes(c.buffers[2][first:last])
    starts = (offs[:-1] - first).tolist()
    ends = (offs[1:] - first).tolist()
    if c.type.endswith("binary"):
        out[:] = [data[a:b] for a, b in zip(starts, ends)]
    elif data.isascii():  # a byte is a character: slice the decoded text
        text = data.decode("ascii")
        out[:] = [text[a:b] for a, b in zip(starts, ends)]
    else:
        out[:] = [data[a:b].decode("utf-8") for a, b in zip(starts, ends)]
    mask = _mask(c)
    if mask is not None:
        out[mask] = None
    return out


def _values(c, dtype=None):
    """The pandas values (numpy array or extension array) of Column c;
    dtype, the pandas dtype recorded at put (or None), picks among the
    representations."""
    t, mask = c.type, _mask(c)
    if t.startswith("dictionary<"):
        _, indices, ordered = parse_dictionary(t)
        codes = _numbers(c, indices)
        if mask is not None:
            codes = codes.copy()
            codes[mask] = -1
        cats = pd.Index(_values(c.dictionary))
        return pd.Categorical.from_codes(codes, categories=cats, ordered=ordered)
    if t in _NUMPY:
        values = _numbers(c, _NUMPY[t])
        if mask is None and dtype not in _MASKED:
            return values
        if mask is None:
            mask = np.zeros(c.length, dtype=bool)
        if t in ("float", "double"):
            return pd.arrays.FloatingArray(values, mask)
        return pd.arrays.IntegerArray(values, mask)
    if t == "bool":
        values = np.unpackbits(np.frombuffer(c.buffers[1], dtype=np.uint8), count=c.offset + c.length,
                               bitorder="little")[c.offset:].view(np.bool_)
        if mask is None and dtype != "boolean":
            return values
        return pd.arrays.BooleanArray(values, mask if mask is not None else np.zeros(c.length, dtype=bool))
    if t.endswith("string") or t.endswith("binary"):
        out = _texts(c)
        if dtype == "string":
            if mask is not None:
                out[mask] = pd.NA
            return pd.arrays.StringArray(out)
        return out
    if t.startswith(("timestamp", "date", "duration")):
        values = _temporal(c)
        if mask is not None:
            values = values.copy()
            values[mask] = np.datetime64("NaT") if values.dtype.kind == "M" else np.timedelta64("NaT")
        if ", tz=" in t:
            tz = t[t.index(", tz=") + 5:-1]
            return pd.arrays.DatetimeArray(values, dtype=pd.DatetimeTZDtype(tz=tz))
        return values
    raise TypeError("a column of type %s cannot be read here" % t)


def frame(names, columns, meta=None):
    """The DataFrame of fields names whose arrays are columns (Column
    lists, one per batch, concatenated when there are several), rebuilt as
    the pandas_ metadata meta (a dict or None) says."""
    meta = meta or {}
    dtypes = meta.get("columns") or [None] * len(names)
    data = {}
    for i, (n, parts) in enumerate(zip(names, columns)):
        vals = [_values(c, dtypes[i]) for c in parts]
        if not vals:
            data[n] = np.empty(0, dtype=object)
        elif len(vals) == 1:
            data[n] = vals[0]
        else:
            data[n] = pd.concat([pd.Series(v, copy=False) for v in vals], ignore_index=True).array
    rows = sum(c.length for c in columns[0]) if columns else 0
    index = meta.get("index") or {}
    index_cols = index.get("columns") if index.get("kind") == "columns" else \
        [n for n in names if n.startswith("__index_level_") and n.endswith("__")]
    keep = [n for n in names if n not in index_cols]
    if index.get("kind") == "range":
        idx = pd.RangeIndex(index["start"], index["stop"], index["step"], name=index.get("name"))
    elif index_cols:
        levels = [pd.Index(data[n], copy=False) for n in index_cols]
        lnames = index.get("names") or [None] * len(levels)
        if len(levels) == 1:
            idx = levels[0].rename(lnames[0])
        else:
            idx = pd.MultiIndex.from_arrays(levels, names=lnames)
    else:
        idx = pd.RangeIndex(rows)
    return pd.DataFrame({n: data[n] for n in keep}, columns=keep, index=idx, copy=False)


def dumps(meta):
    return json.dumps(meta, separators=(",", ":"))
