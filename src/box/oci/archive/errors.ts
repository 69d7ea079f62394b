/** How save, load and import say they stopped: interrupted, or refused an archive they cannot trust. */
import { A3sError } from "../../../core/errors.ts";

export function interrupted(): A3sError {
  return new A3sError("interrupted", "interrupted; nothing was recorded");
}

export function unsafe(message: string): A3sError {
  return new A3sError("integrity", message, { hint: "the archive is damaged or unsafe; nothing was loaded" });
}
