#ifndef JUSTGATE_CTESTSUPPORT_H
#define JUSTGATE_CTESTSUPPORT_H

/*
 * GNU extensions the tests' process spawner needs and Swift's Glibc module does not declare.
 * Test-only: nothing in Sources depends on this.
 */
#include <spawn.h>

/* pipe2(fds, O_CLOEXEC): both ends close-on-exec from birth, so no concurrently spawned child inherits them. */
int jg_test_pipe_cloexec(int fds[2]);

/* posix_spawn_file_actions_addchdir_np: the child starts in `path`, without a chdir in this multi-threaded process. */
int jg_test_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/*
 * posix_spawn_file_actions_addclosefrom_np: the child gets no descriptor from `from` up, whether or not it
 * was opened close-on-exec (a test's raw client socket held by a child never sends its FIN when closed).
 */
int jg_test_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
