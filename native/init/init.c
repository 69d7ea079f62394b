/*
 * a3s-init: PID 1 of an a3s microVM.
 *
 * The host boots the guest kernel with an initramfs that holds only this program. It mounts the
 * box's root filesystem and volumes, switches into that root, tells the host it is READY on the
 * control port, and then runs the box's processes as the host asks (PROTOCOL.md).
 */
#include <stdio.h>
#include <unistd.h>

#include "boot.h"
#include "protocol.h"
#include "supervisor.h"
#include "util.h"

static void send_ready(struct channel *channel) {
  char payload[32];
  snprintf(payload, sizeof payload, "{\"version\":%d}", PROTOCOL_VERSION);
  channel_send_text(channel, FRAME_READY, BOOT_STREAM, payload);
}

int main(void) {
  if (getpid() != 1) {
    fputs("a3s-init is the init (PID 1) of an a3s microVM; it is not run by hand\n", stderr);
    return 2;
  }
  struct supervisor supervisor;
  if (supervisor_init(&supervisor) != 0) log_msg("signalfd: %m");
  if (boot_mount_kernel_filesystems() != 0) power_off(NULL);

  struct boot_config config;
  boot_read_config(&config);
  /* Opened before the switch of root: the descriptor keeps working after /dev moves. */
  if (channel_open(&supervisor.channel, config.port) != 0) power_off(NULL);

  char error[512];
  int booted = boot_switch_root(&config, error, sizeof error);
  channel_wait_host(&supervisor.channel);
  if (booted != 0) {
    log_msg("%s", error);
    channel_send_error(&supervisor.channel, BOOT_STREAM, CODE_START_FAILED, error);
    power_off(&supervisor.channel);
  }
  send_ready(&supervisor.channel);
  supervisor_run(&supervisor);
}
