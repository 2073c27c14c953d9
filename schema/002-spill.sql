-- vineyardfs metadata, version 2: where a sealed blob's bytes live.
-- spilled: 1 once a durable copy is in the spill directory (written, fsynced,
-- renamed into place, the directory fsynced); the tmpfs file may then be gone.
-- crc32c: CRC-32C of the bytes (Castagnoli), known once they were spilled;
-- a reload that does not match is refused. pinned: never spilled.

ALTER TABLE blobs ADD COLUMN spilled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE blobs ADD COLUMN crc32c INTEGER;
ALTER TABLE blobs ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
