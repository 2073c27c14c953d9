/*
 * check_arrow_ctl: the control op "arrow_layout" through request_handle,
 * as a client sends it: the reply's pieces and offsets make a file the
 * IPC reader reads back with the same buffers; bad requests get EINVAL
 * with a message naming the bad part. The op touches no catalog, so the
 * requests go to request_handle without one.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/arrow_ipc.h"
#include "core/request.h"
#include "tests/check_core.h"

/* The reply to req, parsed. */
static json_t *
ask(const char *req)
{
	struct request_wait w = { 0 };
	size_t len = 0;
	char *reply = request_handle(NULL, 1000, 1000, req, strlen(req), &len, &w);
	json_t *doc;

	ck_assert_ptr_nonnull(reply);
	doc = json_loads(reply, 0, NULL);
	ck_assert_msg(json_is_object(doc), "not a JSON object: %s", reply);
	free(reply);
	return doc;
}

/* The spec's example: a string, an int64 and a dictionary column. */
static const char example[] =
    "{\"op\": \"arrow_layout\","
    " \"fields\": [{\"name\": \"s\", \"type\": \"string\", \"nullable\": true},"
    "  {\"name\": \"x\", \"type\": \"int64\", \"nullable\": false},"
    "  {\"name\": \"c\", \"type\": \"dictionary<values=string, indices=int32, ordered=0>\"}],"
    " \"dictionaries\": [{\"field\": 2, \"length\": 3, \"null_count\": 0, \"buffers\": [0, 16, 9]}],"
    " \"batches\": [{\"rows\": 5, \"columns\": [{\"null_count\": 1, \"buffers\": [1, 24, 9]},"
    "   {\"null_count\": 0, \"buffers\": [0, \"40\"]}, {\"null_count\": 1, \"buffers\": [1, 20]}]},"
    "  {\"rows\": \"2\", \"columns\": [{\"buffers\": [0, 12, 0]}, {\"buffers\": [0, 16]},"
    "   {\"buffers\": [0, 8]}]}]}";

/* The offsets array o equals a's buffers' offsets. */
static void
same_offsets(const json_t *o, const struct arrow_ipc_array *a)
{
	unsigned k;

	ck_assert_uint_eq(json_array_size(o), a->nbuffers);
	for (k = 0; k < a->nbuffers; k++)
		ck_assert_int_eq(json_integer_value(json_array_get(o, k)), (json_int_t)a->buffers[k].offset);
}

START_TEST(test_layout_reads_back)
{
	json_t *r = ask(example), *p;
	struct arrow_ipc_desc d;
	unsigned char *img;
	char err[512];
	size_t i, n, len;
	unsigned j;

	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s", json_dumps(r, 0));
	n = (size_t)json_integer_value(json_object_get(r, "nbytes"));
	ck_assert_uint_gt(n, 0);
	img = calloc(1, n);
	ck_assert_ptr_nonnull(img);
	json_array_foreach (json_object_get(r, "pieces"), i, p) {
		const char *b64 = json_string_value(json_object_get(p, "data"));
		json_int_t off = json_integer_value(json_object_get(p, "offset"));
		unsigned char *raw = malloc(strlen(b64));
		int got;

		ck_assert_ptr_nonnull(raw);
		got = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)strlen(b64));
		ck_assert_int_gt(got, 0);
		/* EVP_DecodeBlock counts the padding's zero bytes too. */
		len = (size_t)got - (strlen(b64) > 0 && b64[strlen(b64) - 1] == '=') -
		      (strlen(b64) > 1 && b64[strlen(b64) - 2] == '=');
		ck_assert_uint_le((size_t)off + len, n);
		memcpy(img + off, raw, len);
		free(raw);
	}
	ck_assert_int_eq(arrow_ipc_read(img, n, &d, err, sizeof err), 0);
	ck_assert_uint_eq(d.nfields, 3);
	ck_assert_str_eq(d.fields[2].name, "c");
	ck_assert_int_eq(d.fields[1].nullable, 0);
	ck_assert_int_eq(d.fields[2].nullable, 1);
	ck_assert_uint_eq(d.ndicts, 1);
	p = json_array_get(json_object_get(r, "dictionaries"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "field")), 2);
	same_offsets(json_object_get(p, "buffers"), &d.dicts[0].values);
	ck_assert_uint_eq(d.dicts[0].values.buffers[2].size, 9);
	ck_assert_uint_eq(d.nbatches, 2);
	ck_assert_uint_eq(d.batches[1].rows, 2);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++) {
			p = json_array_get(
			    json_object_get(json_array_get(json_object_get(r, "batches"), i), "columns"), j);
			same_offsets(p, &d.batches[i].columns[j]);
			ck_assert_uint_eq(d.batches[i].columns[j].buffers[0].offset % 64, 0);
		}
	ck_assert_uint_eq(d.batches[0].columns[0].null_count, 1);
	ck_assert_uint_eq(d.batches[0].columns[1].buffers[1].size, 40);
	arrow_ipc_desc_free(&d);
	free(img);
	json_decref(r);
}
END_TEST

