import { Command } from "commander";
import { A3sError } from "../src/core/errors.ts";
import type { CheckStatus, DoctorReport } from "../src/doctor/index.ts";
import { createContext } from "./context.ts";
import type { Output, Style } from "./output.ts";

export function doctorCommand(): Command {
  return new Command("doctor")
    .description("Report what a3s can use on this machine")
    .action(async (_options, command: Command) => {
      const { out, paths, env } = createContext(command);
      const { homeIsUnwritable, runDoctor } = await import("../src/doctor/index.ts");
      const report = await runDoctor({ paths, env });
      if (out.json) out.printJson(report);
      else printReport(out, report);
      if (!homeIsUnwritable(report)) return;
      const error = new A3sError("permission", `${paths.home} is not writable`, {
        hint: "use --home or A3S_HOME to choose another directory",
      });
      // A second JSON document would break parsers of the report: under --json the exit status says it.
      if (out.json) process.exitCode = error.exitCode;
      else throw error;
    });
}

const MARKS: Record<CheckStatus, { symbol: string; style?: Style }> = {
  ok: { symbol: "✓", style: "green" },
  warn: { symbol: "!", style: "yellow" },
  error: { symbol: "✗", style: "red" },
  info: { symbol: "•" },
};

/** One heading per subsystem and one line per check, as `flutter doctor` prints them. */
function printReport(out: Output, report: DoctorReport): void {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const subsystems = [...new Set(report.checks.map((check) => check.subsystem))];
  for (const subsystem of subsystems) {
    out.line(out.style("bold", subsystem));
    for (const check of report.checks.filter((c) => c.subsystem === subsystem)) {
      const { symbol, style } = MARKS[check.status];
      out.line(
        `  ${style ? out.style(style, symbol) : symbol} ${check.name.padEnd(width)}  ${check.summary}`,
      );
    }
    out.line();
  }
  out.line(`${out.style("bold", "isolation")}: ${report.isolation.mode} (${report.isolation.reason})`);
}
