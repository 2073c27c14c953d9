/*
 * npy: the header is "\x93NUMPY", a version, a length and a Python dict
 * literal such as {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces to 64 bytes. Only little-endian (or byte-sized) plain
 * dtypes are taken; that is what numpy writes on this machine.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/npy.h"

static const struct {
	const char *descr[3]; /* the spellings numpy uses */
	const char *type;
} dtypes[] = {
	{ { "|i1", "<i1", NULL }, "int8" },
	{ { "<i2", NULL, NULL }, "int16" },
	{ { "<i4", NULL, NULL }, "int32" },
	{ { "<i8", NULL, NULL }, "int64" },
	{ { "|u1", "<u1", NULL }, "uint8" },
	{ { "<u2", NULL, NULL }, "uint16" },
	{ { "<u4", NULL, NULL }, "uint32" },
	{ { "<u8", NULL, NULL }, "uint64" },
	{ { "<f4", NULL, NULL }, "float32" },
	{ { "<f8", NULL, NULL }, "float64" },
	{ { "|b1", NULL, NULL }, "bool" },
};

#define NDTYPES (sizeof dtypes / sizeof dtypes[0])

static int
fail(char *err, size_t errlen, int rc, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

/* The quoted value after 'key': in the dict text, into out. */
static int
quoted(const char *dict, const char *key, char *out, size_t len)
{
	const char *p = strstr(dict, key), *q;

	if (p == NULL || (p = strchr(p + strlen(key), '\'')) == NULL || (q = strchr(p + 1, '\'')) == NULL ||
	    (size_t)(q - p - 1) >= len)
		return -1;
	memcpy(out, p + 1, (size_t)(q - p - 1));
	out[q - p - 1] = '\0';
	return 0;
}

int
npy_parse(const unsigned char *buf, size_t len, struct npy *out, char *err, size_t errlen)
{
	char dict[4096], descr[16];
	size_t hlen, start, i, k;
	const char *p;
	char *end;

	memset(out, 0, sizeof *out);
	if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
		return fail(err, errlen, -EINVAL, "not a .npy file");
	if (buf[6] == 1) {
		hlen = buf[8] | (size_t)buf[9] << 8;
		start = 10;
	} else if ((buf[6] == 2 || buf[6] == 3) && len >= 12) {
		hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
		start = 12;
	} else
		return fail(err, errlen, -EINVAL, "unknown .npy version");
	if (hlen >= sizeof dict || start + hlen > len)
		return fail(err, errlen, -EINVAL, ".npy header too long or truncated");
	memcpy(dict, buf + start, hlen);
	dict[hlen] = '\0';
	out->header_len = start + hlen;
	if (quoted(dict, "'descr'", descr, sizeof descr) != 0)
		return fail(err, errlen, -EINVAL, ".npy header has no descr");
	for (i = 0; i < NDTYPES; i++)
		for (k = 0; k < 3 && dtypes[i].descr[k] != NULL; k++)
			if (strcmp(descr, dtypes[i].descr[k]) == 0)
				snprintf(out->value_type, sizeof out->value_type, "%s", dtypes[i].type);
	if (out->value_type[0] == '\0')
		return fail(
		    err, errlen, -ENOTSUP, "unsupported .npy dtype (not a little-endian plain number)");
	if ((p = strstr(dict, "'fortran_order'")) == NULL || (p = strchr(p + 15, ':')) == NULL)
		return fail(err, errlen, -EINVAL, ".npy header has no fortran_order");
	p += 1 + strspn(p + 1, " ");
	if (strncmp(p, "False", 5) != 0)
		return fail(err, errlen, -ENOTSUP, "Fortran-order .npy arrays are not supported");
	if ((p = strstr(dict, "'shape'")) == NULL || (p = strchr(p, '(')) == NULL)
		return fail(err, errlen, -EINVAL, ".npy header has no shape");
	for (p++;;) {
		p += strspn(p, " ,");
		if (*p == ')')
			break;
		if (out->ndims == NPY_DIMS_MAX)
			return fail(err, errlen, -EINVAL, ".npy shape has too many dimensions");
		errno = 0;
		out->dims[out->ndims++] = strtoull(p, &end, 10);
		if (end == p || errno != 0)
			return fail(err, errlen, -EINVAL, ".npy shape is malformed");
		p = end;
		p += strspn(p, "L");
	}
	return 0;
}

int
npy_header(const struct npy *n, char *buf, size_t len)
{
	const char *descr = NULL;
	char dict[1024];
	size_t i, k, used, total;
	int w;

	for (i = 0; i < NDTYPES; i++)
		if (strcmp(n->value_type, dtypes[i].type) == 0)
			descr = dtypes[i].descr[0];
	if (descr == NULL || n->ndims > NPY_DIMS_MAX)
		return -EINVAL;
	used =
	    (size_t)snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
	for (k = 0; k < n->ndims; k++) {
		w = snprintf(dict + used, sizeof dict - used, "%llu%s", (unsigned long long)n->dims[k],
		    n->ndims == 1 ? "," : (k + 1 < n->ndims ? ", " : ""));
		if (w < 0 || (size_t)w >= sizeof dict - used)
			return -EINVAL;
		used += (size_t)w;
	}
	w = snprintf(dict + used, sizeof dict - used, "), }");
	if (w < 0 || (size_t)w >= sizeof dict - used)
		return -EINVAL;
	used += (size_t)w;
	/* Magic, version 1.0, 2-byte length; the dict padded with spaces and a
	 * newline so that the data starts on a 64-byte boundary. */
	total = (10 + used + 1 + 63) / 64 * 64;
	if (total > len || total - 10 > 65535)
		return -EINVAL;
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (char)((total - 10) & 0xff);
	buf[9] = (char)((total - 10) >> 8);
	memcpy(buf + 10, dict, used);
	memset(buf + 10 + used, ' ', total - 10 - used - 1);
	buf[total - 1] = '\n';
	return (int)total;
}
