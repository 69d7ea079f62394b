/*
 * The supervisor: init's event loop after boot. It reads frames from the host, starts and feeds
 * processes, forwards their output, reaps every child (PID 1 inherits all orphans), and ends the
 * VM when the box's main process (stream 1) is done.
 */
#ifndef A3S_INIT_SUPERVISOR_H
#define A3S_INIT_SUPERVISOR_H

#include <stdbool.h>

#include "boot.h"
#include "channel.h"
#include "streams.h"

struct supervisor {
  struct channel channel;
  struct stream_table streams;
  int signal_fd;
  /* A deferred boot before stream 1's START: parked on the image, the root not assembled yet. */
  bool deferred;
  /* The upper layer and volumes of the command line; START may replace them while deferred. */
  struct root_plan plan;
};

/* Blocks the signals init handles and opens the signalfd that delivers them; before any fork. */
int supervisor_init(struct supervisor *supervisor);

/* Tells the host that init waits for START of stream 1 (READY). */
void supervisor_send_ready(struct supervisor *supervisor);

__attribute__((noreturn)) void supervisor_run(struct supervisor *supervisor);

/*
 * Kills every process, hands what is queued for the host (if a channel is given) to the host,
 * syncs and ends the VM.
 */
__attribute__((noreturn)) void power_off(struct channel *channel);

#endif
