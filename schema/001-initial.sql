-- vineyardfs metadata, version 1: blobs, objects, members, names.
-- Ids are stored as signed 64-bit integers (blob ids have bit 63 set and so
-- are negative here). Times are nanoseconds since the epoch.

CREATE TABLE config (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE blobs (
	id INTEGER PRIMARY KEY,
	size INTEGER NOT NULL,
	sealed INTEGER NOT NULL,
	uid INTEGER NOT NULL,
	gid INTEGER NOT NULL,
	mode INTEGER NOT NULL,
	ctime_ns INTEGER NOT NULL,
	mtime_ns INTEGER NOT NULL
);

CREATE TABLE objects (
	id INTEGER PRIMARY KEY,
	typename TEXT NOT NULL,
	fields TEXT NOT NULL,		-- JSON object: typed and user fields
	nbytes INTEGER NOT NULL,
	sealed INTEGER NOT NULL,
	signature INTEGER NOT NULL,
	uid INTEGER NOT NULL,
	gid INTEGER NOT NULL,
	mode INTEGER NOT NULL,
	ctime_ns INTEGER NOT NULL,
	mtime_ns INTEGER NOT NULL
);
CREATE INDEX objects_by_typename ON objects (typename);

CREATE TABLE members (
	object_id INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	member_id INTEGER NOT NULL,
	PRIMARY KEY (object_id, name)
) WITHOUT ROWID;

CREATE TABLE names (
	name TEXT PRIMARY KEY,
	object_id INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX names_by_object ON names (object_id);
