/* check_crc32c: the table and SSE 4.2 code against the bit-at-a-time definition. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "tests/check_core.h"

uint32_t
test_crc32c_ref(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0xFFFFFFFFu;
	int k;

	while (len-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

START_TEST(test_known_values)
{
	ck_assert_uint_eq(crc32c_update(0, "", 0), 0);
	ck_assert_uint_eq(crc32c_update(0, "123456789", 9), 0xE3069283u);
	/* RFC 3720 B.4: 32 bytes of zeros. */
	ck_assert_uint_eq(crc32c_update(0, (const char[32]){ 0 }, 32), 0x8A9136AAu);
}
END_TEST

START_TEST(test_against_reference)
{
	unsigned char buf[1024 + 8];
	size_t i, start, len;
	uint32_t a;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	/* Every alignment and the tails of the eight-byte steps. */
	for (start = 0; start < 8; start++)
		for (len = 0; len <= 1024; len += (len < 40 ? 1 : 97)) {
			ck_assert_uint_eq(
			    crc32c_update(0, buf + start, len), test_crc32c_ref(buf + start, len));
			/* Chaining over a split gives the whole. */
			a = crc32c_update(0, buf + start, len / 3);
			ck_assert_uint_eq(crc32c_update(a, buf + start + len / 3, len - len / 3),
			    test_crc32c_ref(buf + start, len));
		}
}
END_TEST

/* Buffers long enough for the hardware path's three interleaved streams
 * (3 x 8 KiB rounds), whole rounds and odd tails, at odd alignments. */
START_TEST(test_long_buffers)
{
	static const size_t lens[] = { 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 6 * 8192 + 4099, 100003 };
	size_t n = 100003 + 8, i, k, start;
	unsigned char *buf = malloc(n);
	uint32_t a;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)((i * 2654435761u) >> 13);
	for (k = 0; k < sizeof lens / sizeof lens[0]; k++)
		for (start = 0; start < 8; start += 3) {
			uint32_t want = test_crc32c_ref(buf + start, lens[k]);

			ck_assert_uint_eq(crc32c_update(0, buf + start, lens[k]), want);
			a = crc32c_update(0, buf + start, 12345);
			ck_assert_uint_eq(crc32c_update(a, buf + start + 12345, lens[k] - 12345), want);
		}
	free(buf);
}
END_TEST

Suite *
crc32c_suite(void)
{
	Suite *s = suite_create("crc32c");
	TCase *tc = tcase_create("crc32c");

	tcase_add_test(tc, test_known_values);
	tcase_add_test(tc, test_against_reference);
	tcase_add_test(tc, test_long_buffers);
	suite_add_tcase(s, tc);
	return s;
}
