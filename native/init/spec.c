#include "spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* uid_t and gid_t are 32-bit; (uid_t)-1 means "unchanged" to the kernel, so it is refused. */
#define MAX_ID 4294967294LL
#define MAX_GROUPS 65536

static bool is_plain_string(const struct json *value) {
  return value && value->type == JSON_STRING && strlen(value->string) == value->string_length;
}

/* A JSON array of strings as a NULL-terminated vector; an absent member gives an empty vector. */
static int string_vector(const struct json *spec, const char *key, char ***out, char *error, size_t size) {
  const struct json *array = json_member(spec, key);
  size_t count = array ? array->count : 0;
  if (array && array->type != JSON_ARRAY) {
    snprintf(error, size, "%s must be an array of strings", key);
    return -1;
  }
  *out = xmalloc((count + 1) * sizeof **out);
  (*out)[0] = NULL;
  for (size_t i = 0; i < count; i++) {
    if (!is_plain_string(&array->items[i])) {
      snprintf(error, size, "%s must be an array of strings without NUL", key);
      return -1;
    }
    (*out)[i] = xstrdup(array->items[i].string);
    (*out)[i + 1] = NULL;
  }
  return 0;
}

static int optional_string(const struct json *spec, const char *key, const char *fallback, char **out, char *error,
                           size_t size) {
  const struct json *value = json_member(spec, key);
  if (!value || value->type == JSON_NULL) {
    *out = fallback ? xstrdup(fallback) : NULL;
    return 0;
  }
  if (!is_plain_string(value)) {
    snprintf(error, size, "%s must be a string", key);
    return -1;
  }
  *out = xstrdup(value->string);
  return 0;
}

static int optional_bool(const struct json *spec, const char *key, bool *out, char *error, size_t size) {
  const struct json *value = json_member(spec, key);
  *out = false;
  if (!value || value->type == JSON_NULL) return 0;
  if (value->type != JSON_BOOL) {
    snprintf(error, size, "%s must be a boolean", key);
    return -1;
  }
  *out = value->boolean;
  return 0;
}

static int optional_id(const struct json *spec, const char *key, uint32_t *out, char *error, size_t size) {
  const struct json *value = json_member(spec, key);
  int64_t id = 0;
  if (value && value->type != JSON_NULL && !json_integer(value, 0, MAX_ID, &id)) {
    snprintf(error, size, "%s must be an integer id", key);
    return -1;
  }
  *out = (uint32_t)id;
  return 0;
}

static int parse_groups(const struct json *spec, struct process_spec *out, char *error, size_t size) {
  const struct json *array = json_member(spec, "groups");
  if (!array || array->type == JSON_NULL) return 0;
  if (array->type != JSON_ARRAY || array->count > MAX_GROUPS) {
    snprintf(error, size, "groups must be an array of at most %d ids", MAX_GROUPS);
    return -1;
  }
  out->groups = xmalloc(array->count * sizeof *out->groups);
  for (size_t i = 0; i < array->count; i++) {
    int64_t id;
    if (!json_integer(&array->items[i], 0, MAX_ID, &id)) {
      snprintf(error, size, "groups must hold integer ids");
      return -1;
    }
    out->groups[out->group_count++] = (gid_t)id;
  }
  return 0;
}

static int parse_fields(const struct json *spec, struct process_spec *out, char *error, size_t size) {
  if (!spec || spec->type != JSON_OBJECT) {
    snprintf(error, size, "the process spec is not a JSON object");
    return -1;
  }
  uint32_t uid, gid;
  if (string_vector(spec, "args", &out->args, error, size) || string_vector(spec, "env", &out->env, error, size) ||
      optional_string(spec, "cwd", "/", &out->cwd, error, size) ||
      optional_string(spec, "hostname", NULL, &out->hostname, error, size) ||
      optional_id(spec, "uid", &uid, error, size) || optional_id(spec, "gid", &gid, error, size) ||
      parse_groups(spec, out, error, size) || optional_bool(spec, "tty", &out->tty, error, size) ||
      optional_bool(spec, "stdin", &out->open_stdin, error, size))
    return -1;
  out->uid = uid;
  out->gid = gid;
  if (!out->args[0] || !out->args[0][0]) {
    snprintf(error, size, "args must name a program");
    return -1;
  }
  if (out->cwd[0] != '/') {
    snprintf(error, size, "cwd must be an absolute path");
    return -1;
  }
  return 0;
}

int spec_parse(const uint8_t *payload, size_t length, struct process_spec *spec, char *error, size_t error_size) {
  *spec = (struct process_spec){0};
  struct json *root = json_parse(payload, length);
  if (!root) {
    snprintf(error, error_size, "the process spec is not valid JSON");
    return -1;
  }
  int result = parse_fields(root, spec, error, error_size);
  json_free(root);
  if (result != 0) spec_free(spec);
  return result;
}

static void free_vector(char **vector) {
  if (!vector) return;
  for (char **item = vector; *item; item++) free(*item);
  free(vector);
}

void spec_free(struct process_spec *spec) {
  free_vector(spec->args);
  free_vector(spec->env);
  free(spec->cwd);
  free(spec->hostname);
  free(spec->groups);
  *spec = (struct process_spec){0};
}
