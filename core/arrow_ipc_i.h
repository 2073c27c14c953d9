/*
 * arrow_ipc_i: what the IPC writer and reader share: the field ids and
 * enum values of Arrow's format/Schema.fbs, Message.fbs and File.fbs (the
 * numbers are the format's; only those used here).
 */
#ifndef VFS_ARROW_IPC_I_H
#define VFS_ARROW_IPC_I_H

#define AIPC_MAGIC "ARROW1"
#define AIPC_CONTINUATION 0xFFFFFFFFu
#define AIPC_V4 3 /* MetadataVersion: V4 is 3, V5 is 4 */
#define AIPC_V5 4
#define AIPC_BLOCK_SIZE 24  /* struct Block { long offset; int metaDataLength; long bodyLength } */
#define AIPC_BUFFER_SIZE 16 /* struct Buffer { long offset; long length } */
#define AIPC_NODE_SIZE 16   /* struct FieldNode { long length; long null_count } */

/* union Type */
enum {
	AIPC_TYPE_INT = 2,
	AIPC_TYPE_FLOAT = 3,
	AIPC_TYPE_BINARY = 4,
	AIPC_TYPE_UTF8 = 5,
	AIPC_TYPE_BOOL = 6,
	AIPC_TYPE_DATE = 8,
	AIPC_TYPE_TIMESTAMP = 10,
	AIPC_TYPE_DURATION = 18,
	AIPC_TYPE_LARGE_BINARY = 19,
	AIPC_TYPE_LARGE_UTF8 = 20,
};

/* union MessageHeader */
enum { AIPC_MSG_SCHEMA = 1, AIPC_MSG_DICTIONARY = 2, AIPC_MSG_RECORD_BATCH = 3 };

/* Field ids (slots); a union takes two: its type, then its value. */
enum { AIPC_INT_BITWIDTH = 0, AIPC_INT_SIGNED = 1 };
enum { AIPC_FLOAT_PRECISION = 0 };		 /* HALF 0, SINGLE 1, DOUBLE 2 */
enum { AIPC_DATE_UNIT = 0 };			 /* DAY 0, MILLISECOND 1 (default) */
enum { AIPC_TS_UNIT = 0, AIPC_TS_TIMEZONE = 1 }; /* TimeUnit: SECOND 0 .. NANOSECOND 3 */
enum { AIPC_DURATION_UNIT = 0 };		 /* default MILLISECOND */
enum { AIPC_DICT_ID = 0, AIPC_DICT_INDEX_TYPE = 1, AIPC_DICT_ORDERED = 2, AIPC_DICT_KIND = 3 };
enum {
	AIPC_FIELD_NAME = 0,
	AIPC_FIELD_NULLABLE = 1,
	AIPC_FIELD_TYPE_TYPE = 2,
	AIPC_FIELD_TYPE = 3,
	AIPC_FIELD_DICTIONARY = 4,
	AIPC_FIELD_CHILDREN = 5,
};
enum { AIPC_SCHEMA_ENDIANNESS = 0, AIPC_SCHEMA_FIELDS = 1 };
enum {
	AIPC_RB_LENGTH = 0,
	AIPC_RB_NODES = 1,
	AIPC_RB_BUFFERS = 2,
	AIPC_RB_COMPRESSION = 3,
	AIPC_RB_VARIADIC = 4
};
enum { AIPC_DB_ID = 0, AIPC_DB_DATA = 1, AIPC_DB_DELTA = 2 };
enum {
	AIPC_MSG_VERSION = 0,
	AIPC_MSG_HEADER_TYPE = 1,
	AIPC_MSG_HEADER = 2,
	AIPC_MSG_BODY_LENGTH = 3,
};
enum {
	AIPC_FOOTER_VERSION = 0,
	AIPC_FOOTER_SCHEMA = 1,
	AIPC_FOOTER_DICTIONARIES = 2,
	AIPC_FOOTER_BATCHES = 3,
};

#endif
