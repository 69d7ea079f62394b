/* Small helpers shared by every part of init: logging, a growable byte buffer, time, paths. */
#ifndef A3S_INIT_UTIL_H
#define A3S_INIT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writes "a3s-init: <message>\n" to init's stderr, which is the VM console (hvc0). */
void log_msg(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* malloc/realloc that end the VM when memory runs out: PID 1 has no sensible way to go on. */
void *xmalloc(size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *text);

/* Milliseconds on the monotonic clock. */
int64_t now_ms(void);

/* Bytes appended at the end and consumed from the front. */
struct buffer {
  uint8_t *data;
  size_t start; /* first unconsumed byte */
  size_t end;   /* one past the last byte */
  size_t capacity;
};

static inline size_t buffer_length(const struct buffer *buffer) { return buffer->end - buffer->start; }
static inline uint8_t *buffer_head(const struct buffer *buffer) { return buffer->data + buffer->start; }
void buffer_append(struct buffer *buffer, const void *bytes, size_t length);
void buffer_consume(struct buffer *buffer, size_t length);
void buffer_free(struct buffer *buffer);

/* Creates a directory and its missing parents, like `mkdir -p`. */
int mkdir_p(const char *path, mode_t mode);

/* Writes all of `length` bytes to a blocking descriptor, retrying on EINTR. */
int write_all(int fd, const void *bytes, size_t length);

#endif
