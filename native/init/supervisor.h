/*
 * The supervisor: init's event loop after boot. It reads frames from the host, starts and feeds
 * processes, forwards their output, reaps every child (PID 1 inherits all orphans), and ends the
 * VM when the box's main process (stream 1) is done.
 */
#ifndef A3S_INIT_SUPERVISOR_H
#define A3S_INIT_SUPERVISOR_H

#include "channel.h"
#include "streams.h"

struct supervisor {
  struct channel channel;
  struct stream_table streams;
  int signal_fd;
};

/* Blocks the signals init handles and opens the signalfd that delivers them; before any fork. */
int supervisor_init(struct supervisor *supervisor);

__attribute__((noreturn)) void supervisor_run(struct supervisor *supervisor);

/*
 * Kills every process, hands what is queued for the host (if a channel is given) to the host,
 * syncs and ends the VM.
 */
__attribute__((noreturn)) void power_off(struct channel *channel);

#endif
