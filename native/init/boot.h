/*
 * Boot: the kernel's filesystems, the kernel command line, and the switch from the initramfs to
 * the box's root (read-only image + writable upper layer, joined by overlayfs) with its volumes.
 */
#ifndef A3S_INIT_BOOT_H
#define A3S_INIT_BOOT_H

#include <stddef.h>

/* The a3s.* keys of the kernel command line (PROTOCOL.md). */
struct boot_config {
  char rootfs[256];
  char upper[256];
  char volumes[2048];
  char port[64];
};

/* Mounts /proc, /sys, /dev (+ pts, shm) and points stdin/stdout/stderr at the console. */
int boot_mount_kernel_filesystems(void);

/* Reads /proc/cmdline; keys not given keep their defaults (upper: tmpfs, port: a3s.0). */
void boot_read_config(struct boot_config *config);

/* Mounts the box's root and makes it "/"; on failure, says why in `error` and returns -1. */
int boot_switch_root(const struct boot_config *config, char *error, size_t error_size);

#endif
