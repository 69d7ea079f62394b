import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../tests/expect-error.ts";
import {
  CHATML,
  COMMAND_R,
  DEEPSEEK,
  GEMMA_INSTRUCT,
  LLAMA3_INSTRUCT,
  LLAMA3_LEGACY,
  MISTRAL_INSTRUCT,
  PHI3,
  PHI3_LEGACY,
} from "../../tests/fixtures/ollama-templates.ts";
import {
  type ChatMessage,
  parseTemplate,
  renderPrompt,
  type Tool,
  usesMessages,
  usesTools,
} from "./template.ts";

// The conversations of Ollama's template_test.go; expectations are its testdata files.
const USER: ChatMessage[] = [{ role: "user", content: "Hello, how are you?" }];
const USER_ASSISTANT_USER: ChatMessage[] = [
  ...USER,
  { role: "assistant", content: "I'm doing great. How can I help you today?" },
  { role: "user", content: "I'd like to show off how chat templating works!" },
];
const SYSTEM_USER_ASSISTANT_USER: ChatMessage[] = [
  { role: "system", content: "You are a helpful assistant." },
  ...USER_ASSISTANT_USER,
];

const WEATHER: Tool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get current weather information for a location",
    parameters: {
      type: "object",
      required: ["location"],
      properties: {
        location: { type: "string", description: "The city and state, e.g. San Francisco, CA" },
        unit: {
          type: "string",
          description: "The unit of temperature to use",
          enum: ["celsius", "fahrenheit"],
        },
      },
    },
  },
};
const WEATHER_CALL: ChatMessage = {
  role: "assistant",
  content: "",
  tool_calls: [{ function: { name: "get_weather", arguments: { location: "San Francisco, CA" } } }],
};
const WEATHER_RESULT: ChatMessage = {
  role: "tool",
  content: '{"temperature": 22, "condition": "Sunny", "humidity": 45, "wind_speed": 10}',
};

