/*
 * node: node_of, which maps an inode number to its kind (node.h): the
 * fixed directories by the root's table, the rest by their class in
 * core/ino.h.
 */
#include "config.h"

#include "fs/node.h"

const struct fs_node_ops *
node_of(fuse_ino_t ino)
{
	const struct fs_node_ops *k;

	switch (ino_class(ino)) {
	case INO_CLASS_DIR:
		if (ino == INO_ROOT)
			return &root_node;
		if ((k = root_kind_of(ino)) != NULL)
			return k;
		break;
	case INO_CLASS_CONTROL: return &control_file_node;
	case INO_CLASS_STREAM: return &streamnode_node;
	case INO_CLASS_NONE:
	case INO_CLASS_BLOB:
	case INO_CLASS_OBJECT: break;
	}
	return &catnode_node;
}
