-- vineyardfs metadata, version 3: times as stat(2) shows them.
-- ctime_ns, creation time before, is now the last change of data or
-- attributes, and moves (chmod, chown, utimensat, rename, the seal).
-- btime_ns: creation time (the "ctime" of meta.json and of the
-- user.vineyard.ctime attribute); rows of version 2 take their ctime_ns.
-- atime_ns: the access time last set with utimensat(2); reads do not move
-- it (the kernel serves them without the daemon). NULL: mtime_ns.

ALTER TABLE blobs ADD COLUMN atime_ns INTEGER;
ALTER TABLE blobs ADD COLUMN btime_ns INTEGER;
UPDATE blobs SET btime_ns = ctime_ns;
ALTER TABLE objects ADD COLUMN atime_ns INTEGER;
ALTER TABLE objects ADD COLUMN btime_ns INTEGER;
UPDATE objects SET btime_ns = ctime_ns;