describe("Ollama's built-in templates", () => {
  test("llama3-instruct", () => {
    expect(renderPrompt(LLAMA3_INSTRUCT, { messages: USER })).toBe(
      "<|start_header_id|>user<|end_header_id|>\n\nHello, how are you?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
    expect(renderPrompt(LLAMA3_INSTRUCT, { messages: SYSTEM_USER_ASSISTANT_USER })).toBe(
      "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\nHello, how are you?<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\nI'm doing great. How can I help you today?<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\nI'd like to show off how chat templating works!<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  test("the legacy llama3 template renders turn by turn to the same prompt", () => {
    for (const messages of [USER, USER_ASSISTANT_USER, SYSTEM_USER_ASSISTANT_USER]) {
      expect(renderPrompt(LLAMA3_LEGACY, { messages })).toBe(renderPrompt(LLAMA3_INSTRUCT, { messages }));
    }
  });

  test("mistral-instruct folds the system prompt into the first [INST]", () => {
    expect(renderPrompt(MISTRAL_INSTRUCT, { messages: USER })).toBe("[INST] Hello, how are you?[/INST]");
    expect(renderPrompt(MISTRAL_INSTRUCT, { messages: USER_ASSISTANT_USER })).toBe(
      "[INST] Hello, how are you?[/INST] I'm doing great. How can I help you today?</s>[INST] I'd like to show off how chat templating works![/INST]",
    );
    expect(renderPrompt(MISTRAL_INSTRUCT, { messages: SYSTEM_USER_ASSISTANT_USER })).toBe(
      "[INST] You are a helpful assistant.\n\nHello, how are you?[/INST] I'm doing great. How can I help you today?</s>[INST] I'd like to show off how chat templating works![/INST]",
    );
  });

  test("chatml (qwen)", () => {
    expect(renderPrompt(CHATML, { messages: SYSTEM_USER_ASSISTANT_USER })).toBe(
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello, how are you?<|im_end|>\n" +
        "<|im_start|>assistant\nI'm doing great. How can I help you today?<|im_end|>\n" +
        "<|im_start|>user\nI'd like to show off how chat templating works!<|im_end|>\n<|im_start|>assistant\n",
    );
  });

  test("gemma-instruct: system text joins the next user turn; continue skips the system message", () => {
    expect(renderPrompt(GEMMA_INSTRUCT, { messages: USER })).toBe(
      "<start_of_turn>user\nHello, how are you?<end_of_turn>\n<start_of_turn>model\n",
    );
    expect(renderPrompt(GEMMA_INSTRUCT, { messages: SYSTEM_USER_ASSISTANT_USER })).toBe(
      "<start_of_turn>user\nYou are a helpful assistant.\nHello, how are you?<end_of_turn>\n" +
        "<start_of_turn>model\nI'm doing great. How can I help you today?<end_of_turn>\n" +
        "<start_of_turn>user\nI'd like to show off how chat templating works!<end_of_turn>\n<start_of_turn>model\n",
    );
  });

  test("gemma: two system messages (not adjacent) are joined by printf", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "A" },
      { role: "user", content: "u" },
      { role: "system", content: "B" },
      { role: "system", content: "C" },
      { role: "user", content: "v" },
    ];
    expect(renderPrompt(GEMMA_INSTRUCT, { messages })).toBe(
      "<start_of_turn>user\nA\nu<end_of_turn>\n<start_of_turn>user\nB\n\nC\nv<end_of_turn>\n<start_of_turn>model\n",
    );
  });

  test("phi-3, and its legacy form", () => {
    const expected =
      "<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello, how are you?<|end|>\n" +
      "<|assistant|>\nI'm doing great. How can I help you today?<|end|>\n" +
      "<|user|>\nI'd like to show off how chat templating works!<|end|>\n<|assistant|>\n";
    expect(renderPrompt(PHI3, { messages: SYSTEM_USER_ASSISTANT_USER })).toBe(expected);
    expect(renderPrompt(PHI3_LEGACY, { messages: USER })).toBe(
      "<|user|>\nHello, how are you?<|end|>\n<|assistant|>\n",
    );
  });

  test("deepseek: system, $last and the closing assistant turn", () => {
    expect(renderPrompt(DEEPSEEK, { messages: SYSTEM_USER_ASSISTANT_USER })).toBe(
      "You are a helpful assistant.<｜User｜>Hello, how are you?<｜Assistant｜>I'm doing great. How can I help you today?<｜end▁of▁sentence｜><｜User｜>I'd like to show off how chat templating works!<｜Assistant｜>",
    );
  });
});

