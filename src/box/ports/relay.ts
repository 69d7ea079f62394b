/**
 * The relay: two sockets joined, with backpressure and half-close. Bytes read on one side are
 * written to the other; what the other does not accept yet is queued and the reading side paused
 * until it drains. A FIN is passed on once everything before it is written, so half-closed
 * protocols keep working, and a side that breaks resets the other.
 */
import type { Socket, SocketHandler } from "bun";
import { logger } from "../../core/log.ts";

const log = logger("box.ports");

/** One side of a relayed connection. */
export interface End {
  /** Undefined until the connection to this side is open. */
  socket: Socket<End> | undefined;
  peer: End | undefined;
  /** Bytes for this socket that it has not accepted yet; while any wait, the peer is paused. */
  queue: Uint8Array[];
  /** The peer sent FIN: shut this socket's write side once the queue is written. */
  finPending: boolean;
  writeShut: boolean;
  closed: boolean;
  /** Helper side only: the target-port header read so far (undefined once complete). */
  header?: Uint8Array | undefined;
}

export function newEnd(socket?: Socket<End>): End {
  return { socket, peer: undefined, queue: [], finPending: false, writeShut: false, closed: false };
}

export function link(a: End, b: End): void {
  a.peer = b;
  b.peer = a;
}

/** Writes `chunk` (read from `from`) to `to`; what does not fit waits, and `from` stops reading. */
export function send(to: End, from: End, chunk: Uint8Array): void {
  if (to.closed || to.writeShut) {
    abort(from);
    return;
  }
  if (to.socket === undefined || to.queue.length > 0) {
    to.queue.push(copy(chunk));
    from.socket?.pause();
    return;
  }
  const written = to.socket.write(chunk);
  if (written < 0) {
    abort(from);
  } else if (written < chunk.length) {
    to.queue.push(copy(chunk.subarray(written)));
    from.socket?.pause();
  }
}

/** Writes what waits for `to`; once all is written, passes on a pending FIN and resumes the peer. */
function flush(to: End): void {
  const socket = to.socket;
  if (!socket || to.closed) return;
  while (to.queue.length > 0) {
    const head = to.queue[0] as Uint8Array;
    const written = socket.write(head);
    if (written < 0) {
      abort(to.peer);
      return;
    }
    if (written < head.length) {
      to.queue[0] = head.subarray(written);
      return;
    }
    to.queue.shift();
  }
  if (to.finPending) shutdownWrite(to);
  to.peer?.socket?.resume();
}

/** The peer of `to` will send nothing more: FIN to `to`, after what it still has to receive. */
export function finish(to: End): void {
  if (to.closed || to.writeShut) return;
  if (to.socket && to.queue.length === 0) shutdownWrite(to);
  else to.finPending = true;
}

function shutdownWrite(end: End): void {
  end.finPending = false;
  end.writeShut = true;
  end.socket?.shutdown();
}

/** Closes `end` at once (a reset): the connection is broken. */
export function abort(end: End | undefined): void {
  if (!end || end.closed) return;
  end.closed = true;
  end.socket?.terminate();
}

export function onClose(socket: Socket<End>, error?: Error): void {
  const end = socket.data;
  if (!end) return;
  end.closed = true;
  // Bytes that could not be delivered here make the rest of the stream meaningless: reset the peer.
  if (error || end.queue.length > 0) abort(end.peer);
  else if (end.peer) finish(end.peer);
}

/** The handlers of every relayed socket; connection failures are handled where Bun.connect is called. */
export const relay: SocketHandler<End> = {
  open(socket) {
    const end = socket.data;
    end.socket = socket;
    if (end.closed) socket.terminate();
    else flush(end);
  },
  data(socket, chunk) {
    const end = socket.data;
    if (end.peer) send(end.peer, end, chunk);
  },
  drain(socket) {
    flush(socket.data);
  },
  end(socket) {
    if (socket.data.peer) finish(socket.data.peer);
  },
  close: onClose,
  error(socket, error) {
    log.debug("forwarded connection failed", { error });
    abort(socket.data?.peer);
    abort(socket.data);
  },
};

/** Bun hands out Buffers, whose slice() is a view; what is kept for later must be a copy. */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
