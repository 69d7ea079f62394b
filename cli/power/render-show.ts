/**
 * `a3s power show` as text, laid out like `ollama show`: indented sections (Model, Capabilities,
 * Projector, Parameters, Metadata and Tensors with -v, System, License), two-column rows four spaces
 * apart, long texts cut to their first two lines.
 */
import { humanNumber, type ShowResponse } from "../../src/power/show.ts";

type Rows = string[][];

function section(title: string, rows: Rows): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const lines = rows.map((row) =>
    `    ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("    ")}`.trimEnd(),
  );
  return `  ${title}\n${lines.join("\n")}\n\n`;
}

/** The first `n` non-empty lines, then "..." when there were more. */
function head(text: string, n: number): Rows {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const rows = lines.slice(0, n).map((line) => [line]);
  if (lines.length > n) rows.push(["..."]);
  return rows;
}

function numberOf(value: unknown): string | undefined {
  return typeof value === "number" ? String(value) : undefined;
}

function modelRows(show: ShowResponse): Rows {
  const info = show.model_info;
  if (!info) {
    return [
      ["architecture", show.details.family],
      ["parameters", show.details.parameter_size],
      ["quantization", show.details.quantization_level],
    ];
  }
  const architecture = typeof info["general.architecture"] === "string" ? info["general.architecture"] : "";
  const count = info["general.parameter_count"];
  const parameters = show.details.parameter_size || (typeof count === "number" ? humanNumber(count) : "");
  const rows: Rows = [];
  if (architecture) rows.push(["architecture", architecture]);
  if (parameters) rows.push(["parameters", parameters]);
  const context = numberOf(info[`${architecture}.context_length`]);
  if (context) rows.push(["context length", context]);
  const embedding = numberOf(info[`${architecture}.embedding_length`]);
  if (embedding) rows.push(["embedding length", embedding]);
  rows.push(["quantization", show.details.quantization_level]);
  return rows;
}

function metadataValue(value: unknown): string {
  if (Array.isArray(value)) {
    const shown = value.slice(0, 3).map(String).join(" ");
    return value.length > 3 ? `[${shown} ...+${value.length - 3} more]` : `[${shown}]`;
  }
  return value === null ? "[]" : String(value);
}

export function formatShow(show: ShowResponse, verbose: boolean): string {
  let text = section("Model", modelRows(show));
  if (show.capabilities.length > 0)
    text += section(
      "Capabilities",
      show.capabilities.map((c) => [c]),
    );
  const projector = show.projector_info;
  if (projector) {
    const rows: Rows = [];
    const architecture = projector["general.architecture"];
    if (typeof architecture === "string") rows.push(["architecture", architecture]);
    const count = projector["general.parameter_count"];
    if (typeof count === "number") rows.push(["parameters", humanNumber(count)]);
    text += section("Projector", rows);
  }
  if (show.parameters) {
    const rows = show.parameters
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => {
        const [key = "", ...rest] = line.trim().split(/\s+/);
        return [key, rest.join(" ")];
      });
    text += section("Parameters", rows);
  }
  if (verbose && show.model_info) {
    const rows = Object.keys(show.model_info)
      .sort()
      .map((key) => [key, metadataValue(show.model_info?.[key])]);
    text += section("Metadata", rows);
  }
  if (verbose && show.tensors && show.tensors.length > 0) {
    text += section(
      "Tensors",
      show.tensors.map((t) => [t.name, t.type, `[${t.shape.join(" ")}]`]),
    );
  }
  if (show.system) text += section("System", head(show.system, 2));
  if (show.license) text += section("License", head(show.license, 2));
  return text;
}
