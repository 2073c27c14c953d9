/*
 * daemon: "vineyardfs mount": option parsing, the state-dir lock, the
 * detach-after-ready dance, the FUSE session and its worker threads.
 */
#ifndef VFS_DAEMON_H
#define VFS_DAEMON_H

/* Run the mount command; returns the exit status. */
int daemon_mount_main(int argc, char **argv);
/* Run the umount command; returns the exit status. */
int daemon_umount_main(int argc, char **argv);
/* Once the mount is ready (the daemon, or a supervisor): log to the log
 * file only, stdin and stdout on /dev/null, cwd /. */
void daemon_detach(void);

#endif