/* req must fail with EINVAL and a message containing want. */
static void
refused(const char *req, const char *want)
{
	json_t *r = ask(req);
	const char *msg = json_string_value(json_object_get(r, "message"));

	ck_assert(json_is_false(json_object_get(r, "ok")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "errno")), EINVAL);
	ck_assert_msg(msg != NULL && strstr(msg, want) != NULL, "\"%s\" does not say \"%s\"", msg, want);
	json_decref(r);
}

#define F1 "{\"op\": \"arrow_layout\", \"fields\": [{\"name\": \"a\", \"type\": "
START_TEST(test_layout_refused)
{
	refused(F1 "\"int128\"}], \"batches\": []}", "fields[0].type");
	refused(F1 "\"int8\"}, {\"name\": \"a\", \"type\": \"int8\"}], \"batches\": []}", "fields[1].name");
	refused(F1 "\"int8\", \"nullable\": 1}], \"batches\": []}", "fields[0].nullable");
	refused("{\"op\": \"arrow_layout\", \"fields\": [], \"batches\": []}", "fields must be");
	refused(F1 "\"int8\"}]}", "batches must be");
	refused(F1 "\"int8\"}], \"batches\": [{\"rows\": -1, \"columns\": []}]}", "batches[0].rows");
	refused(
	    F1 "\"int8\"}], \"batches\": [{\"rows\": 1, \"columns\": []}]}", "batches[0].columns must be");
	refused(F1 "\"string\"}], \"batches\": [{\"rows\": 1, \"columns\": [{\"buffers\": [0, 8]}]}]}",
	    "batch 0 column 0: 2 buffers, its type has 3");
	refused(F1 "\"int32\"}], \"batches\": [{\"rows\": 3, \"columns\": [{\"buffers\": [0, 8]}]}]}",
	    "values of 8 bytes, 3 slots need 12");
	refused(F1 "\"int32\"}], \"batches\": [{\"rows\": 3, \"columns\": [{\"buffers\": [0, 12, 5, 6]}]}]}",
	    "columns[0].buffers must be");
	refused(F1 "\"int32\"}], \"batches\": [{\"rows\": 3, \"columns\": [{\"buffers\": [0, \"x\"]}]}]}",
	    "columns[0].buffers[1] must be");
	refused(F1
	    "\"int32\"}], \"batches\": [{\"rows\": 3, \"columns\": [{\"null_count\": 1, \"buffers\": [0, 12]}]}]}",
	    "validity of 0 bytes");
	refused(F1 "\"dictionary<values=string, indices=int8, ordered=0>\"}], \"batches\": []}",
	    "0 dictionaries for 1 dictionary fields");
	refused(F1 "\"int8\"}], \"dictionaries\": [{\"field\": 0, \"length\": 0, \"buffers\": [0, 0, 0]}], "
		   "\"batches\": []}",
	    "dictionaries[0].field");
}
END_TEST

Suite *
arrow_ctl_suite(void)
{
	Suite *s = suite_create("arrow_ctl");
	TCase *tc = tcase_create("arrow_ctl");

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_layout_reads_back);
	tcase_add_test(tc, test_layout_refused);
	suite_add_tcase(s, tc);
	return s;
}