describe("tools", () => {
  test("command-r: tool definitions from the properties map, sorted by name", () => {
    expect(renderPrompt(COMMAND_R, { messages: [], tools: [WEATHER] })).toBe(
      "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|># Safety Preamble\nThe instructions in this section override those in the task description and style guide sections. Don't answer questions that are harmful or immoral.\n\n# System Preamble\n## Basic Rules\nYou are a powerful conversational AI trained by Cohere to help people. You are augmented by a number of tools, and your job is to use and consume the output of these tools to best help the user. You will see a conversation history between yourself and a user, ending with an utterance from the user. You will then see a specific instruction instructing you what kind of response to generate. When you answer the user's requests, you cite your sources in your answers, according to those instructions.\n\n\n\n## Available Tools\nHere is a list of tools that you have available to you:\n\n```python\ndef get_weather(location: string, unit: string, ) -> List[Dict]:\n    '''Get current weather information for a location\n\n    Args:\n        location (string): The city and state, e.g. San Francisco, CA\n        unit (string): The unit of temperature to use\n    '''\n    pass\n```<|END_OF_TURN_TOKEN|><|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>\n",
    );
  });

  test("command-r: a tool call prints its arguments as JSON; a tool result is a system turn", () => {
    expect(renderPrompt(COMMAND_R, { messages: [WEATHER_CALL] })).toBe(
      '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>\nAction: ```json\n[\n    {\n        "tool_name": "get_weather",\n        "parameters": {"location":"San Francisco, CA"}\n    }\n]```<|END_OF_TURN_TOKEN|><|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>\n',
    );
    expect(renderPrompt(COMMAND_R, { messages: [WEATHER_RESULT] })).toBe(
      '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|><results>\nconsole_output: {"temperature": 22, "condition": "Sunny", "humidity": 45, "wind_speed": 10}\n</results><|END_OF_TURN_TOKEN|><|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>\n',
    );
  });

  test("deepseek: `{{ .Function }}` prints the function as Go's JSON", () => {
    expect(renderPrompt(DEEPSEEK, { messages: [], tools: [WEATHER] })).toBe(
      '\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{"name":"get_weather","description":"Get current weather information for a location","parameters":{"type":"object","required":["location"],"properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","description":"The unit of temperature to use","enum":["celsius","fahrenheit"]}}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags.',
    );
  });

  test("deepseek: tool calls and tool results", () => {
    expect(renderPrompt(DEEPSEEK, { messages: [WEATHER_CALL] })).toBe(
      '<｜Assistant｜>\n<｜tool▁calls▁begin｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"location":"San Francisco, CA"}\n```<｜tool▁call▁end｜>\n<｜tool▁calls▁end｜><｜end▁of▁sentence｜>',
    );
    expect(renderPrompt(DEEPSEEK, { messages: [WEATHER_RESULT] })).toBe(
      '\n<｜tool▁output▁begin｜>{"temperature": 22, "condition": "Sunny", "humidity": 45, "wind_speed": 10}<｜tool▁output▁end｜>\n<｜Assistant｜>',
    );
  });

  test("deepseek: think=false closes an empty think block after the last user turn", () => {
    expect(renderPrompt(DEEPSEEK, { messages: USER, think: false })).toBe(
      "<｜User｜>Hello, how are you?<｜Assistant｜><think> </think>\n    ",
    );
    expect(renderPrompt(DEEPSEEK, { messages: USER, think: true })).toBe(
      "<｜User｜>Hello, how are you?<｜Assistant｜>",
    );
  });

  test("JSON in prompts escapes <, > and & as Go's encoding/json does", () => {
    const template =
      "{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Arguments }}|{{ json .Function.Arguments }}{{ end }}{{ end }}";
    const call: ChatMessage = {
      role: "assistant",
      content: "",
      tool_calls: [{ function: { name: "f", arguments: { z: 1, a: "<b>&" } } }],
    };
    const json = '{"a":"\\u003cb\\u003e\\u0026","z":1}';
    expect(renderPrompt(template, { messages: [call] })).toBe(`${json}|${json}`);
  });

  test("$.Tools prints as a JSON array; toTypeScriptType reads a property's types", () => {
    const template =
      "{{ .Tools }}\n{{ range .Tools }}{{ range $k, $v := .Function.Parameters.Properties }}{{ $k }}: {{ toTypeScriptType $v }};{{ end }}{{ end }}{{ range .Messages }}{{ end }}";
    const tool: Tool = {
      type: "function",
      function: {
        name: "f",
        parameters: {
          type: "object",
          properties: { n: { type: ["integer", "null"] }, s: { type: "string" }, x: {} },
        },
      },
    };
    expect(renderPrompt(template, { messages: [], tools: [tool] })).toBe(
      '[{"type":"function","function":{"name":"f","description":"","parameters":{"type":"object","properties":{"n":{"type":["integer","null"]},"s":{"type":"string"},"x":{}}}}}]\nn: number | null;s: string;x: any;',
    );
  });
});

