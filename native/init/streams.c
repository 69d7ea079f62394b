#include "streams.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "child.h"
#include "protocol.h"

#define OUTPUT_CHUNK 32768
/* When the grace time ends, at most this much more output is taken from a pipe before closing it. */
#define FINAL_DRAIN_LIMIT (1024 * 1024)

struct stream *streams_find(const struct stream_table *table, uint32_t id) {
  for (size_t i = 0; i < table->count; i++)
    if (table->items[i]->id == id && !table->items[i]->finished) return table->items[i];
  return NULL;
}

struct stream *streams_find_pid(const struct stream_table *table, pid_t pid) {
  for (size_t i = 0; i < table->count; i++)
    if (table->items[i]->pid == pid && !table->items[i]->exited) return table->items[i];
  return NULL;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void stream_free(struct stream *stream) {
  close_fd(&stream->in_fd);
  close_fd(&stream->out_fd);
  close_fd(&stream->err_fd);
  close_fd(&stream->status_fd);
  buffer_free(&stream->pending_stdin);
  free(stream);
}

void streams_sweep(struct stream_table *table) {
  size_t kept = 0;
  for (size_t i = 0; i < table->count; i++) {
    if (table->items[i]->finished) stream_free(table->items[i]);
    else table->items[kept++] = table->items[i];
  }
  table->count = kept;
}

static void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* A new pty whose master stays with init; the child opens `slave_path`. */
static int open_terminal(struct stream *stream, char *slave_path, size_t size) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return -1;
  /* Programs that start before the host's first RESIZE get a usable size rather than 0x0. */
  struct winsize size_80x24 = {.ws_row = 24, .ws_col = 80};
  if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, slave_path, size) != 0 ||
      ioctl(master, TIOCSWINSZ, &size_80x24) != 0) {
    close(master);
    return -1;
  }
  set_nonblocking(master);
  /* Two descriptors for one master, so end-of-file on the output does not close the input. */
  stream->out_fd = master;
  stream->in_fd = fcntl(master, F_DUPFD_CLOEXEC, 0);
  return stream->in_fd < 0 ? -1 : 0;
}

/* Makes a pipe whose `keep` end (0: read, 1: write) goes to init, the other to the child. */
static int open_pipe(int *init_end, int *child_end, int keep) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return -1;
  *init_end = ends[keep];
  *child_end = ends[1 - keep];
  set_nonblocking(*init_end);
  return 0;
}

static int open_stdio(struct stream *stream, const struct process_spec *spec, struct child_stdio *child,
                      char *slave_path, size_t slave_size) {
  if (spec->tty) {
    child->terminal = slave_path;
    return open_terminal(stream, slave_path, slave_size);
  }
  if (spec->open_stdin && open_pipe(&stream->in_fd, &child->in, 1) != 0) return -1;
  if (open_pipe(&stream->out_fd, &child->out, 0) != 0) return -1;
  return open_pipe(&stream->err_fd, &child->err, 0);
}

static void close_child_ends(struct child_stdio *child) {
  close_fd(&child->in);
  close_fd(&child->out);
  close_fd(&child->err);
}

static struct stream *stream_new(uint32_t id, const struct process_spec *spec) {
  struct stream *stream = xmalloc(sizeof *stream);
  *stream = (struct stream){
      .id = id,
      .tty = spec->tty,
      .accepts_stdin = spec->open_stdin,
      .in_fd = -1,
      .out_fd = -1,
      .err_fd = -1,
      .status_fd = -1,
  };
  return stream;
}

static void table_add(struct stream_table *table, struct stream *stream) {
  table->items = xrealloc(table->items, (table->count + 1) * sizeof *table->items);
  table->items[table->count++] = stream;
}

struct stream *streams_start(struct stream_table *table, uint32_t id, const struct process_spec *spec, char *error,
                             size_t error_size) {
  struct stream *stream = stream_new(id, spec);
  struct child_stdio child = {.in = -1, .out = -1, .err = -1};
  char slave_path[64];
  int status[2] = {-1, -1};
  if (open_stdio(stream, spec, &child, slave_path, sizeof slave_path) != 0 || pipe2(status, O_CLOEXEC) != 0 ||
      (stream->pid = fork()) < 0) {
    snprintf(error, error_size, "start %s: %s", spec->args[0], strerror(errno));
    close_child_ends(&child);
    close_fd(&status[0]);
    close_fd(&status[1]);
    stream_free(stream);
    return NULL;
  }
  if (stream->pid == 0) child_run(spec, &child, status[1]);
  close_child_ends(&child);
  close_fd(&status[1]);
  stream->status_fd = status[0];
  set_nonblocking(stream->status_fd);
  table_add(table, stream);
  return stream;
}

