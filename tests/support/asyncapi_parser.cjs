// Parse each AsyncAPI document given on the command line with the official parser
// (@asyncapi/parser, installed in the directory named by FORO_ASYNCAPI_PARSER_DIR) and print one
// JSON line per diagnostic: {file, severity, code, message, path}. Severity as the parser's
// (Spectral's): 0 error, 1 warning, 2 information, 3 hint.
//
// Beyond the parser, every message example is validated against its payload schema with Ajv
// (the validator the parser itself ships): patterns are compiled as ECMAScript regular
// expressions in unicode mode, as a JavaScript form vendor's validator would. A refusal is
// printed as an error (code "message-example").
"use strict";
const fs = require("fs");

const dir = process.env.FORO_ASYNCAPI_PARSER_DIR;
const load = (name) => require(require.resolve(name, { paths: [dir] }));
const { Parser } = load("@asyncapi/parser");
const Ajv = load("ajv").default;
const addFormats = load("ajv-formats").default;

function report(file, severity, code, message, path) {
  console.log(JSON.stringify({ file, severity, code, message, path }));
}

function pointer(tokens) {
  return tokens.map((t) => encodeURIComponent(String(t).replace(/~/g, "~0").replace(/\//g, "~1"))).join("/");
}

function checkExamples(file, document) {
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "asyncapi", components: document.components || {} });
  const messages = (document.components || {}).messages || {};
  for (const [name, message] of Object.entries(messages)) {
    let validate;
    try {
      validate = ajv.compile({ $ref: `asyncapi#/${pointer(["components", "messages", name, "payload"])}` });
    } catch (error) {
      report(file, 0, "message-schema", `${name}: the payload schema does not compile: ${error.message}`, `components/messages/${name}`);
      continue;
    }
    for (const [index, example] of (message.examples || []).entries()) {
      if (!validate(example.payload)) {
        const why = validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
        report(file, 0, "message-example", `${name}: example ${index} is refused: ${why}`, `components/messages/${name}/examples/${index}`);
      }
    }
  }
}

(async () => {
  const parser = new Parser();
  for (const file of process.argv.slice(2)) {
    const text = fs.readFileSync(file, "utf8");
    const { diagnostics } = await parser.parse(text, { source: file });
    for (const d of diagnostics) report(file, d.severity, d.code, d.message, d.path.join("/"));
    checkExamples(file, JSON.parse(text));
  }
})().catch((error) => {
  report("", 0, "crash", String(error && error.stack ? error.stack : error), "");
  process.exitCode = 2;
});
