/*
 * crc32c: the SSE 4.2 crc32 instruction where the CPU has it (x86-64,
 * checked once at run time), three independent streams at a time so that
 * its latency is hidden, joined by table-driven shifts;
 * elsewhere slicing-by-8 over tables built once per process
 * (pthread_once), eight input bytes per step on little-endian machines,
 * one byte per step elsewhere and at the unaligned edges.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "core/crc32c.h"

#define CRC32C_POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void
table_init(void)
{
	uint32_t c;
	unsigned n, k;

	for (n = 0; n < 256; n++) {
		c = n;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		table[0][n] = c;
	}
	/* table[k][n]: the CRC of byte n followed by k zero bytes. */
	for (n = 0; n < 256; n++) {
		c = table[0][n];
		for (k = 1; k < 8; k++) {
			c = table[0][c & 0xff] ^ (c >> 8);
			table[k][n] = c;
		}
	}
}

/* Software CRC of len bytes, on the inverted register (no pre/post ~). */
static uint32_t
crc_soft(uint32_t crc, const unsigned char *p, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; len > 0 && ((uintptr_t)p & 7) != 0; len--)
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, sizeof w);
		w ^= crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
		      table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
		      table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
	}
#endif
	for (; len > 0; len--)
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>

#define HW_BLOCK 8192 /* bytes per stream per round: three streams */

/* shift[k][b]: the register after feeding byte b's contribution through
 * HW_BLOCK zero bytes, for byte k of the register: crc(x || 0^n) is
 * linear in x, so a stream's CRC is moved past the next stream's bytes by
 * four lookups. */
static uint32_t shift[4][256];

/* The register value after len zero bytes, starting from crc (software;
 * used only to build the shift tables). */
static uint32_t
zeros(uint32_t crc, size_t len)
{
	while (len-- > 0)
		crc = table[0][crc & 0xff] ^ (crc >> 8);
	return crc;
}

static void
shift_init(void)
{
	unsigned k, b;

	for (k = 0; k < 4; k++)
		for (b = 0; b < 256; b++)
			shift[k][b] = zeros((uint32_t)b << (8 * k), HW_BLOCK);
}

static uint32_t
shift_block(uint32_t crc)
{
	return shift[0][crc & 0xff] ^ shift[1][(crc >> 8) & 0xff] ^ shift[2][(crc >> 16) & 0xff] ^
	       shift[3][crc >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c0 = crc, c1, c2, w0, w1, w2;
	size_t i;

	for (; len > 0 && ((uintptr_t)p & 7) != 0; len--)
		c0 = _mm_crc32_u8((uint32_t)c0, *p++);
	/* Three streams of HW_BLOCK bytes: each crc32 has a latency of three
	 * cycles and a throughput of one, so three run at once. The second
	 * and third start from 0 and are joined after: CRC(a || b) is
	 * CRC(a) shifted past |b| zero bytes, xor CRC(b) from 0. */
	while (len >= 3 * HW_BLOCK) {
		c1 = c2 = 0;
		for (i = 0; i < HW_BLOCK; i += 8) {
			memcpy(&w0, p + i, 8);
			memcpy(&w1, p + HW_BLOCK + i, 8);
			memcpy(&w2, p + 2 * HW_BLOCK + i, 8);
			c0 = _mm_crc32_u64(c0, w0);
			c1 = _mm_crc32_u64(c1, w1);
			c2 = _mm_crc32_u64(c2, w2);
		}
		c0 = shift_block(shift_block((uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;
		p += 3 * HW_BLOCK;
		len -= 3 * HW_BLOCK;
	}
	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w0, p, 8);
		c0 = _mm_crc32_u64(c0, w0);
	}
	for (; len > 0; len--)
		c0 = _mm_crc32_u8((uint32_t)c0, *p++);
	return (uint32_t)c0;
}

static int hw;

static void
init(void)
{
	table_init();
	__builtin_cpu_init();
	hw = __builtin_cpu_supports("sse4.2");
	if (hw)
		shift_init();
}
#else
static const int hw = 0;

static void
init(void)
{
	table_init();
}
#endif

uint32_t
crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&table_once, init);
#if defined(__x86_64__) && defined(__GNUC__)
	if (hw)
		return ~crc_hw(~crc, buf, len);
#endif
	return ~crc_soft(~crc, buf, len);
}
