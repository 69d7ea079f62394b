#include "channel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "protocol.h"

#define PORTS_DIR "/sys/class/virtio-ports"
#define READ_CHUNK 65536
/*
 * The host may attach a little after the guest opens the port, and a restored guest waits here for
 * its new host: virtio_console has no event for "a host connected", so the port is polled.
 */
#define HOST_POLL_MS 2

static bool port_has_name(const char *port, const char *name) {
  char path[320], found[128];
  snprintf(path, sizeof path, PORTS_DIR "/%s/name", port);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t length = read(fd, found, sizeof found - 1);
  close(fd);
  if (length <= 0) return false;
  found[length] = '\0';
  found[strcspn(found, "\n")] = '\0';
  return strcmp(found, name) == 0;
}

/* Finds the device (vportNpM) whose port name is `name`; false when there is none. */
static bool find_port(const char *name, char *device, size_t size) {
  DIR *dir = opendir(PORTS_DIR);
  if (!dir) return false;
  bool found = false;
  for (struct dirent *entry; !found && (entry = readdir(dir));) {
    if (entry->d_name[0] == '.' || !port_has_name(entry->d_name, name)) continue;
    snprintf(device, size, "/dev/%s", entry->d_name);
    found = true;
  }
  closedir(dir);
  return found;
}

int channel_open(struct channel *channel, const char *name) {
  *channel = (struct channel){.fd = -1};
  char device[300];
  if (!find_port(name, device, sizeof device)) {
    log_msg("no virtio-serial port named %s", name);
    return -1;
  }
  channel->fd = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (channel->fd < 0) {
    log_msg("open %s: %m", device);
    return -1;
  }
  return 0;
}

void channel_reset(struct channel *channel) {
  buffer_consume(&channel->in, buffer_length(&channel->in));
  buffer_consume(&channel->out, buffer_length(&channel->out));
  channel->skip = 0;
}

bool channel_host_connected(const struct channel *channel) {
  /* virtio_console reports POLLHUP exactly while no host has the port open. */
  struct pollfd pfd = {.fd = channel->fd, .events = POLLOUT};
  return poll(&pfd, 1, 0) >= 0 && !(pfd.revents & (POLLHUP | POLLERR));
}

void channel_wait_host(struct channel *channel) {
  while (!channel_host_connected(channel)) usleep(HOST_POLL_MS * 1000);
}

void channel_send(struct channel *channel, uint8_t type, uint32_t stream, const void *payload, size_t length) {
  uint8_t header[FRAME_HEADER_SIZE] = {
      type,
      (uint8_t)(stream >> 24),
      (uint8_t)(stream >> 16),
      (uint8_t)(stream >> 8),
      (uint8_t)stream,
      (uint8_t)(length >> 24),
      (uint8_t)(length >> 16),
      (uint8_t)(length >> 8),
      (uint8_t)length,
  };
  buffer_append(&channel->out, header, sizeof header);
  buffer_append(&channel->out, payload, length);
}

void channel_send_text(struct channel *channel, uint8_t type, uint32_t stream, const char *text) {
  channel_send(channel, type, stream, text, strlen(text));
}

void channel_send_error(struct channel *channel, uint32_t stream, int code, const char *message) {
  struct buffer payload = {0};
  buffer_append(&payload, "{\"message\":", 11);
  json_append_string(&payload, message);
  char tail[32];
  int length = snprintf(tail, sizeof tail, ",\"code\":%d}", code);
  buffer_append(&payload, tail, (size_t)length);
  channel_send(channel, FRAME_ERROR, stream, buffer_head(&payload), buffer_length(&payload));
  buffer_free(&payload);
}

int channel_flush(struct channel *channel) {
  while (buffer_length(&channel->out) > 0) {
    ssize_t written = write(channel->fd, buffer_head(&channel->out), buffer_length(&channel->out));
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return 0;
      log_msg("write to host: %m");
      return -1;
    }
    buffer_consume(&channel->out, (size_t)written);
  }
  return 0;
}

void channel_drain(struct channel *channel, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (buffer_length(&channel->out) > 0 && channel_flush(channel) == 0) {
    int64_t left = deadline - now_ms();
    if (buffer_length(&channel->out) == 0 || left <= 0) break;
    struct pollfd pfd = {.fd = channel->fd, .events = POLLOUT};
    if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) break;
    if (pfd.revents & (POLLHUP | POLLERR)) break;
  }
  if (buffer_length(&channel->out) > 0) log_msg("host did not take the last %zu bytes", buffer_length(&channel->out));
}

int channel_read(struct channel *channel) {
  uint8_t chunk[READ_CHUNK];
  for (;;) {
    ssize_t length = read(channel->fd, chunk, sizeof chunk);
    if (length > 0) {
      buffer_append(&channel->in, chunk, (size_t)length);
      return 0;
    }
    if (length < 0 && errno == EINTR) continue;
    if (length < 0 && errno == EAGAIN) return 0;
    if (length < 0) log_msg("read from host: %m");
    return -1; /* 0: the host closed the port */
  }
}

static uint32_t read_u32(const uint8_t *bytes) {
  return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

/* Drops the payload of an oversized frame as it arrives. */
static void skip_discarded(struct channel *channel) {
  size_t dropped = buffer_length(&channel->in) < channel->skip ? buffer_length(&channel->in) : channel->skip;
  buffer_consume(&channel->in, dropped);
  channel->skip -= dropped;
}

bool channel_next_frame(struct channel *channel, struct frame *frame) {
  for (;;) {
    skip_discarded(channel);
    if (channel->skip > 0 || buffer_length(&channel->in) < FRAME_HEADER_SIZE) return false;
    const uint8_t *head = buffer_head(&channel->in);
    uint32_t length = read_u32(head + 5);
    if (length > MAX_HOST_PAYLOAD) {
      log_msg("discarding a frame of type %u with a %u-byte payload", head[0], length);
      buffer_consume(&channel->in, FRAME_HEADER_SIZE);
      channel->skip = length;
      continue;
    }
    if (buffer_length(&channel->in) < FRAME_HEADER_SIZE + (size_t)length) return false;
    *frame = (struct frame){
        .type = head[0],
        .stream = read_u32(head + 1),
        .payload = head + FRAME_HEADER_SIZE,
        .length = length,
    };
    buffer_consume(&channel->in, FRAME_HEADER_SIZE + length);
    return true;
  }
}
