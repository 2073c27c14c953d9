/*
 * supervisor_i: what the supervisor process (supervisor.c) and the worker
 * side (supervisor_worker.c, and control_keep.c for the control file's
 * requests) share. The layout of the shared memory region
 * the supervisor creates before its first fork (a memfd, inherited by
 * every worker): it outlives each worker, so every entry is written so
 * that a worker killed between any two stores leaves it whole or absent.
 */
#ifndef VFS_SUPERVISOR_I_H
#define VFS_SUPERVISOR_I_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#define SV_MAGIC 0x76667376u	  /* "vsfv" */
#define SV_INIT_MAX 256		  /* INIT request or reply, header included */
#define SV_CTL_MAX 64		  /* control-file requests kept at once */
#define SV_CTL_TEXT 4096	  /* bytes of one kept request */
#define SV_BACKING_MAX (1u << 22) /* backing ids kept (a sparse 64 MiB) */
#define SV_OPENS_MAX (1u << 22)	  /* data opens kept (a sparse 64 MiB) */
#define SV_RELAY_MSG_MAX 8192	  /* one notification through the relay */

/* One control-file request of an open descriptor (fh). */
struct sv_ctl {
	_Atomic uint64_t fh; /* 0: free slot; stored last when taken */
	uint32_t uid, gid;
	_Atomic uint32_t len;	   /* bytes of text; stored after them */
	_Atomic uint32_t answered; /* a read got the reply: a write starts anew */
	uint32_t overflow;	   /* longer than text: never revived */
	uint32_t pad;
	_Atomic uint64_t read_unique; /* a read that may be running it; 0: none */
	char text[SV_CTL_TEXT];
};

/* One passthrough backing id registered on the connection. */
struct sv_backing {
	_Atomic uint64_t blob_id; /* 0: free; stored after id */
	int32_t id;
	uint32_t pad;
};

/* One open of blob data (read-only) the kernel may still hold: through
 * passthrough or a mapping it keeps the blob's tmpfs file, so a successor
 * counts it in its catalog until the RELEASE of fh. */
struct sv_open {
	_Atomic uint64_t fh; /* 0: free; stored after blob_id */
	uint64_t blob_id;
};

struct sv_shared {
	uint32_t magic;
	uint32_t generation; /* workers started; set by the supervisor */
	uint32_t init_reqlen;
	_Atomic uint32_t init_replylen; /* 0 until both are saved */
	unsigned char init_req[SV_INIT_MAX];
	unsigned char init_reply[SV_INIT_MAX];
	_Atomic uint32_t nbacking; /* slots used so far */
	uint32_t pad;
	struct sv_ctl ctl[SV_CTL_MAX];
	struct sv_backing backing[SV_BACKING_MAX];
	_Atomic uint32_t nopens; /* slots of opens used so far */
	uint32_t pad2;
	struct sv_open opens[SV_OPENS_MAX];
};

/* Set by supervisor.c: in the supervisor before the first fork, and in a
 * worker as it starts; read-only afterwards. */
extern struct sv_shared *sv; /* NULL: not supervised */
extern unsigned sv_gen;	     /* this worker's generation; 0 in the supervisor */
extern int sv_fd;	     /* /dev/fuse */
extern int sv_notify_fd;     /* a worker's end of its relay's pair; -1: none */

/* supervisor_relay.c, in the supervisor: start the relay of the worker
 * about to be forked, which writes that worker's notifications to devfd
 * (see there why). In *worker_end the worker's end of their socket pair
 * (the supervisor closes it once the worker is forked); -1 when there is
 * no relay (logged): the worker then writes its own. */
void relay_start(int devfd, int *worker_end);
/* Reap the relays that ended; how many are still alive. */
int relay_reap(void);

#endif
