/* Program logging for handler/: the journal under systemd, stderr in the
 * foreground.  Never the connection's fds. */
#ifndef SSHAND_HANDLER_LOG_H
#define SSHAND_HANDLER_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

enum log_target { LOG_TARGET_JOURNAL, LOG_TARGET_STDERR, LOG_TARGET_NONE };

void log_setup(enum log_target t, int max_priority);
/* Journal: opens the socket now, so logging survives chroot and privilege
 * drop; falls back to none without a journal.  Stderr: lines prefixed
 * "sshand[pid]: "; refused (none) when fd 2 is the connection (inetd). */
enum log_target log_current_target(void);
/* Changes only the threshold (the configured LogLevel, once known). */
void log_set_max_priority(int max_priority);
void log_set_prefix(const char *prefix);	/* e.g. "[net]" */
/* Adds SSHAND_CONNECTION=id to journal entries (NULL clears). */
void log_set_connection(const char *id);
/* Whether a message of this priority would be written anywhere. */
bool log_enabled(int priority);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs "fmt: strerror(-err)" and returns err (negative errno). */
int log_errno(int priority, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)

/* CLOCK_MONOTONIC, microseconds. */
uint64_t now_usec(void);
/* At LogLevel DEBUG: "phase NAME usec N cpu N", the wall time since
 * since_usec and the CPU this process has used (the benchmark's steps). */
void phase(const char *name, uint64_t since_usec);
/* The user+sys time this process has used, plus what it carries: a
 * process that goes on with its parent's work after a fork (the monitor,
 * after the guardian's fork) carries the parent's time at the fork, so
 * that its phase lines and totals read as if there had been no fork. */
uint64_t process_cpu_usec(void);
void phase_cpu_carry(uint64_t usec);

#endif