void stream_queue_stdin(struct stream *stream, const uint8_t *bytes, size_t length) {
  if (!stream->accepts_stdin || stream->in_fd < 0) return;
  buffer_append(&stream->pending_stdin, bytes, length);
  stream_write_pending_stdin(stream);
}

/* With a terminal, end of input is the EOF character (^D) a reader in canonical mode sees as end-of-file. */
static void queue_terminal_eof(struct stream *stream) {
  struct termios attributes;
  uint8_t eof = tcgetattr(stream->in_fd, &attributes) == 0 ? attributes.c_cc[VEOF] : 4;
  buffer_append(&stream->pending_stdin, &eof, 1);
  stream_write_pending_stdin(stream);
}

void stream_end_stdin(struct stream *stream) {
  if (!stream->accepts_stdin) return;
  stream->accepts_stdin = false;
  if (stream->in_fd < 0) return;
  if (stream->tty) {
    queue_terminal_eof(stream);
    return;
  }
  stream->close_after_pending = true;
  stream_write_pending_stdin(stream);
}

void stream_write_pending_stdin(struct stream *stream) {
  while (buffer_length(&stream->pending_stdin) > 0 && stream->in_fd >= 0) {
    ssize_t written = write(stream->in_fd, buffer_head(&stream->pending_stdin), buffer_length(&stream->pending_stdin));
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && errno == EAGAIN) return;
    if (written < 0) {
      /* EPIPE: the process closed its stdin; what it did not read is dropped. */
      buffer_free(&stream->pending_stdin);
      stream->accepts_stdin = false;
      if (!stream->tty) close_fd(&stream->in_fd);
      return;
    }
    buffer_consume(&stream->pending_stdin, (size_t)written);
  }
  if (stream->close_after_pending && buffer_length(&stream->pending_stdin) == 0) close_fd(&stream->in_fd);
}

void stream_resize(struct stream *stream, unsigned cols, unsigned rows) {
  struct winsize size = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (stream->tty && stream->in_fd >= 0) ioctl(stream->in_fd, TIOCSWINSZ, &size);
}

void stream_read_output(struct stream *stream, int *fd, struct channel *channel) {
  uint8_t chunk[OUTPUT_CHUNK];
  ssize_t length = read(*fd, chunk, sizeof chunk);
  if (length > 0) {
    uint8_t type = fd == &stream->err_fd ? FRAME_STDERR : FRAME_STDOUT;
    channel_send(channel, type, stream->id, chunk, (size_t)length);
  } else if (length == 0 || (errno != EAGAIN && errno != EINTR)) {
    close_fd(fd); /* end-of-file, or EIO from a terminal whose last slave closed */
  }
}

void stream_exited(struct stream *stream, int wait_status, int grace_ms) {
  stream->exited = true;
  stream->wait_status = wait_status;
  stream->output_deadline = now_ms() + grace_ms;
  /* Nobody will read stdin any more (a grandchild might, but Docker does not feed those either). */
  stream->accepts_stdin = false;
  buffer_free(&stream->pending_stdin);
  close_fd(&stream->in_fd);
}

/* Takes what the pipe holds now and closes it: the exited process wrote all of it before exiting. */
static void drain_output(struct stream *stream, int *fd, struct channel *channel) {
  size_t taken = 0;
  while (*fd >= 0 && taken < FINAL_DRAIN_LIMIT) {
    size_t before = buffer_length(&channel->out);
    stream_read_output(stream, fd, channel);
    size_t read_now = buffer_length(&channel->out) - before;
    if (read_now == 0) break; /* nothing more now, or end-of-file */
    taken += read_now;
  }
  close_fd(fd);
}

static void send_exit(struct stream *stream, struct channel *channel) {
  char payload[64];
  if (WIFSIGNALED(stream->wait_status)) snprintf(payload, sizeof payload, "{\"signal\":%d}", WTERMSIG(stream->wait_status));
  else snprintf(payload, sizeof payload, "{\"code\":%d}", WEXITSTATUS(stream->wait_status));
  channel_send_text(channel, FRAME_EXIT, stream->id, payload);
}

bool stream_finish(struct stream *stream, struct channel *channel) {
  if (!stream->exited || stream->finished) return false;
  bool output_open = stream->out_fd >= 0 || stream->err_fd >= 0;
  if (output_open && now_ms() < stream->output_deadline) return false;
  drain_output(stream, &stream->out_fd, channel);
  drain_output(stream, &stream->err_fd, channel);
  struct start_failure failure;
  if (read(stream->status_fd, &failure, sizeof failure) == (ssize_t)sizeof failure) {
    failure.message[sizeof failure.message - 1] = '\0';
    channel_send_error(channel, stream->id, failure.code, failure.message);
  } else {
    send_exit(stream, channel);
  }
  stream->finished = true;
  return true;
}
