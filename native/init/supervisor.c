#include "supervisor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "machine.h"
#include "protocol.h"
#include "spec.h"

/* Docker's grace for a grandchild that keeps the output pipes open after the process exited. */
#define OUTPUT_GRACE_MS 100
/* Output waiting for the host beyond this stops init reading the processes' output (backpressure). */
#define OUTPUT_HIGH_WATER (1024 * 1024)
/* Stdin waiting for a process beyond this stops init reading frames from the host. */
#define STDIN_HIGH_WATER (1024 * 1024)
/* How long the last frames (the final EXIT) may take to reach the host before the VM ends. */
#define FINAL_DRAIN_MS 5000

enum watch_kind { WATCH_PORT, WATCH_SIGNALS, WATCH_STDOUT, WATCH_STDERR, WATCH_STDIN };

struct watch {
  enum watch_kind kind;
  struct stream *stream;
};

struct poll_set {
  struct pollfd *fds;
  struct watch *watches;
  size_t count;
  size_t capacity;
};

void power_off(struct channel *channel) {
  kill(-1, SIGKILL);
  if (channel) channel_drain(channel, FINAL_DRAIN_MS);
  sync();
  /*
   * Without ACPI there is no power-off: the kernel would only halt. A restart with reboot=t on the
   * command line triple-faults, and QEMU, started with -no-reboot, exits.
   */
  reboot(RB_AUTOBOOT);
  reboot(RB_POWER_OFF);
  for (;;) pause();
}

static void signal_set(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
}

