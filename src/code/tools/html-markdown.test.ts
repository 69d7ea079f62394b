import { describe, expect, test } from "bun:test";
import { htmlToMarkdown } from "./html-markdown.ts";

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Streams &amp; Pipes — Docs</title>
  <style>body { color: red }</style>
  <script>window.analytics = "<p>not content</p>";</script>
</head>
<body>
  <nav><a href="/">Home</a> <a href="/docs">Docs</a></nav>
  <main>
    <h1>Streams &amp; <em>Pipes</em></h1>
    <p>A <strong>stream</strong> is an   abstract
       interface; see <a href="/api/stream?x=1&amp;y=2">the API</a> and <a href="#top">this</a>.</p>
    <h2 id="usage">Usage</h2>
    <pre><code class="language-js">const fs = require("fs");
if (a &lt; b) {
  fs.createReadStream("in").pipe(out);
}
</code></pre>
    <p>Inline <code>pipe()</code> returns the <i>destination</i>, <del>not</del> the source.<br>Next line.</p>
    <ul>
      <li>Readable
        <ul><li>flowing</li><li>paused</li></ul>
      </li>
      <li><p>Writable</p></li>
    </ul>
    <ol start="3"><li>third</li><li>fourth</li></ol>
    <blockquote><p>Streams are everywhere.</p><p>— someone</p></blockquote>
    <table>
      <thead><tr><th>Method</th><th>Returns</th></tr></thead>
      <tbody>
        <tr><td><code>read()</code></td><td>Buffer | null</td></tr>
        <tr><td>end</td></tr>
      </tbody>
    </table>
    <noscript>Enable JavaScript</noscript>
    <form><input value="search"><button>Go</button></form>
    <img src="/img/diagram.png" alt="Stream diagram"> <img src="data:image/png;base64,xx" alt="">
    <hr>
    <p>&copy; 2024 &nbsp; Node&#8209;docs</p>
  </main>
  <footer>Footer text outside main</footer>
</body>
</html>`;

describe("htmlToMarkdown", () => {
  test("a realistic documentation page", () => {
    const { title, markdown } = htmlToMarkdown(PAGE, "https://nodejs.org/en/docs/streams");
    expect(title).toBe("Streams & Pipes — Docs");
    expect(markdown).toBe(
      [
        "# Streams & *Pipes*",
        "A **stream** is an abstract interface; see [the API](https://nodejs.org/api/stream?x=1&y=2) and this.",
        "## Usage",
        '```js\nconst fs = require("fs");\nif (a < b) {\n  fs.createReadStream("in").pipe(out);\n}\n```',
        "Inline `pipe()` returns the *destination*, ~~not~~ the source.\nNext line.",
        "- Readable\n  - flowing\n  - paused\n- Writable",
        "3. third\n4. fourth",
        "> Streams are everywhere.\n>\n> — someone",
        "| Method | Returns |\n| --- | --- |\n| `read()` | Buffer \\| null |\n| end |  |",
        "![Stream diagram](https://nodejs.org/img/diagram.png)",
        "---",
        "© 2024 Node‑docs",
      ].join("\n\n"),
    );
  });

  test("without <main> the body is used; scripts, styles and nav are dropped", () => {
    const { markdown } = htmlToMarkdown(
      "<body><nav>menu</nav><div>Hello <b> world </b><script>x()</script></div><div><h3>Title</h3>text</div></body>",
    );
    expect(markdown).toBe("Hello **world**\n\n### Title\n\ntext");
  });

  test("code containing backticks gets a longer fence; a language from the pre's class", () => {
    const { markdown } = htmlToMarkdown(
      '<pre class="highlight-source-python">print("```")\n```\n</pre><p>x <code>a`b</code></p>',
    );
    expect(markdown).toBe('````python\nprint("```")\n```\n````\n\nx ``a`b``');
  });

  test("nested ordered lists keep their indentation under the marker", () => {
    const { markdown } = htmlToMarkdown("<ol><li>one<ol><li>a</li><li>b</li></ol></li><li>two</li></ol>");
    expect(markdown).toBe("1. one\n   1. a\n   2. b\n2. two");
  });

  test("a page with no content gives empty markdown", () => {
    expect(
      htmlToMarkdown("<html><head><title>x</title></head><body><script>1</script></body></html>"),
    ).toEqual({
      title: "x",
      markdown: "",
    });
  });
});
