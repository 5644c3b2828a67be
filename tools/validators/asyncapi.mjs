// Validates AsyncAPI documents with the official parser (@asyncapi/parser), as a partner's tools would
// read them. Usage: node tools/validators/asyncapi.mjs FILE...; exits 1 naming each error (or warning).
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(await readFile(file, "utf8"), { source: file });
  // Severity 0 is an error, 1 a warning: a contract a partner reads should raise neither.
  const faults = diagnostics.filter((d) => d.severity <= 1);
  if (document === undefined || faults.length > 0) {
    failed = true;
    for (const d of faults) {
      console.log(`${file}: ${d.severity === 0 ? "error" : "warning"} ${d.code}: ${d.message} at ${d.path.join("/")}`);
    }
  } else {
    console.log(`${file}: valid AsyncAPI ${document.version()}`);
  }
}
process.exit(failed ? 1 : 0);
