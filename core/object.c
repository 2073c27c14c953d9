/*
 * object: metadata trees follow Vineyard's layout: typename, id,
 * signature, nbytes, instance_id, global, then typed and user fields, then
 * members as nested trees. The reserved keys (object_keys, one table for
 * the tree, listxattr and the names users may not set) can never be set
 * by users.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "id.h"
#include "object.h"

/* Every name user.vineyard.* keeps for itself, in the order listxattr
 * shows them: the tree's keys first (object_meta's order), then state (an
 * object being removed), location (where its bytes are) and pinned (see
 * catalog_xattr.c), then names kept for Vineyard's own use. */
const struct object_key object_keys[] = {
	{ "typename", OBJECT_KEY_TREE | OBJECT_KEY_OBJECT | OBJECT_KEY_BLOB },
	{ "id", OBJECT_KEY_TREE | OBJECT_KEY_OBJECT | OBJECT_KEY_BLOB },
	{ "signature", OBJECT_KEY_TREE | OBJECT_KEY_OBJECT },
	{ "nbytes", OBJECT_KEY_TREE | OBJECT_KEY_OBJECT | OBJECT_KEY_BLOB },
	{ "instance_id", OBJECT_KEY_TREE | OBJECT_KEY_OBJECT | OBJECT_KEY_BLOB },
	{ "global", OBJECT_KEY_TREE | OBJECT_KEY_OBJECT },
	{ "ctime", OBJECT_KEY_TREE | OBJECT_KEY_OBJECT | OBJECT_KEY_BLOB },
	{ "sealed", OBJECT_KEY_TREE | OBJECT_KEY_OBJECT | OBJECT_KEY_BLOB },
	{ "state", OBJECT_KEY_OBJECT },
	{ "location", OBJECT_KEY_OBJECT | OBJECT_KEY_BLOB },
	{ "pinned", OBJECT_KEY_BLOB },
	{ "mtime", 0 },
	{ "meta", 0 },
	{ "members", 0 },
	{ "member", 0 },
	{ NULL, 0 },
};

/* The flags of a reserved key; -1 for a name that is not one. */
static int
key_flags(const char *name)
{
	size_t i;

	for (i = 0; object_keys[i].name != NULL; i++)
		if (strcmp(name, object_keys[i].name) == 0)
			return (int)object_keys[i].flags;
	return -1;
}

int
object_tree_key(const char *name)
{
	int f = key_flags(name);

	return f >= 0 && (f & OBJECT_KEY_TREE) != 0;
}

int
object_field_name_check(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > OBJECT_FIELD_NAME_MAX)
		return -EINVAL;
	if (strncmp(name, "member.", 7) == 0)
		return -EPERM;
	for (i = 0; i < n; i++) {
		char c = name[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';

		/* '-' after the first: v6d's counters ("__columns_-size"). */
		if (!alpha && !(i > 0 && ((c >= '0' && c <= '9') || c == '-')))
			return -EINVAL;
	}
	return key_flags(name) >= 0 ? -EPERM : 0;
}

/* Strict UTF-8 check: no overlongs, surrogates or code points past U+10FFFF. */
static int
valid_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], need, cp, min;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else
			return 0;
		if (i + need >= len)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

json_t *
object_field_value_parse(const char *value, size_t len, int *err)
{
	json_t *v;

	*err = -EINVAL;
	if (len > OBJECT_FIELD_VALUE_MAX || !valid_utf8((const unsigned char *)value, len))
		return NULL;
	*err = 0;
	v = json_loadb(value, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (v != NULL)
		return v;
	v = json_stringn(value, len);
	if (v == NULL)
		*err = -ENOMEM;
	return v;
}

char *
object_field_value_format(const json_t *v, size_t *len)
{
	char *out;

	if (json_is_string(v)) {
		*len = json_string_length(v);
		out = malloc(*len + 1);
		if (out != NULL)
			memcpy(out, json_string_value(v), *len + 1);
		return out;
	}
	out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	if (out != NULL)
		*len = strlen(out);
	return out;
}

json_t *
object_fields_load(const char *text)
{
	json_t *f = NULL;

	if (text != NULL && *text != '\0')
		f = json_loads(text, 0, NULL);
	if (!json_is_object(f)) {
		json_decref(f);
		f = json_object();
	}
	return f;
}

char *
object_fields_dump(const json_t *fields)
{
	if (fields == NULL || json_object_size(fields) == 0)
		return NULL;
	return json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
}

void
object_format_time(int64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char date[32];

	gmtime_r(&sec, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09lldZ", date, (long long)(ns % 1000000000));
}

json_t *
object_blob_meta(uint64_t id, uint64_t nbytes, unsigned instance_id, int sealed)
{
	char ids[ID_STR_LEN + 1];

	id_format(id, ids);
	return json_pack("{s:s, s:s, s:I, s:i, s:b}", "typename", OBJECT_TYPE_BLOB, "id", ids, "nbytes",
	    (json_int_t)nbytes, "instance_id", (int)instance_id, "sealed", sealed);
}

json_t *
object_meta(const struct object_info *info, const json_t *fields, json_t *members)
{
	char ids[ID_STR_LEN + 1], when[48];
	json_t *m;

	id_format(info->id, ids);
	object_format_time(info->ctime_ns, when, sizeof when);
	m = json_pack("{s:s, s:s, s:I, s:I, s:i, s:b, s:s, s:b}", "typename", info->typename, "id", ids,
	    "signature", (json_int_t)(info->signature & INT64_MAX), "nbytes", (json_int_t)info->nbytes,
	    "instance_id", (int)info->instance_id, "global", info->global != 0, "ctime", when, "sealed",
	    info->sealed);
	if (m == NULL)
		goto out;
	if (fields != NULL)
		json_object_update_missing(m, (json_t *)fields);
	if (members != NULL)
		json_object_update(m, members);
out:
	json_decref(members);
	return m;
}

char *
object_dump_line(const json_t *v, size_t flags, size_t *len)
{
	char *text = v != NULL ? json_dumps(v, flags) : NULL, *line;
	size_t n;

	if (text == NULL)
		return NULL;
	n = strlen(text);
	if ((line = realloc(text, n + 2)) == NULL) {
		free(text);
		return NULL;
	}
	line[n++] = '\n';
	line[n] = '\0';
	*len = n;
	return line;
}
