/*
 * The control channel: the virtio-serial port to the host, with an outgoing buffer so that a
 * slow host never blocks PID 1 (writes are non-blocking; see supervisor.c for the backpressure).
 */
#ifndef A3S_INIT_CHANNEL_H
#define A3S_INIT_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct channel {
  int fd;
  struct buffer in;  /* bytes from the host not yet parsed into frames */
  struct buffer out; /* encoded frames not yet written to the port */
  size_t skip;       /* payload bytes left of an oversized frame being discarded */
};

struct frame {
  uint8_t type;
  uint32_t stream;
  const uint8_t *payload; /* valid until the next channel_read */
  uint32_t length;
};

/* Opens the port whose name (/sys/class/virtio-ports/<port>/name) is `name`. */
int channel_open(struct channel *channel, const char *name);

/* Blocks until a host has the port open: before that, the port reads as end-of-file. */
void channel_wait_host(struct channel *channel);

/* Forgets everything buffered in both directions: the host that it was for has gone. */
void channel_reset(struct channel *channel);

/* True while a host has the port open. */
bool channel_host_connected(const struct channel *channel);

/* Queues one frame; it reaches the host on the next channel_flush. */
void channel_send(struct channel *channel, uint8_t type, uint32_t stream, const void *payload, size_t length);
void channel_send_text(struct channel *channel, uint8_t type, uint32_t stream, const char *text);
void channel_send_error(struct channel *channel, uint32_t stream, int code, const char *message);

/* Writes what the port accepts now. -1 when the port failed. */
int channel_flush(struct channel *channel);

/* Writes everything queued, waiting up to `timeout_ms` for a slow host: used before power-off. */
void channel_drain(struct channel *channel, int timeout_ms);

/* Reads what the port has. 0 on success, -1 when the host closed the port or it failed. */
int channel_read(struct channel *channel);

/* Takes the next complete frame out of the input; false when none is complete yet. */
bool channel_next_frame(struct channel *channel, struct frame *frame);

#endif
