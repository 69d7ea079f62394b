/*
 * Boot: the kernel's filesystems, the kernel command line, and the switch from the initramfs to
 * the box's root (read-only image + writable upper layer, joined by overlayfs) with its volumes.
 * A deferred boot (a3s.defer=1) mounts only the image at boot and assembles the rest when the host
 * starts the box, so a parked guest has touched neither the upper device nor any volume.
 */
#ifndef A3S_INIT_BOOT_H
#define A3S_INIT_BOOT_H

#include <stdbool.h>
#include <stddef.h>

#define MAX_VOLUMES 32

/* The a3s.* keys of the kernel command line (PROTOCOL.md). */
struct boot_config {
  char rootfs[256];
  char upper[256];
  char volumes[2048];
  char port[64];
  bool defer;
};

struct volume {
  char tag[64];
  char path[1024];
  bool read_only;
};

/* What goes on top of the image: the writable layer and the volumes. */
struct root_plan {
  char upper[256]; /* "tmpfs" or a device with an ext4 filesystem */
  struct volume volumes[MAX_VOLUMES];
  size_t volume_count;
};

/* Mounts /proc, /sys, /dev (+ pts, shm) and points stdin/stdout/stderr at the console. */
int boot_mount_kernel_filesystems(void);

/* Reads /proc/cmdline; keys not given keep their defaults (upper: tmpfs, port: a3s.0). */
void boot_read_config(struct boot_config *config);

/* The command line's upper layer and volumes (a3s.volumes's tag:/path:mode list) as a plan. */
int boot_plan_from_config(const struct boot_config *config, struct root_plan *plan, char *error, size_t error_size);

/* Mounts the image read-only on /lower; on failure, says why in `error` and returns -1. */
int boot_mount_lower(const struct boot_config *config, char *error, size_t error_size);

/* With the image on /lower: mounts the upper layer and the overlay, makes it "/", mounts the volumes. */
int boot_assemble_root(const struct root_plan *plan, char *error, size_t error_size);

#endif
