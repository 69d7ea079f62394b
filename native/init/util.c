#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

void log_msg(const char *format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  int length = vsnprintf(line, sizeof line - 1, format, args);
  va_end(args);
  if (length < 0) return;
  if ((size_t)length > sizeof line - 2) length = sizeof line - 2;
  line[length++] = '\n';
  /* One write per line so lines of init and of the kernel do not interleave mid-line. */
  static const char prefix[] = "a3s-init: ";
  char out[sizeof prefix + sizeof line];
  memcpy(out, prefix, sizeof prefix - 1);
  memcpy(out + sizeof prefix - 1, line, (size_t)length);
  (void)!write(STDERR_FILENO, out, sizeof prefix - 1 + (size_t)length);
}

static void out_of_memory(void) {
  log_msg("out of memory");
  sync();
  reboot(RB_AUTOBOOT);
  _exit(1);
}

void *xmalloc(size_t size) {
  void *ptr = malloc(size ? size : 1);
  if (!ptr) out_of_memory();
  return ptr;
}

void *xrealloc(void *ptr, size_t size) {
  void *grown = realloc(ptr, size ? size : 1);
  if (!grown) out_of_memory();
  return grown;
}

char *xstrdup(const char *text) {
  size_t length = strlen(text) + 1;
  return memcpy(xmalloc(length), text, length);
}

int64_t now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void buffer_append(struct buffer *buffer, const void *bytes, size_t length) {
  if (length == 0) return;
  if (buffer->end + length > buffer->capacity && buffer->start > 0) {
    /* Reuse the consumed front before growing. */
    size_t used = buffer_length(buffer);
    memmove(buffer->data, buffer->data + buffer->start, used);
    buffer->start = 0;
    buffer->end = used;
  }
  if (buffer->end + length > buffer->capacity) {
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < buffer->end + length) capacity *= 2;
    buffer->data = xrealloc(buffer->data, capacity);
    buffer->capacity = capacity;
  }
  memcpy(buffer->data + buffer->end, bytes, length);
  buffer->end += length;
}

void buffer_consume(struct buffer *buffer, size_t length) {
  buffer->start += length;
  if (buffer->start >= buffer->end) buffer->start = buffer->end = 0;
}

void buffer_free(struct buffer *buffer) {
  free(buffer->data);
  *buffer = (struct buffer){0};
}

int mkdir_p(const char *path, mode_t mode) {
  char partial[4096];
  size_t length = strlen(path);
  if (length >= sizeof partial) return errno = ENAMETOOLONG, -1;
  memcpy(partial, path, length + 1);
  for (char *slash = partial + 1; *slash; slash++) {
    if (*slash != '/') continue;
    *slash = '\0';
    if (mkdir(partial, mode) != 0 && errno != EEXIST) return -1;
    *slash = '/';
  }
  if (mkdir(partial, mode) != 0 && errno != EEXIST) return -1;
  return 0;
}

int write_all(int fd, const void *bytes, size_t length) {
  const uint8_t *cursor = bytes;
  while (length > 0) {
    ssize_t written = write(fd, cursor, length);
    if (written < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    cursor += written;
    length -= (size_t)written;
  }
  return 0;
}
