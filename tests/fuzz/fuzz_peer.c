/*
 * fuzz_peer: libFuzzer target for the peer protocol's frame parser
 * (core/peer_proto.c). The input is a stream of frames as a connection
 * carries them: each is parsed in turn (a BLOB's bytes skipped) until one
 * is bad or cut short. Nothing may crash or read out of bounds, a frame
 * must never claim more bytes than it was given, and whatever parses must
 * encode back to exactly the bytes it came from. Built and run by
 * tests/fuzz/run.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/peer_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char buf[PEER_MSG_BUF];
	struct peer_msg m;
	char err[256];
	size_t off = 0;
	long n;
	int len;

	while (off < size) {
		n = peer_parse(data + off, size - off, &m, err, sizeof err);
		if (n <= 0)
			break;
		if ((size_t)n > size - off)
			abort(); /* took more than it was given */
		len = peer_msg_encode(&m, buf, sizeof buf);
		if (len != n || memcmp(buf, data + off, (size_t)n) != 0)
			abort(); /* does not encode back to its bytes */
		off += (size_t)n;
		if (m.type == PEER_BLOB)
			off += m.u.blob.size < size - off ? (size_t)m.u.blob.size : size - off;
	}
	return 0;
}
