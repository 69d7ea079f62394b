/*
 * a3s-init: PID 1 of an a3s microVM.
 *
 * The host boots the guest kernel with an initramfs that holds only this program. It mounts the
 * box's root filesystem and volumes, switches into that root, tells the host it is READY on the
 * control port, and then runs the box's processes as the host asks (PROTOCOL.md). With a3s.defer=1
 * it mounts only the image before READY and assembles the rest at START of stream 1, so the parked
 * guest can be saved as a snapshot and restored into many boxes.
 */
#include <stdio.h>
#include <unistd.h>

#include "boot.h"
#include "protocol.h"
#include "supervisor.h"
#include "util.h"

/* Mounts what must be there before READY: the whole root, or only the image when deferred. */
static int boot(struct supervisor *supervisor, const struct boot_config *config, char *error, size_t size) {
  if (boot_plan_from_config(config, &supervisor->plan, error, size) != 0 ||
      boot_mount_lower(config, error, size) != 0)
    return -1;
  supervisor->deferred = config->defer;
  return config->defer ? 0 : boot_assemble_root(&supervisor->plan, error, size);
}

int main(void) {
  if (getpid() != 1) {
    fputs("a3s-init is the init (PID 1) of an a3s microVM; it is not run by hand\n", stderr);
    return 2;
  }
  static struct supervisor supervisor;
  if (supervisor_init(&supervisor) != 0) log_msg("signalfd: %m");
  if (boot_mount_kernel_filesystems() != 0) power_off(NULL);

  struct boot_config config;
  boot_read_config(&config);
  /* Opened before the switch of root: the descriptor keeps working after /dev moves. */
  if (channel_open(&supervisor.channel, config.port) != 0) power_off(NULL);

  char error[512];
  int booted = boot(&supervisor, &config, error, sizeof error);
  channel_wait_host(&supervisor.channel);
  if (booted != 0) {
    log_msg("%s", error);
    channel_send_error(&supervisor.channel, BOOT_STREAM, CODE_START_FAILED, error);
    power_off(&supervisor.channel);
  }
  supervisor_send_ready(&supervisor);
  supervisor_run(&supervisor);
}
