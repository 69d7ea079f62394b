/*
 * A small JSON reader for the control frames (process specs, SIGNAL, RESIZE) and the escaping
 * needed to write READY, EXIT and ERROR. The host is trusted but frames are still validated: a
 * malformed spec must become an ERROR frame, never a crash of PID 1.
 */
#ifndef A3S_INIT_JSON_H
#define A3S_INIT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
  enum json_type type;
  char *key; /* the member name when this value sits in an object */
  bool boolean;
  double number;
  char *string;          /* NUL-terminated */
  size_t string_length;  /* differs from strlen when the string holds \u0000 */
  struct json *items;    /* array elements or object members */
  size_t count;
};

/* Parses `length` bytes; returns NULL when the text is not one valid JSON value. */
struct json *json_parse(const uint8_t *text, size_t length);
void json_free(struct json *value);

/* The member `key` of an object, or NULL when absent or when `object` is not an object. */
const struct json *json_member(const struct json *object, const char *key);

/* Reads an integral number in [min, max]; false when `value` is anything else. */
bool json_integer(const struct json *value, int64_t min, int64_t max, int64_t *out);

/* Appends `text` as a quoted JSON string. */
void json_append_string(struct buffer *out, const char *text);

#endif
