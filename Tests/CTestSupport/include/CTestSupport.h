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

#endif
