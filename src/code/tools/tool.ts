/**
 * How a built-in tool is declared. Tools throw A3sError for every failure the model can act on
 * (a missing file, an ambiguous edit); the wrapper turns those into error results, so the model
 * reads the message and hint while real bugs still surface as exceptions.
 */
import { isA3sError } from "../../core/errors.ts";
import type { Tool, ToolResult } from "../types.ts";

export function defineTool<Input>(tool: Tool<Input>): Tool<Input> {
  return {
    ...tool,
    async run(input, ctx): Promise<ToolResult> {
      try {
        return await tool.run(input, ctx);
      } catch (err) {
        if (!isA3sError(err)) throw err;
        return { content: errorText(err.message, err.hint), isError: true, summary: err.message };
      }
    },
  };
}

function errorText(message: string, hint: string | undefined): string {
  return hint === undefined ? message : `${message}\n(${hint})`;
}
