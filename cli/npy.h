/*
 * npy: numpy's .npy format (versions 1.0 to 3.0), the header only; the
 * data follows it as raw C-order bytes. Enough for vineyardfs put and get
 * to turn .npy files into Tensors and back.
 */
#ifndef VFS_NPY_H
#define VFS_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_DIMS_MAX 32

struct npy {
	char value_type[16]; /* a Tensor value_type_: "float64", "int32", ... */
	size_t ndims;
	uint64_t dims[NPY_DIMS_MAX];
	size_t header_len; /* bytes before the data */
};

/* Parse the header at the start of buf; 0 or -EINVAL (with a reason in
 * err), -ENOTSUP for Fortran order, big-endian or unsupported dtypes. */
int npy_parse(const unsigned char *buf, size_t len, struct npy *out, char *err, size_t errlen);
/* Write a version 1.0 header for n into buf (at least 256 bytes); returns
 * its length (a multiple of 64), or -EINVAL. */
int npy_header(const struct npy *n, char *buf, size_t len);

#endif
