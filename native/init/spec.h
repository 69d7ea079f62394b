/* The process spec carried by START (PROTOCOL.md), parsed into C strings and ids. */
#ifndef A3S_INIT_SPEC_H
#define A3S_INIT_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct process_spec {
  char **args; /* NULL-terminated, at least one */
  char **env;  /* NULL-terminated "NAME=value" */
  char *cwd;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t group_count;
  bool tty;
  bool open_stdin; /* "stdin" in JSON */
  char *hostname;  /* NULL when absent */
};

/* Fills `spec` from a START payload; on failure writes why to `error` and returns -1. */
int spec_parse(const uint8_t *payload, size_t length, struct process_spec *spec, char *error, size_t error_size);
void spec_free(struct process_spec *spec);

#endif
