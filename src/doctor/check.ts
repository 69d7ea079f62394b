/** The shape of one doctor finding, shared by every subsystem's checks. */

export const SUBSYSTEMS = ["core", "box", "power", "code", "cron", "search"] as const;
export type Subsystem = (typeof SUBSYSTEMS)[number];

/** ok: works; warn: works partly or needs attention; error: a3s cannot work; info: nothing to judge. */
export const CHECK_STATUSES = ["ok", "warn", "error", "info"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface Check {
  subsystem: Subsystem;
  name: string;
  status: CheckStatus;
  summary: string;
  details?: Record<string, unknown>;
}

/** A reporter for one check, so every finding lists its fields in the order people read them. */
export function reporter(subsystem: Subsystem, name: string) {
  return (status: CheckStatus, summary: string, details?: Record<string, unknown>): Check =>
    details === undefined
      ? { subsystem, name, status, summary }
      : { subsystem, name, status, summary, details };
}
