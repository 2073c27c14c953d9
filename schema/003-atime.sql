-- vineyardfs metadata, version 3: access times. atime_ns is the access time
-- last set with utimensat(2) (reads do not move it: the kernel serves them
-- without the daemon); NULL for rows written before it existed: mtime_ns.
-- ctime_ns, already there, now moves on every change of attributes.

ALTER TABLE blobs ADD COLUMN atime_ns INTEGER;
ALTER TABLE objects ADD COLUMN atime_ns INTEGER;
