/*
 * clib_test: libvineyardfs against a real mount (run by tests/fs/clib.sh).
 *
 *   clib_test MOUNT DATA_PATH all   every library call, its results and
 *                                   its errors
 *   clib_test MOUNT DATA_PATH write a Tensor "from_c" and a Sequence
 *                                   "seq_c" (a Graph, a Scalar) for Python
 *   clib_test MOUNT DATA_PATH read  the Tensor "from_py" Python wrote
 *   clib_test MOUNT DATA_PATH arrow every value of the Arrow tables "tab"
 *                                   and "packed" tests/fs/arrow_types.sh
 *                                   made by hand
 *
 * Exits 1 with the line of the first failed check.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "include/vineyardfs.h"

static vfs_t *v;

#define CHECK(cond)                                                                                    \
	do {                                                                                           \
		if (!(cond)) {                                                                         \
			fprintf(stderr, "clib_test:%d: %s failed (last error: %s)\n", __LINE__, #cond, \
			    v != NULL ? vfs_error(v) : "");                                            \
			exit(1);                                                                       \
		}                                                                                      \
	} while (0)

/* Entries in MOUNT/dir (objects, blobs). */
static int
count(const char *mount, const char *dir)
{
	char path[4096];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof path, "%s/%s", mount, dir);
	CHECK((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Kilobytes of a line of /proc/self/status. */
static long
status_kb(const char *key)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	CHECK(f != NULL);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			kb = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return kb;
}

static int
find_name(void *arg, const char *name, const char *id)
{
	const char **want = arg;

	if (strcmp(name, want[0]) == 0 && strcmp(id, want[1]) == 0)
		want[2] = "found";
	return 0;
}

static int
stop_at_first(void *arg, const char *name, const char *id)
{
	(void)name;
	(void)id;
	++*(int *)arg;
	return 7;
}

static void
test_all(const char *mount, const char *data_path)
{
	static const double m[6] = { 1.5, 2, 3, 4, 5, 6.25 };
	static const uint64_t shape[2] = { 2, 3 };
	char id[VFS_ID_SIZE], id2[VFS_ID_SIZE], bid[VFS_ID_SIZE], oid[VFS_ID_SIZE], *json, *reply;
	const char *want[3];
	struct vfs_tensor t;
	struct vfs_map map, map2;
	vfs_t *bad;
	vfs_blob_t *b;
	void *p;
	int objects, blobs, n, i;

	CHECK(vfs_open("/tmp", &bad) == -ENOENT);
	CHECK(strcmp(vfs_mount_point(v), mount) == 0);

	/* A Tensor, by name and by id, mapped back. */
	CHECK(vfs_put_tensor(v, "float64", 2, shape, m, "m", id) == 0);
	CHECK(id[0] == 'o' && strlen(id) == VFS_ID_SIZE - 1);
	CHECK(vfs_resolve(v, "m", oid) == 0 && strcmp(oid, id) == 0);
	CHECK(vfs_resolve(v, id, oid) == 0 && strcmp(oid, id) == 0);
	CHECK(vfs_get_tensor(v, "m", &t) == 0);
	CHECK(strcmp(t.value_type, "float64") == 0 && t.ndim == 2 && t.shape[0] == 2 && t.shape[1] == 3);
	CHECK(t.map.size == sizeof m && memcmp(t.map.data, m, sizeof m) == 0);
	vfs_unmap(&t.map);
	CHECK(t.map.data == NULL);
	CHECK(vfs_meta(v, "m", &json) == 0);
	CHECK(strstr(json, "\"typename\": \"Tensor\"") != NULL ||
	      strstr(json, "\"typename\":\"Tensor\"") != NULL);
	free(json);
	CHECK(vfs_put_tensor(v, "float64", 2, shape, m, "m", id2) == -EEXIST);
	CHECK(vfs_put_tensor(v, "complex128", 2, shape, m, NULL, id2) == -EINVAL);
	CHECK(strstr(vfs_error(v), "complex128") != NULL);
	CHECK(vfs_get_tensor(v, "nothing", &t) == -ENOENT);

	/* Zero copy: mapping a 32 MiB Tensor and touching it maps the blob's
	 * shared-memory pages (RssShmem), not page-cache copies (RssFile). */
	{
		uint64_t big = 4u << 20;
		double *a = malloc(big * sizeof *a), sum = 0;
		long shmem, file;
		uint64_t k;

		CHECK(a != NULL);
		for (k = 0; k < big; k++)
			a[k] = 1;
		CHECK(vfs_put_tensor(v, "float64", 1, &big, a, "big", id2) == 0);
		free(a);
		shmem = status_kb("RssShmem:");
		file = status_kb("RssFile:");
		CHECK(vfs_get_tensor(v, "big", &t) == 0);
		for (k = 0; k < big; k++)
			sum += ((const double *)t.map.data)[k];
		CHECK(sum == (double)big);
		if (strcmp(data_path, "passthrough") == 0)
			CHECK(status_kb("RssShmem:") - shmem >= 30 * 1024);
		else
			CHECK(status_kb("RssFile:") - file >= 30 * 1024);
		vfs_unmap(&t.map);
		CHECK(vfs_delete(v, "big") == 0);
	}

	/* A DataFrame over blobs written in place; one blob in two Tensors. */
	objects = count(mount, "objects");
	blobs = count(mount, "blobs");
	CHECK(vfs_blob_create(v, 4 * sizeof(long long), &b, &p) == 0);
	for (i = 0; i < 4; i++)
		((long long *)p)[i] = 10 * i;
	CHECK(vfs_blob_seal(v, b, bid) == 0);
	CHECK(bid[0] == 'b');
	{
		const struct vfs_member tm = { "buffer_", bid };
		char ta[VFS_ID_SIZE], tb[VFS_ID_SIZE], df[VFS_ID_SIZE];
		struct vfs_member cols[2] = { { "a", ta }, { "b", tb } };

		CHECK(vfs_create(
			  v, "Tensor", "{\"value_type_\":\"int64\",\"shape_\":[4]}", &tm, 1, NULL, ta) == 0);
		CHECK(vfs_create(
			  v, "Tensor", "{\"value_type_\":\"int32\",\"shape_\":[8]}", &tm, 1, NULL, tb) == 0);
		vfs_blob_free(v, b); /* the Tensors hold the blob now */
		CHECK(
		    vfs_create(v, "DataFrame", "{\"columns_\":[\"a\",\"b\"]}", cols, 2, "df", df) == -EINVAL);
		CHECK(strstr(vfs_error(v), "length") != NULL || strstr(vfs_error(v), "rows") != NULL);
		CHECK(vfs_create(v, "DataFrame", "{\"columns_\":[\"a\"]}", cols, 1, "df", df) == 0);
		CHECK(vfs_map(v, "df", "a/buffer_", &map) == 0);
		CHECK(map.size == 32 && ((const long long *)map.data)[3] == 30);
		CHECK(vfs_map(v, bid, NULL, &map2) == 0);
		CHECK(map2.size == 32 && memcmp(map.data, map2.data, 32) == 0);
		vfs_unmap(&map2);
		/* The column held by the DataFrame cannot go; the other can,
		 * and the shared blob stays for the first. */
		CHECK(vfs_delete(v, ta) == -EBUSY);
		CHECK(vfs_delete(v, tb) == 0);
		CHECK(((const long long *)map.data)[2] == 20);
		vfs_unmap(&map);
		CHECK(count(mount, "blobs") == blobs + 1);
		CHECK(vfs_delete(v, "df") == 0);
		vfs_delete(v, ta); /* gone with df, or here */
		CHECK(vfs_resolve(v, ta, oid) == -ENOENT);
	}
	CHECK(count(mount, "objects") == objects);
	CHECK(count(mount, "blobs") == blobs);

	/* Refusals leave nothing behind; an unsealed blob let go vanishes. */
	CHECK(vfs_blob_create(v, 16, &b, &p) == 0);
	vfs_blob_free(v, b);
	CHECK(vfs_create(v, "Tensor", "{\"value_type_\":\"int64\",\"shape_\":[3]}", NULL, 0, NULL, id2) ==
	      -EINVAL);
	CHECK(vfs_create(v, "Tensor", "{not json", NULL, 0, NULL, id2) == -EINVAL);
	{
		const struct vfs_member dangling = { "buffer_", "b0000000000000001" };

		CHECK(vfs_create(v, "Tensor", "{\"value_type_\":\"int8\",\"shape_\":[1]}", &dangling, 1, NULL,
			  id2) == -EINVAL);
	}
	CHECK(count(mount, "objects") == objects);
	CHECK(count(mount, "blobs") == blobs);
	CHECK(vfs_blob_create(v, (size_t)1 << 40, &b, &p) == -ENOSPC);
	CHECK(count(mount, "objects") == objects);

	/* Blob objects, names, listing, waits, raw requests. */
	CHECK(vfs_put_blob(v, "hello", 5, "greeting", id2) == 0);
	CHECK(vfs_map(v, "greeting", "buffer_", &map) == 0);
	CHECK(map.size == 5 && memcmp(map.data, "hello", 5) == 0);
	vfs_unmap(&map);
	CHECK(vfs_put_blob(v, "", 0, NULL, oid) == 0);
	CHECK(vfs_map(v, oid, "buffer_", &map) == 0 && map.size == 0 && map.data == NULL);
	CHECK(vfs_delete(v, oid) == 0);
	CHECK(vfs_name(v, "greeting", "hi") == 0);
	CHECK(vfs_name(v, "greeting", "hi") == -EEXIST);
	CHECK(vfs_name(v, "greeting", "a/b") == -EINVAL);
	want[0] = "hi";
	want[1] = id2;
	want[2] = NULL;
	CHECK(vfs_list(v, find_name, want) == 0 && want[2] != NULL);
	n = 0;
	CHECK(vfs_list(v, stop_at_first, &n) == 7 && n == 1);
	CHECK(vfs_unname(v, "greeting") == 0);
	CHECK(vfs_resolve(v, "greeting", oid) == -ENOENT);
	CHECK(vfs_wait(v, "hi", 0, oid) == 0 && strcmp(oid, id2) == 0);
	CHECK(vfs_wait(v, "nobody", 100, oid) == -ETIMEDOUT);
	CHECK(vfs_request(v, "{\"op\":\"unname\",\"name\":\"hi\"}", &reply) == 0);
	CHECK(strcmp(reply, "{\"ok\":true}") == 0);
	free(reply);
	CHECK(vfs_request(v, "{\"op\":\"frobnicate\"}", &reply) == -ENOSYS);
	CHECK(strstr(reply, "\"ok\":false") != NULL);
	free(reply);
	/* Object streams: push, take in order, end; a failed one. */
	{
		vfs_stream_t *st, *st2;
		char t0[VFS_ID_SIZE], t1[VFS_ID_SIZE], got[VFS_ID_SIZE], seq[VFS_ID_SIZE];
		const uint64_t one = 1;
		const double x = 2.5;

		CHECK(vfs_stream_open(v, "cs", &st) == 0);
		CHECK(vfs_stream_open(v, "cs", &st2) == -EBUSY);
		CHECK(vfs_put_tensor(v, "float64", 1, &one, &x, NULL, t0) == 0);
		CHECK(vfs_put_tensor(v, "float64", 1, &one, &x, NULL, t1) == 0);
		CHECK(vfs_stream_push(v, st, t0) == 0);
		CHECK(vfs_stream_next(v, "cs", 0, -1, got) == 1 && strcmp(got, t0) == 0);
		CHECK(vfs_stream_next(v, "cs", 1, 50, got) == -ETIMEDOUT);
		CHECK(vfs_stream_push(v, st, t1) == 1);
		CHECK(vfs_stream_push(v, st, "b0000000000000001") == -EINVAL);
		CHECK(vfs_stream_close(v, st, NULL, seq) == 0 && seq[0] == 'o');
		CHECK(vfs_stream_next(v, "cs", 1, -1, got) == 1 && strcmp(got, t1) == 0);
		CHECK(vfs_stream_next(v, "cs", 2, -1, got) == 0);
		CHECK(vfs_resolve(v, "cs", got) == 0 && strcmp(got, seq) == 0);
		CHECK(vfs_stream_open(v, "cs", &st) == -EPERM);
		CHECK(vfs_stream_open(v, "cs2", &st) == 0);
		CHECK(vfs_stream_close(v, st, "the producer gave up", NULL) == 0);
		CHECK(vfs_stream_next(v, "cs2", 0, -1, got) == -EIO);
		CHECK(strstr(vfs_error(v), "the producer gave up") != NULL);
		CHECK(vfs_delete(v, seq) == 0); /* and the Tensors with it */
		CHECK(vfs_resolve(v, t0, got) == -ENOENT);
	}

	CHECK(vfs_delete(v, id2) == 0);
	CHECK(vfs_delete(v, id2) == -ENOENT);
	CHECK(vfs_delete(v, "m") == 0);
	CHECK(count(mount, "objects") == objects - 1);
}

/* The table of arrow_types.sh: s string ("ab", null, "cé"), t
 * timestamp[ns, tz=UTC] (1, 2, 3 s; a BufferView at byte 8 of its blob), c
 * dictionary<values=string, indices=int8> (hi, lo, hi). */
static void
test_arrow(void)
{
	static const char *const s[] = { "ab", NULL, "c\xc3\xa9" }, *const c[] = { "hi", "lo", "hi" };
	const struct vfs_arrow_array *col;
	struct vfs_table t;
	const char *p;
	size_t len;
	uint64_t i;

	CHECK(vfs_get_table(v, "tab", &t) == 0);
	CHECK(t.nfields == 3 && t.rows == 3 && t.nbatches == 1 && t.batches[0].rows == 3);
	CHECK(strcmp(t.fields[0].name, "s") == 0 && t.fields[0].type.kind == VFS_ARROW_STRING &&
	      t.fields[0].type.width == 32 && t.fields[0].nullable);
	CHECK(strcmp(t.fields[1].name, "t") == 0 && t.fields[1].type.kind == VFS_ARROW_TIMESTAMP &&
	      t.fields[1].type.unit == VFS_ARROW_UNIT_NANO && strcmp(t.fields[1].type.tz, "UTC") == 0 &&
	      !t.fields[1].nullable);
	CHECK(strcmp(t.fields[2].type.text, "dictionary<values=string, indices=int8, ordered=0>") == 0 &&
	      t.fields[2].type.dictionary && t.fields[2].type.index_width == 8);
	/* Seven blobs with bytes, each mapped once (the empty bitmaps are none). */
	CHECK(t.nmaps == 7);

	col = &t.batches[0].columns[0];
	CHECK(col->length == 3 && col->null_count == 1 && col->validity != NULL && col->offset == 0);
	for (i = 0; i < 3; i++) {
		CHECK(vfs_arrow_valid(col, i) == (s[i] != NULL));
		p = vfs_arrow_string(col, i, &len);
		CHECK(s[i] == NULL ? len == 0 : len == strlen(s[i]) && memcmp(p, s[i], len) == 0);
	}
	col = &t.batches[0].columns[1];
	CHECK(col->null_count == 0 && col->validity == NULL && col->values_size == 24);
	CHECK(strcmp(col->type.text, "timestamp[ns, tz=UTC]") == 0);
	for (i = 0; i < 3; i++)
		CHECK(((const int64_t *)col->values)[i] == (int64_t)(i + 1) * 1000000000);
	CHECK(((const int64_t *)col->values)[-1] == -1); /* the view's first 8 bytes are the blob's */
	col = &t.batches[0].columns[2];
	CHECK(col->type.dictionary && col->dictionary != NULL && col->dictionary->length == 2);
	CHECK(col->dictionary->type.kind == VFS_ARROW_STRING && !col->dictionary->type.dictionary);
	for (i = 0; i < 3; i++) {
		int8_t k = ((const int8_t *)col->values)[i];

		CHECK(vfs_arrow_valid(col, i));
		p = vfs_arrow_string(col->dictionary, (uint64_t)k, &len);
		CHECK(len == 2 && memcmp(p, c[i], 2) == 0);
	}
	vfs_table_free(&t);
	CHECK(t.nmaps == 0 && t.fields == NULL);

	/* The packed one: b bool (true, false, true), i int64 (7, -8, null),
	 * s large_string ("x", "", "yzw"), all in one blob, mapped once. */
	CHECK(vfs_get_table(v, "packed", &t) == 0);
	CHECK(t.nmaps == 1 && t.nfields == 3 && t.rows == 3);
	CHECK(t.fields[0].type.kind == VFS_ARROW_BOOL && !t.fields[0].nullable);
	CHECK(t.fields[2].type.kind == VFS_ARROW_STRING && t.fields[2].type.width == 64);
	col = &t.batches[0].columns[0];
	CHECK(col->validity == NULL && col->values_size == 1);
	for (i = 0; i < 3; i++)
		CHECK((((const uint8_t *)col->values)[0] >> i & 1) == (i != 1));
	col = &t.batches[0].columns[1];
	CHECK(col->null_count == 1 && vfs_arrow_valid(col, 0) && vfs_arrow_valid(col, 1) &&
	      !vfs_arrow_valid(col, 2));
	CHECK(((const int64_t *)col->values)[0] == 7 && ((const int64_t *)col->values)[1] == -8);
	/* Every buffer points into the one mapping. */
	CHECK((const uint8_t *)col->values == (const uint8_t *)t.maps[0].data + 8);
	CHECK(col->validity == (const uint8_t *)t.maps[0].data + 32);
	col = &t.batches[0].columns[2];
	for (i = 0; i < 3; i++) {
		static const char *const want[] = { "x", "", "yzw" };

		p = vfs_arrow_string(col, i, &len);
		CHECK(len == strlen(want[i]) && memcmp(p, want[i], len) == 0);
	}
	CHECK(col->data == (const uint8_t *)t.maps[0].data + 72);
	vfs_table_free(&t);
	/* A Blob object is no table. */
	CHECK(vfs_get_table(v, "s_data", &t) == -EINVAL && strstr(vfs_error(v), "not a vineyard::Table"));
	CHECK(vfs_get_table(v, "no_such", &t) == -ENOENT);
}

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: clib_test MOUNT DATA_PATH all|write|read|arrow\n");
		return 2;
	}
	CHECK(vfs_open(argv[1], &v) == 0);
	if (strcmp(argv[3], "all") == 0)
		test_all(argv[1], argv[2]);
	else if (strcmp(argv[3], "arrow") == 0)
		test_arrow();
	else if (strcmp(argv[3], "write") == 0) {
		static const int32_t x[2][2][3] = { { { 1, 2, 3 }, { 4, 5, 6 } },
			{ { 7, 8, 9 }, { 10, 11, -12 } } };
		static const uint64_t shape[3] = { 2, 2, 3 };
		char id[VFS_ID_SIZE];

		static const int64_t offsets[4] = { 0, 2, 3, 3 }, edges[3] = { 1, 2, 0 };
		const uint64_t no = 4, ne = 3;
		char off[VFS_ID_SIZE], edg[VFS_ID_SIZE], s[VFS_ID_SIZE], g[VFS_ID_SIZE], seq[VFS_ID_SIZE];
		struct vfs_member gm[2] = { { "offsets", off }, { "edges", edg } };
		struct vfs_member sm[2] = { { "__elements_-0", g }, { "__elements_-1", s } };

		CHECK(vfs_put_tensor(v, "int32", 3, shape, x, "from_c", id) == 0);
		printf("%s\n", id);
		/* A Graph in CSR and a Sequence of it and a Scalar, for Python. */
		CHECK(vfs_put_tensor(v, "int64", 1, &no, offsets, NULL, off) == 0);
		CHECK(vfs_put_tensor(v, "int64", 1, &ne, edges, NULL, edg) == 0);
		CHECK(
		    vfs_create(v, "Graph", "{\"vertex_num_\":3,\"edge_num_\":4}", gm, 2, NULL, g) == -EINVAL);
		CHECK(vfs_create(v, "Graph", "{\"vertex_num_\":3,\"edge_num_\":3}", gm, 2, NULL, g) == 0);
		CHECK(vfs_create(
			  v, "Scalar", "{\"type_\":\"str\",\"value_\":\"from C\"}", NULL, 0, NULL, s) == 0);
		CHECK(vfs_create(v, "Sequence", "{\"size_\":2}", sm, 2, "seq_c", seq) == 0);
	} else {
		struct vfs_tensor t;
		int i;

		CHECK(vfs_get_tensor(v, "from_py", &t) == 0);
		CHECK(
		    strcmp(t.value_type, "uint16") == 0 && t.ndim == 2 && t.shape[0] == 3 && t.shape[1] == 4);
		for (i = 0; i < 12; i++)
			CHECK(((const uint16_t *)t.map.data)[i] == (uint16_t)(i * 1000));
		vfs_unmap(&t.map);
	}
	vfs_close(v);
	printf("clib_test %s: ok\n", argv[3]);
	return 0;
}
