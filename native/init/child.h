/* What the forked child does before it becomes the box's process: session, stdio, ids, cwd, exec. */
#ifndef A3S_INIT_CHILD_H
#define A3S_INIT_CHILD_H

#include "spec.h"

/* The child's ends of its stdio: three pipe ends, or the path of a terminal's slave. */
struct child_stdio {
  int in; /* -1: /dev/null */
  int out;
  int err;
  const char *terminal; /* non-NULL: open this pty slave as stdin, stdout and stderr */
};

/*
 * How a failed start reaches the parent: written to a close-on-exec pipe, so the parent reads
 * either this record (the exec did not happen) or end-of-file (it did).
 */
struct start_failure {
  int code; /* 127, 126 or 125 (protocol.h) */
  char message[248];
};

__attribute__((noreturn)) void child_run(const struct process_spec *spec, const struct child_stdio *stdio,
                                         int status_fd);

#endif
