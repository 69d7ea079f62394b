import { describe, expect, test } from "bun:test";
import { A3sError } from "../../core/errors.ts";
import { openaiError, openaiErrorBody } from "./http.ts";

describe("OpenAI error shape", () => {
  test("a bad request is an invalid_request_error, in a response and inside a stream alike", async () => {
    const err = new A3sError("usage", "the prompt is 9000 tokens, more than the 3687 that fit");
    expect(openaiErrorBody(err)).toEqual({
      error: { message: err.message, type: "invalid_request_error", param: null, code: null },
    });
    const response = openaiError(err);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(openaiErrorBody(err));
  });

  test("a missing model is model_not_found; a full queue and a crash are server-side", () => {
    expect(openaiErrorBody(new A3sError("not_found", "model 'x' not found")).error).toMatchObject({
      type: "not_found_error",
      code: "model_not_found",
    });
    expect(openaiErrorBody(new A3sError("busy", "server busy")).error.type).toBe("server_error");
    expect(openaiErrorBody(new Error("llama.cpp crashed")).error.type).toBe("api_error");
  });
});
