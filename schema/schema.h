/*
 * schema: the SQLite migrations, embedded at build time from the schema/NNN-*.sql files.
 * Migration i (1-based) is schema_migrations[i - 1]; PRAGMA user_version
 * records how many have been applied.
 */
#ifndef VFS_SCHEMA_H
#define VFS_SCHEMA_H

extern const char *const schema_migrations[];
extern const int schema_migration_count;

#endif