describe("execution semantics", () => {
  test("capabilities: .Messages and .Tools, through $ too", () => {
    expect(usesMessages(parseTemplate(CHATML))).toBe(true);
    expect(usesTools(parseTemplate(CHATML))).toBe(false);
    expect(usesTools(parseTemplate(COMMAND_R))).toBe(true);
    expect(usesTools(parseTemplate("{{ range .Messages }}{{ if $.Tools }}x{{ end }}{{ end }}"))).toBe(true);
    expect(usesMessages(parseTemplate(PHI3_LEGACY))).toBe(false);
  });

  test("consecutive messages of one role merge; all system messages reach .System", () => {
    const template = "{{ .System }}|{{ range .Messages }}{{ .Role }}={{ .Content }};{{ end }}";
    const messages: ChatMessage[] = [
      { role: "system", content: "s1" },
      { role: "user", content: "a" },
      { role: "user", content: "b" },
      { role: "tool", content: "t1" },
      { role: "tool", content: "t2" },
      { role: "system", content: "s2" },
    ];
    expect(renderPrompt(template, { messages })).toBe(
      "s1\n\ns2|system=s1;user=a\n\nb;tool=t1;tool=t2;system=s2;",
    );
  });

  test("the model's system prompt is used unless the conversation brings one", () => {
    expect(renderPrompt(CHATML, { messages: USER, system: "Be brief." })).toBe(
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello, how are you?<|im_end|>\n<|im_start|>assistant\n",
    );
    expect(renderPrompt(CHATML, { messages: SYSTEM_USER_ASSISTANT_USER, system: "Be brief." })).not.toContain(
      "Be brief.",
    );
  });

  test("legacy: a template without .Response gets one appended; the last turn is cut at it", () => {
    expect(renderPrompt("{{ .Prompt }}", { messages: USER_ASSISTANT_USER })).toBe(
      "Hello, how are you?I'm doing great. How can I help you today?I'd like to show off how chat templating works!",
    );
    const template = "[INST] {{ .Prompt }}[/INST] {{ .Response }}</s>";
    expect(
      renderPrompt(template, {
        messages: [...USER, { role: "assistant", content: "My name is" }],
      }),
    ).toBe("[INST] Hello, how are you?[/INST] My name is");
  });

  test("legacy: a system message after a turn starts a new turn", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "u1" },
      { role: "system", content: "s" },
      { role: "user", content: "u2" },
    ];
    expect(renderPrompt("<{{ .System }}|{{ .Prompt }}|{{ .Response }}>", { messages })).toBe(
      "<|u1|>" + "<s|u2|",
    );
  });

  test("legacy: a pipeline that loses a command at the cut is dropped whole", () => {
    expect(renderPrompt("{{ .Prompt }}:{{ .Response | print }}.", { messages: USER })).toBe(
      "Hello, how are you?:",
    );
  });

  test("images become [img-N] tags", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "what is this?", images: ["a"] },
      { role: "user", content: "and [img] here", images: ["b"] },
    ];
    expect(renderPrompt("{{ range .Messages }}{{ .Content }}{{ end }}", { messages })).toBe(
      "[img-0]what is this?\n\nand [img-1] here",
    );
  });

  test("think flags", () => {
    const template = "{{ .Think }} {{ .ThinkLevel }} {{ .IsThinkSet }}{{ range .Messages }}{{ end }}";
    expect(renderPrompt(template, { messages: [] })).toBe("false  false");
    expect(renderPrompt(template, { messages: [], think: true })).toBe("true medium true");
    expect(renderPrompt(template, { messages: [], think: "high" })).toBe("true high true");
  });

  test("currentDate uses the injected clock", () => {
    const now = () => new Date(2025, 0, 31, 12);
    expect(renderPrompt("{{ currentDate }} {{ yesterdayDate }}{{ .Messages }}", { messages: [], now })).toBe(
      "2025-01-31 2025-01-30[]",
    );
  });

  test("errors name the template position", () => {
    expectUsage(
      () => parseTemplate("{{ .Prompt }}\n{{ bogus . }}"),
      /template:2:1: function "bogus" not defined/,
    );
    expectUsage(
      () => renderPrompt("{{ range .Messages }}{{ .Nope }}{{ end }}", { messages: USER }),
      /can't evaluate field Nope/,
    );
  });
});
