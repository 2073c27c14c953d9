/*
 * fuse_uring_proto: the FUSE-over-io_uring part of the FUSE protocol
 * (7.42+, as in 7.45's include/uapi/linux/fuse.h), which Debian 12's
 * <linux/fuse.h> (7.38) lacks. The numbers are the protocol's; the
 * layouts are checked below. uring_transport.c is the one user.
 */
#ifndef VFS_FUSE_URING_PROTO_H
#define VFS_FUSE_URING_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <linux/fuse.h>

/* FUSE_OVER_IO_URING (1ULL << 41): bit 9 of fuse_init_in/out.flags2. */
#define FUSE_URING_INIT_FLAG2 (1u << 9)

/* The command of an IORING_OP_URING_CMD on the /dev/fuse descriptor
 * (sqe->cmd_op). */
#define FUSE_IO_URING_CMD_REGISTER 1
#define FUSE_IO_URING_CMD_COMMIT_AND_FETCH 2

/* The parts of a request's header buffer. */
#define FUSE_URING_IN_OUT_HEADER_SZ 128 /* fuse_in_header / fuse_out_header */
#define FUSE_URING_OP_IN_OUT_SZ 128	/* the opcode's first argument */

/* How a request or reply is framed in the entry's buffers. */
struct fuse_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;  /* the request's unique: given back to commit it */
	uint32_t payload_sz; /* bytes in the payload buffer, both ways */
	uint32_t padding;
	uint64_t reserved;
};

/* The header buffer (iov[0] of REGISTER), at least this size. */
struct fuse_uring_req_header {
	char in_out[FUSE_URING_IN_OUT_HEADER_SZ];
	char op_in[FUSE_URING_OP_IN_OUT_SZ];
	struct fuse_uring_ent_in_out ring_ent_in_out;
};

/* In the SQE's command area (80 bytes with IORING_SETUP_SQE128). */
struct fuse_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id; /* COMMIT_AND_FETCH: the request answered */
	uint16_t qid;	    /* the queue, one per possible CPU */
	uint8_t padding[6];
};

_Static_assert(sizeof(struct fuse_uring_ent_in_out) == 32, "fuse_uring_ent_in_out");
_Static_assert(sizeof(struct fuse_uring_req_header) == 288, "fuse_uring_req_header");
_Static_assert(offsetof(struct fuse_uring_req_header, op_in) == 128, "fuse_uring_req_header.op_in");
_Static_assert(
    offsetof(struct fuse_uring_req_header, ring_ent_in_out) == 256, "fuse_uring_req_header.ring_ent_in_out");
_Static_assert(sizeof(struct fuse_uring_cmd_req) == 24, "fuse_uring_cmd_req");
_Static_assert(offsetof(struct fuse_uring_cmd_req, qid) == 16, "fuse_uring_cmd_req.qid");
_Static_assert(sizeof(struct fuse_in_header) <= FUSE_URING_IN_OUT_HEADER_SZ, "fuse_in_header");

#endif
