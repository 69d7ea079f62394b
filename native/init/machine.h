/*
 * The VM-wide settings that stream 1's START carries besides the process (PROTOCOL.md): the upper
 * layer and volumes of a deferred root, the host's wall clock, and entropy. A guest restored from a
 * snapshot wakes up with the clock and the random state of the moment it was saved; these reset both.
 */
#ifndef A3S_INIT_MACHINE_H
#define A3S_INIT_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"

#define MAX_SEED_BYTES 64

struct machine_settings {
  struct root_plan root; /* `defaults`, with what START says instead */
  bool has_time;
  int64_t time_ms; /* Unix time in milliseconds */
  uint8_t seed[MAX_SEED_BYTES];
  size_t seed_length;
};

/* Reads "upper", "volumes", "time" and "seed" of a START payload; on failure says why and returns -1. */
int machine_parse(const uint8_t *payload, size_t length, const struct root_plan *defaults,
                  struct machine_settings *settings, char *error, size_t error_size);

/* Sets the clock and feeds the seed to the kernel's random generator (and reseeds it). */
void machine_apply(const struct machine_settings *settings);

#endif
