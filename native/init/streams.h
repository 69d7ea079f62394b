/*
 * Streams: the processes the host started, each with its pipes (or terminal), the stdin bytes
 * waiting for the process to read them, and its exit, reported once its output has been sent.
 */
#ifndef A3S_INIT_STREAMS_H
#define A3S_INIT_STREAMS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "channel.h"
#include "spec.h"
#include "util.h"

struct stream {
  uint32_t id;
  pid_t pid;
  bool tty;
  bool accepts_stdin;       /* STDIN frames are still welcome */
  bool close_after_pending; /* STDIN_EOF came while stdin bytes were still pending */
  int in_fd;                /* the process's stdin (pipe, or the terminal); -1 when closed */
  int out_fd;               /* stdout pipe or terminal; -1 at end-of-file */
  int err_fd;               /* stderr pipe; -1 at end-of-file or with a terminal */
  int status_fd;            /* the child's start-failure pipe (child.h) */
  struct buffer pending_stdin;
  bool exited;
  int wait_status;
  int64_t output_deadline; /* after exit, when to stop waiting for the output to end */
  bool finished;           /* EXIT or ERROR sent */
};

struct stream_table {
  struct stream **items;
  size_t count;
};

struct stream *streams_find(const struct stream_table *table, uint32_t id);
struct stream *streams_find_pid(const struct stream_table *table, pid_t pid);

/* Forks and starts the process; on failure says why in `error` and returns NULL. */
struct stream *streams_start(struct stream_table *table, uint32_t id, const struct process_spec *spec, char *error,
                             size_t error_size);

/* Frees the streams whose EXIT or ERROR went out. */
void streams_sweep(struct stream_table *table);

void stream_queue_stdin(struct stream *stream, const uint8_t *bytes, size_t length);
void stream_end_stdin(struct stream *stream);
void stream_write_pending_stdin(struct stream *stream);
void stream_resize(struct stream *stream, unsigned cols, unsigned rows);

/* Reads what one output descriptor has and sends it as a frame; closes it at end-of-file. */
void stream_read_output(struct stream *stream, int *fd, struct channel *channel);

/* Records the wait status; the output gets `grace_ms` more to reach end-of-file. */
void stream_exited(struct stream *stream, int wait_status, int grace_ms);

/*
 * Sends EXIT (or ERROR when the exec failed) once the process has exited and its output ended or
 * its grace time passed. True when it did.
 */
bool stream_finish(struct stream *stream, struct channel *channel);

#endif
