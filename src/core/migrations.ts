/**
 * Every schema change of a3s.db, numbered from 1 and never edited once released: add a new entry.
 * Subsystems keep their table definitions here so the order across subsystems is explicit.
 */
import type { Database } from "bun:sqlite";

export interface Migration {
  version: number;
  name: string;
  up: string | ((db: Database) => void);
}

export const MIGRATIONS: readonly Migration[] = [];