int supervisor_init(struct supervisor *supervisor) {
  *supervisor = (struct supervisor){.channel = {.fd = -1}, .signal_fd = -1};
  sigset_t set;
  signal_set(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
  /* A process that closes its stdin must not kill init through a write to the pipe. */
  signal(SIGPIPE, SIG_IGN);
  /* Ctrl-Alt-Del becomes SIGINT to init (forwarded to the box) instead of an instant reboot. */
  reboot(RB_DISABLE_CAD);
  supervisor->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  return supervisor->signal_fd < 0 ? -1 : 0;
}

void supervisor_send_ready(struct supervisor *supervisor) {
  char payload[32];
  snprintf(payload, sizeof payload, "{\"version\":%d}", PROTOCOL_VERSION);
  channel_send_text(&supervisor->channel, FRAME_READY, BOOT_STREAM, payload);
}

/* ---- frames from the host ---- */

/* The VM-wide part of stream 1's START: clock, entropy and, for a deferred boot, the root. */
static int prepare_machine(struct supervisor *supervisor, const struct frame *frame, char *error, size_t size) {
  struct machine_settings settings;
  if (machine_parse(frame->payload, frame->length, &supervisor->plan, &settings, error, size) != 0) return -1;
  machine_apply(&settings);
  if (!supervisor->deferred) return 0;
  if (boot_assemble_root(&settings.root, error, size) != 0) return -1;
  supervisor->deferred = false;
  return 0;
}

static int start_stream(struct supervisor *supervisor, const struct frame *frame, char *error, size_t size) {
  if (frame->stream == BOOT_STREAM) {
    snprintf(error, size, "stream 0 is reserved");
    return -1;
  }
  if (streams_find(&supervisor->streams, frame->stream)) {
    snprintf(error, size, "stream %u is already running", frame->stream);
    return -1;
  }
  if (frame->stream != MAIN_STREAM && supervisor->deferred) {
    snprintf(error, size, "the box has not started: its root is assembled at START of stream 1");
    return -1;
  }
  struct process_spec spec;
  if (spec_parse(frame->payload, frame->length, &spec, error, size) != 0) return -1;
  int result = 0;
  if (frame->stream == MAIN_STREAM) result = prepare_machine(supervisor, frame, error, size);
  if (result == 0 && frame->stream == MAIN_STREAM && spec.hostname &&
      sethostname(spec.hostname, strlen(spec.hostname)) != 0) {
    snprintf(error, size, "sethostname %s: %s", spec.hostname, strerror(errno));
    result = -1;
  }
  if (result == 0 && !streams_start(&supervisor->streams, frame->stream, &spec, error, size)) result = -1;
  spec_free(&spec);
  return result;
}

static void handle_start(struct supervisor *supervisor, const struct frame *frame) {
  char error[256];
  if (start_stream(supervisor, frame, error, sizeof error) == 0) return;
  channel_send_error(&supervisor->channel, frame->stream, CODE_START_FAILED, error);
  /* The box is its main process: when that cannot start, the VM has nothing left to do. */
  if (frame->stream == MAIN_STREAM && !streams_find(&supervisor->streams, MAIN_STREAM)) power_off(&supervisor->channel);
}

/* Reads the integer member `key` of a JSON payload; false when the payload does not have one in range. */
static bool payload_integer(const struct frame *frame, const char *key, int64_t min, int64_t max, int64_t *out) {
  struct json *root = json_parse(frame->payload, frame->length);
  bool ok = json_integer(json_member(root, key), min, max, out);
  json_free(root);
  if (!ok) log_msg("frame %u for stream %u: no valid \"%s\"", frame->type, frame->stream, key);
  return ok;
}

static void handle_signal(struct stream *stream, const struct frame *frame) {
  int64_t number;
  if (!payload_integer(frame, "signal", 1, SIGRTMAX, &number) || stream->exited) return;
  /* The main process gets it with its whole group; right after fork it may not lead one yet. */
  if (stream->id != MAIN_STREAM || kill(-stream->pid, (int)number) != 0) kill(stream->pid, (int)number);
}

static void handle_resize(struct stream *stream, const struct frame *frame) {
  int64_t cols, rows;
  if (payload_integer(frame, "cols", 1, 65535, &cols) && payload_integer(frame, "rows", 1, 65535, &rows))
    stream_resize(stream, (unsigned)cols, (unsigned)rows);
}

static void dispatch_frame(struct supervisor *supervisor, const struct frame *frame) {
  if (frame->type == FRAME_SHUTDOWN) power_off(&supervisor->channel);
  if (frame->type == FRAME_START) {
    handle_start(supervisor, frame);
    return;
  }
  struct stream *stream = streams_find(&supervisor->streams, frame->stream);
  if (!stream) return; /* frames for a stream that ended are expected: the host did not know yet */
  switch (frame->type) {
    case FRAME_STDIN:
      stream_queue_stdin(stream, frame->payload, frame->length);
      break;
    case FRAME_STDIN_EOF:
      stream_end_stdin(stream);
      break;
    case FRAME_SIGNAL:
      handle_signal(stream, frame);
      break;
    case FRAME_RESIZE:
      handle_resize(stream, frame);
      break;
    default:
      log_msg("ignoring frame of unknown type %u", frame->type);
  }
}

/* True while some process has more stdin waiting than it should: then frames stay unread. */
static bool stdin_backlogged(const struct supervisor *supervisor) {
  for (size_t i = 0; i < supervisor->streams.count; i++)
    if (buffer_length(&supervisor->streams.items[i]->pending_stdin) > STDIN_HIGH_WATER) return true;
  return false;
}

static void dispatch_frames(struct supervisor *supervisor) {
  struct frame frame;
  while (!stdin_backlogged(supervisor) && channel_next_frame(&supervisor->channel, &frame))
    dispatch_frame(supervisor, &frame);
}

/* ---- signals and exits ---- */

static void reap_children(struct supervisor *supervisor) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    struct stream *stream = streams_find_pid(&supervisor->streams, pid);
    if (stream) stream_exited(stream, status, OUTPUT_GRACE_MS);
  }
}

/* SIGTERM or SIGINT to init (`kill 1` in the box, Ctrl-Alt-Del) is meant for the box's main process. */
static void forward_to_main(struct supervisor *supervisor, int signal_number) {
  struct stream *main_stream = streams_find(&supervisor->streams, MAIN_STREAM);
  if (!main_stream || main_stream->exited) power_off(&supervisor->channel);
  if (kill(-main_stream->pid, signal_number) != 0) kill(main_stream->pid, signal_number);
}

static void read_signals(struct supervisor *supervisor) {
  struct signalfd_siginfo info;
  while (read(supervisor->signal_fd, &info, sizeof info) == (ssize_t)sizeof info) {
    if (info.ssi_signo == SIGCHLD) reap_children(supervisor);
    else forward_to_main(supervisor, (int)info.ssi_signo);
  }
}

static void finish_streams(struct supervisor *supervisor) {
  for (size_t i = 0; i < supervisor->streams.count; i++) {
    struct stream *stream = supervisor->streams.items[i];
    if (stream_finish(stream, &supervisor->channel) && stream->id == MAIN_STREAM) power_off(&supervisor->channel);
  }
  streams_sweep(&supervisor->streams);
}

