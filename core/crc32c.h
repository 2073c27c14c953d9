/*
 * crc32c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, as in
 * iSCSI, ext4 and btrfs), the checksum spill and snapshot files keep per
 * blob and the peer protocol checks per transfer. The CPU's crc32
 * instruction where it has one (SSE 4.2), else table code (crc32c.c).
 */
#ifndef VFS_CRC32C_H
#define VFS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (0 to start) over len bytes; chains like zlib's crc32():
 * crc32c_update(crc32c_update(0, a, n), b, m) is the CRC of a then b.
 * "123456789" gives 0xE3069283. Thread safe. */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

#endif
