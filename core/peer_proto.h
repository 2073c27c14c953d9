/*
 * peer_proto: the wire format of the peer protocol, by which one member of
 * a cluster reads a blob's bytes from the member that holds it. Pure code
 * over buffers (no socket, no allocation), so that a fuzzer drives it.
 *
 * Every message is a frame: a 20-byte little-endian header
 *
 *   u32 magic "VFSP" (the bytes 'V' 'F' 'S' 'P')
 *   u16 version (PEER_VERSION)
 *   u16 type (enum peer_type)
 *   u32 flags (none defined: must be 0)
 *   u64 length of the payload that follows
 *
 * A control payload is at most PEER_CONTROL_MAX bytes; the only long one is
 * a BLOB frame's, whose length is PEER_BLOB_HEAD plus the blob's size and
 * whose bytes follow the head as they are.
 *
 * A connection (peer_auth.h, peer_server.h, peer_client.h):
 *   client -> HELLO (its nonce)        server -> HELLO (its nonce)
 *   client -> PROOF                    server checks it: ERROR EACCES, close
 *                                      server -> PROOF; client checks it
 *   then, as many times as the client wants, one at a time:
 *   client -> GET (blob id, size)      server -> BLOB (size, CRC-32C, bytes)
 *                                              or ERROR (errno, message)
 * A BLOB flagged PEER_BLOB_CRC_AFTER carries 0 for its CRC in the head and
 * the CRC-32C as 4 bytes after the blob's (in the frame's length): a server
 * that did not know the sum computes it while the bytes go, rather than
 * reading the whole blob once before the first byte leaves.
 * A frame that breaks these rules gets an ERROR (EPROTO or EMSGSIZE) and
 * the connection is closed: after a bad header nothing says where the next
 * frame starts.
 *
 * What the protocol protects and what it does not (for the man page):
 * - Authentication: both ends prove they hold the cluster key before any
 *   byte of a blob moves: each sends a fresh random 32-byte nonce and
 *   answers with HMAC-SHA256(key, role || peer's nonce || own nonce). The
 *   role byte differs between client and server, so a proof cannot be
 *   reflected back to the side that asked for it, and fresh nonces on both
 *   sides mean a recorded proof cannot be replayed. The client proves
 *   first, so a stranger gets nothing from a server but its nonce and an
 *   error. Proofs are compared in constant time (CRYPTO_memcmp). A
 *   recorded handshake lets an eavesdropper test guesses of the key
 *   offline: hence a key of random bytes, at least PEER_KEY_MIN of them.
 * - Confidentiality: none. The bytes travel in clear; anyone who can read
 *   the network between two members reads the blobs. Use a private network
 *   (or a VPN / IPsec / WireGuard tunnel) where that matters.
 * - Integrity: the CRC-32C of each blob, checked by the receiver; that
 *   catches corruption, not an attacker on the path, who can change the
 *   bytes and the CRC alike (it is not a MAC), and can also hijack a TCP
 *   connection after its handshake.
 * - Availability: bounded frames, timeouts on every read and write, a
 *   bounded number of connections; a bad frame closes only its own
 *   connection.
 * The key is read from a file only its owner may read (peer_auth.h).
 */
#ifndef VFS_PEER_PROTO_H
#define VFS_PEER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PEER_MAGIC 0x50534656u /* "VFSP" read as a little-endian u32 */
#define PEER_VERSION 1
#define PEER_HDR_LEN 20
#define PEER_CONTROL_MAX (64u * 1024) /* bytes of a control payload, at most */
#define PEER_NONCE_LEN 32
#define PEER_MAC_LEN 32		/* HMAC-SHA256 */
#define PEER_BLOB_HEAD 16	/* u64 size, u32 crc32c, u32 flags */
#define PEER_ERROR_MSG_MAX 1024 /* bytes of an error's message */
/* Room for the longest frame peer_msg_encode makes (an ERROR). */
#define PEER_MSG_BUF (PEER_HDR_LEN + 4 + PEER_ERROR_MSG_MAX)
/* GET's size when the client does not know it (any size is taken). */
#define PEER_SIZE_ANY UINT64_MAX

