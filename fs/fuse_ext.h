/*
 * fuse_ext: the parts of the FUSE protocol 7.40+ that Debian 12's
 * <linux/fuse.h> (7.38) lacks: passthrough. Layouts are checked below
 * against the kernel's definitions (include/uapi/linux/fuse.h).
 */
#ifndef VFS_FUSE_EXT_H
#define VFS_FUSE_EXT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/fuse.h>

#define FUSE_EXT_PASSTHROUGH_FLAG2 (1u << 5) /* FUSE_PASSTHROUGH (1ULL << 37) in flags2 */
#define FUSE_EXT_FOPEN_PASSTHROUGH (1u << 7)
#define FUSE_EXT_FOPEN_DIRECT_IO (1u << 0)
#define FUSE_EXT_FOPEN_KEEP_CACHE (1u << 1)

struct fuse_ext_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};

#define FUSE_EXT_DEV_IOC_MAGIC 229
#define FUSE_EXT_DEV_IOC_BACKING_OPEN _IOW(FUSE_EXT_DEV_IOC_MAGIC, 1, struct fuse_ext_backing_map)
#define FUSE_EXT_DEV_IOC_BACKING_CLOSE _IOW(FUSE_EXT_DEV_IOC_MAGIC, 2, uint32_t)

/* struct fuse_init_in, 7.36+: flags2 follows flags. */
struct fuse_ext_init_in {
	uint32_t major;
	uint32_t minor;
	uint32_t max_readahead;
	uint32_t flags;
	uint32_t flags2;
	uint32_t unused[11];
};

/* struct fuse_init_out, 7.40: max_stack_depth replaced unused[0]. */
struct fuse_ext_init_out {
	uint32_t major;
	uint32_t minor;
	uint32_t max_readahead;
	uint32_t flags;
	uint16_t max_background;
	uint16_t congestion_threshold;
	uint32_t max_write;
	uint32_t time_gran;
	uint16_t max_pages;
	uint16_t map_alignment;
	uint32_t flags2;
	uint32_t max_stack_depth;
	uint32_t unused[6];
};

/* struct fuse_open_out, 7.40: backing_id replaced padding. */
struct fuse_ext_open_out {
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;
};

_Static_assert(sizeof(struct fuse_ext_backing_map) == 16, "fuse_backing_map");
_Static_assert(sizeof(struct fuse_ext_init_out) == sizeof(struct fuse_init_out), "fuse_init_out");
_Static_assert(offsetof(struct fuse_ext_init_out, flags2) == 32, "fuse_init_out.flags2");
_Static_assert(offsetof(struct fuse_ext_init_out, max_stack_depth) == 36, "fuse_init_out.max_stack_depth");
_Static_assert(sizeof(struct fuse_ext_init_in) == sizeof(struct fuse_init_in), "fuse_init_in");
_Static_assert(sizeof(struct fuse_ext_open_out) == sizeof(struct fuse_open_out), "fuse_open_out");
_Static_assert(offsetof(struct fuse_ext_open_out, backing_id) == 12, "fuse_open_out.backing_id");

#endif