/* Milliseconds until the next exited stream stops waiting for its output; -1 when none waits. */
static int next_timeout(const struct supervisor *supervisor) {
  int64_t now = now_ms(), timeout = -1;
  for (size_t i = 0; i < supervisor->streams.count; i++) {
    const struct stream *stream = supervisor->streams.items[i];
    if (!stream->exited) continue;
    int64_t left = stream->output_deadline > now ? stream->output_deadline - now : 0;
    if (timeout < 0 || left < timeout) timeout = left;
  }
  return (int)timeout;
}

/* ---- the poll set ---- */

static void watch(struct poll_set *set, int fd, short events, enum watch_kind kind, struct stream *stream) {
  if (fd < 0) return;
  if (set->count == set->capacity) {
    set->capacity = set->capacity ? set->capacity * 2 : 16;
    set->fds = xrealloc(set->fds, set->capacity * sizeof *set->fds);
    set->watches = xrealloc(set->watches, set->capacity * sizeof *set->watches);
  }
  set->fds[set->count] = (struct pollfd){.fd = fd, .events = events};
  set->watches[set->count++] = (struct watch){kind, stream};
}

static void build_poll_set(struct supervisor *supervisor, struct poll_set *set) {
  set->count = 0;
  short port_events = (short)((stdin_backlogged(supervisor) ? 0 : POLLIN) |
                              (buffer_length(&supervisor->channel.out) > 0 ? POLLOUT : 0));
  watch(set, supervisor->channel.fd, port_events, WATCH_PORT, NULL);
  watch(set, supervisor->signal_fd, POLLIN, WATCH_SIGNALS, NULL);
  bool take_output = buffer_length(&supervisor->channel.out) < OUTPUT_HIGH_WATER;
  for (size_t i = 0; i < supervisor->streams.count; i++) {
    struct stream *stream = supervisor->streams.items[i];
    if (take_output) {
      watch(set, stream->out_fd, POLLIN, WATCH_STDOUT, stream);
      watch(set, stream->err_fd, POLLIN, WATCH_STDERR, stream);
    }
    if (buffer_length(&stream->pending_stdin) > 0) watch(set, stream->in_fd, POLLOUT, WATCH_STDIN, stream);
  }
}

/*
 * The host closed the port. A box that started ends rather than linger: nobody can talk to it any
 * more. A parked guest (deferred, before START) waits for the next host: the one that saved it as a
 * snapshot leaves, the one that restores it comes.
 */
static void host_gone(struct supervisor *supervisor) {
  if (!supervisor->deferred) {
    log_msg("the host closed the control port; powering off");
    power_off(&supervisor->channel);
  }
  channel_reset(&supervisor->channel);
  channel_wait_host(&supervisor->channel);
  supervisor_send_ready(supervisor);
}

static void handle_port(struct supervisor *supervisor, short revents, short requested) {
  if ((requested & POLLIN) && (revents & (POLLIN | POLLHUP | POLLERR))) {
    if (channel_read(&supervisor->channel) != 0) host_gone(supervisor);
  } else if (revents & (POLLHUP | POLLERR)) {
    host_gone(supervisor);
  }
}

static void handle_event(struct supervisor *supervisor, const struct pollfd *fd, const struct watch *watch) {
  if (!fd->revents) return;
  switch (watch->kind) {
    case WATCH_PORT:
      handle_port(supervisor, fd->revents, fd->events);
      break;
    case WATCH_SIGNALS:
      read_signals(supervisor);
      break;
    case WATCH_STDOUT:
      stream_read_output(watch->stream, &watch->stream->out_fd, &supervisor->channel);
      break;
    case WATCH_STDERR:
      stream_read_output(watch->stream, &watch->stream->err_fd, &supervisor->channel);
      break;
    case WATCH_STDIN:
      stream_write_pending_stdin(watch->stream);
      break;
  }
}

void supervisor_run(struct supervisor *supervisor) {
  struct poll_set set = {0};
  for (;;) {
    dispatch_frames(supervisor);
    finish_streams(supervisor);
    if (channel_flush(&supervisor->channel) != 0) host_gone(supervisor);
    build_poll_set(supervisor, &set);
    if (poll(set.fds, set.count, next_timeout(supervisor)) < 0) {
      if (errno != EINTR) log_msg("poll: %m");
      continue;
    }
    for (size_t i = 0; i < set.count; i++) handle_event(supervisor, &set.fds[i], &set.watches[i]);
  }
}