enum peer_type {
	PEER_HELLO = 1, /* u8 role, 32-byte nonce */
	PEER_PROOF = 2, /* 32-byte HMAC-SHA256 */
	PEER_GET = 3,	/* u64 blob id, u64 expected size (PEER_SIZE_ANY) */
	PEER_BLOB = 4,	/* PEER_BLOB_HEAD bytes, then size bytes of the blob */
	PEER_ERROR = 5, /* i32 errno (positive, Linux's numbers), message (no NUL) */
	PEER_TYPE_MAX = PEER_ERROR,
};

/* The role byte of a HELLO and of a proof's HMAC input. */
#define PEER_ROLE_CLIENT 'C'
#define PEER_ROLE_SERVER 'S'

/* A frame's header as decoded. */
struct peer_frame {
	uint16_t type;
	uint32_t flags;
	uint64_t len; /* of the payload */
};

/* One message, its payload decoded (a BLOB's head only). */
struct peer_msg {
	uint16_t type;
	union {
		struct {
			uint8_t role;
			unsigned char nonce[PEER_NONCE_LEN];
		} hello;
		struct {
			unsigned char mac[PEER_MAC_LEN];
		} proof;
		struct {
			uint64_t id;
			uint64_t size;
		} get;
		struct {
			uint64_t size;
			uint32_t crc;
			uint32_t flags; /* 0 or PEER_BLOB_CRC_AFTER */
#define PEER_BLOB_CRC_AFTER 1u		/* the CRC-32C follows the bytes (u32) */
#define PEER_BLOB_TRAILER 4u		/* its bytes */
		} blob;
		struct {
			int err;			  /* positive errno */
			char msg[PEER_ERROR_MSG_MAX + 1]; /* NUL-terminated */
		} error;
	} u;
};

/* Encode a header for a payload of len bytes into buf. */
void peer_header_encode(unsigned char buf[PEER_HDR_LEN], uint16_t type, uint64_t len);
/* Decode the PEER_HDR_LEN bytes at buf into f: 0, or -EPROTO (bad magic,
 * version, type or flags; a length its type cannot have; a BLOB shorter
 * than its head) or -EMSGSIZE (a control payload over PEER_CONTROL_MAX),
 * with the reason in err. Every control payload's length is bounded
 * here, before it is read. */
int peer_header_decode(const unsigned char *buf, struct peer_frame *f, char *err, size_t errlen);
/* Decode the payload of f (len bytes at p; for a BLOB, its PEER_BLOB_HEAD
 * bytes) into m: 0, or -EPROTO when the payload is not what its type says
 * (a length that lies, a BLOB size that is not the frame's, an errno out
 * of range), with the reason. */
int peer_payload_decode(const struct peer_frame *f, const unsigned char *p, size_t len, struct peer_msg *m,
    char *err, size_t errlen);
/* Encode m as a whole frame into buf (buflen bytes, at least
 * PEER_MSG_BUF); a BLOB gives its header and head only, the bytes are the
 * sender's to send after; an error's message is cut to PEER_ERROR_MSG_MAX.
 * The frame's length, or -EINVAL for an unknown type or a short buf. */
int peer_msg_encode(const struct peer_msg *m, unsigned char *buf, size_t buflen);
/* Parse one frame at the start of buf (len bytes): header and payload (a
 * BLOB's head only). The bytes it took (> 0), 0 when buf is too short to
 * tell (read more), or -errno as peer_header_decode and
 * peer_payload_decode say. The fuzz target's entry point. */
long peer_parse(const void *buf, size_t len, struct peer_msg *m, char *err, size_t errlen);
/* The name of a frame type, for messages ("GET"; "type 9"). buf: 16 bytes. */
const char *peer_type_name(uint16_t type, char buf[16]);

#endif
