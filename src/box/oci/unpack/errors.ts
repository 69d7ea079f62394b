/** The two ways a layer fails to unpack on its own account: its bytes are broken, or its entries are unsafe. */
import { A3sError } from "../../../core/errors.ts";

export function corrupt(detail: string, cause?: unknown): A3sError {
  return new A3sError("integrity", `layer is truncated or corrupt: ${detail}`, {
    cause,
    hint: "pull the image again; the blob on disk does not match what the registry served",
  });
}

export function hostile(message: string): A3sError {
  return new A3sError("integrity", message, {
    hint: "the image contains an unsafe layer and was not unpacked",
  });
}
