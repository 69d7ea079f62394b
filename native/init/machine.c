#include "machine.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

/* <linux/random.h>, which musl's headers do not include. */
#ifndef RNDADDENTROPY
#define RNDADDENTROPY _IOW('R', 0x03, int[2])
#endif
#ifndef RNDRESEEDCRNG
#define RNDRESEEDCRNG _IO('R', 0x07)
#endif

/* Unix milliseconds up to the year 9999. */
#define MAX_TIME_MS 253402300799999LL

static int fail(char *error, size_t size, const char *message) {
  snprintf(error, size, "%s", message);
  return -1;
}

static bool plain_string(const struct json *value) {
  return value && value->type == JSON_STRING && strlen(value->string) == value->string_length;
}

static int parse_volume(const struct json *item, struct volume *volume, char *error, size_t size) {
  const struct json *tag = json_member(item, "tag");
  const struct json *path = json_member(item, "path");
  const struct json *read_only = json_member(item, "readonly");
  if (!plain_string(tag) || !tag->string[0] || tag->string_length >= sizeof volume->tag)
    return fail(error, size, "volumes: each needs a \"tag\" (at most 63 bytes)");
  if (!plain_string(path) || path->string[0] != '/' || path->string_length >= sizeof volume->path)
    return fail(error, size, "volumes: each needs an absolute \"path\"");
  if (read_only && read_only->type != JSON_BOOL && read_only->type != JSON_NULL)
    return fail(error, size, "volumes: \"readonly\" must be a boolean");
  snprintf(volume->tag, sizeof volume->tag, "%s", tag->string);
  snprintf(volume->path, sizeof volume->path, "%s", path->string);
  volume->read_only = read_only && read_only->type == JSON_BOOL && read_only->boolean;
  return 0;
}

static int parse_root(const struct json *spec, struct root_plan *root, char *error, size_t size) {
  const struct json *upper = json_member(spec, "upper");
  if (upper && upper->type != JSON_NULL) {
    if (!plain_string(upper) || upper->string_length >= sizeof root->upper ||
        (strcmp(upper->string, "tmpfs") != 0 && upper->string[0] != '/'))
      return fail(error, size, "upper must be \"tmpfs\" or a device path");
    snprintf(root->upper, sizeof root->upper, "%s", upper->string);
  }
  const struct json *volumes = json_member(spec, "volumes");
  if (!volumes || volumes->type == JSON_NULL) return 0;
  if (volumes->type != JSON_ARRAY || volumes->count > MAX_VOLUMES)
    return fail(error, size, "volumes must be an array of at most 32 volumes");
  root->volume_count = 0;
  for (size_t i = 0; i < volumes->count; i++)
    if (parse_volume(&volumes->items[i], &root->volumes[root->volume_count++], error, size) != 0) return -1;
  return 0;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int parse_seed(const struct json *spec, struct machine_settings *settings, char *error, size_t size) {
  const struct json *seed = json_member(spec, "seed");
  if (!seed || seed->type == JSON_NULL) return 0;
  if (!plain_string(seed) || seed->string_length % 2 != 0 || seed->string_length > 2 * MAX_SEED_BYTES)
    return fail(error, size, "seed must be a string of at most 128 hex digits");
  for (size_t i = 0; i < seed->string_length; i += 2) {
    int high = hex_value(seed->string[i]), low = hex_value(seed->string[i + 1]);
    if (high < 0 || low < 0) return fail(error, size, "seed must be hex digits");
    settings->seed[settings->seed_length++] = (uint8_t)(high << 4 | low);
  }
  return 0;
}

int machine_parse(const uint8_t *payload, size_t length, const struct root_plan *defaults,
                  struct machine_settings *settings, char *error, size_t error_size) {
  *settings = (struct machine_settings){.root = *defaults};
  struct json *spec = json_parse(payload, length);
  if (!spec || spec->type != JSON_OBJECT) {
    json_free(spec);
    return fail(error, error_size, "the process spec is not a JSON object");
  }
  int result = parse_root(spec, &settings->root, error, error_size);
  const struct json *time = json_member(spec, "time");
  if (result == 0 && time && time->type != JSON_NULL) {
    if (json_integer(time, 0, MAX_TIME_MS, &settings->time_ms)) settings->has_time = true;
    else result = fail(error, error_size, "time must be Unix milliseconds");
  }
  if (result == 0) result = parse_seed(spec, settings, error, error_size);
  json_free(spec);
  return result;
}

static void add_entropy(const uint8_t *seed, size_t length) {
  /* struct rand_pool_info: entropy_count (bits), buf_size (bytes), buf. */
  struct {
    int entropy_count;
    int buf_size;
    uint8_t buf[MAX_SEED_BYTES];
  } pool = {.entropy_count = (int)(length * 8), .buf_size = (int)length};
  memcpy(pool.buf, seed, length);
  int fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
  /* Credited, then an immediate reseed: without it the generator keeps the snapshot's state for a while. */
  if (fd < 0 || ioctl(fd, RNDADDENTROPY, &pool) != 0 || ioctl(fd, RNDRESEEDCRNG) != 0)
    log_msg("seed the random generator: %m");
  if (fd >= 0) close(fd);
}

void machine_apply(const struct machine_settings *settings) {
  if (settings->has_time) {
    struct timespec now = {.tv_sec = settings->time_ms / 1000, .tv_nsec = (settings->time_ms % 1000) * 1000000};
    if (clock_settime(CLOCK_REALTIME, &now) != 0) log_msg("set the clock: %m");
  }
  if (settings->seed_length > 0) add_entropy(settings->seed, settings->seed_length);
}
