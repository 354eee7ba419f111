#ifndef JUSTGATE_CLINUXSYSTEM_H
#define JUSTGATE_CLINUXSYSTEM_H

/*
 * Linux system calls that Swift's Glibc module does not export (epoll, eventfd, accept4,
 * pthread_setname_np). The event loop (JustGateReactor) and the HTTP server need them; nothing else belongs here.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>

/* accept4(2) is a GNU extension, declared only under _GNU_SOURCE, which CLinuxSystem.c defines. */
int jg_accept4(int fd, void *address, unsigned int *length, int flags);

/* pthread_setname_np(pthread_self(), name), also a GNU extension: the kernel's name for the calling thread,
 * which `top -H`, `ps -L` and /proc/PID/task/TID/comm show. Longer names are cut to the kernel's 15 bytes. */
int jg_set_current_thread_name(const char *name);

#endif
