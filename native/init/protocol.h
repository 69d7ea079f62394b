/* Frame types and limits of the host ↔ guest protocol (PROTOCOL.md). */
#ifndef A3S_INIT_PROTOCOL_H
#define A3S_INIT_PROTOCOL_H

enum frame_type {
  FRAME_START = 1,
  FRAME_STDIN = 2,
  FRAME_STDIN_EOF = 3,
  FRAME_SIGNAL = 4,
  FRAME_RESIZE = 5,
  FRAME_SHUTDOWN = 6,

  FRAME_READY = 16,
  FRAME_STDOUT = 17,
  FRAME_STDERR = 18,
  FRAME_EXIT = 19,
  FRAME_ERROR = 20,
};

#define PROTOCOL_VERSION 1
#define FRAME_HEADER_SIZE 9
/* Larger host frames are discarded: they would let one frame pin unbounded memory in PID 1. */
#define MAX_HOST_PAYLOAD (1024 * 1024)
/* Stream 0 is no process: ERROR on stream 0 means the VM failed to boot. */
#define BOOT_STREAM 0
#define MAIN_STREAM 1

/* ERROR codes, as a shell reports them. */
#define CODE_NOT_FOUND 127
#define CODE_NOT_EXECUTABLE 126
#define CODE_START_FAILED 125

#endif
