-- vineyardfs metadata, version 4: the cluster mirror, persisted.
-- What etcd holds under the cluster's prefix /vineyardfs/<cluster>/, as
-- the last list and watch events showed it: key is the part after the
-- prefix ("members/<instance>", "objects/o<16 hex>", "names/<name>"),
-- value etcd's value, bytes as they came. The cluster it belongs to and
-- the etcd revision it is current to are config rows (mirror_cluster,
-- mirror_revision). A member started while etcd is away shows the other
-- members' objects from here, unavailable until etcd lists them again.

CREATE TABLE mirror (
	key TEXT PRIMARY KEY NOT NULL,
	value BLOB NOT NULL
) WITHOUT ROWID;

-- The CRC-32C of each fetched copy of a remote blob in the store's tmpfs,
-- computed as its bytes came (an owner publishes a CRC only once it knows
-- one), written when the daemon stops: at the next start a copy is kept
-- if its bytes still have the published CRC, or else this one.
CREATE TABLE mirror_copies (
	id INTEGER PRIMARY KEY,
	size INTEGER NOT NULL,
	crc32c INTEGER NOT NULL
);
