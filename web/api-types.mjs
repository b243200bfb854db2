// Generates src/api-schema.d.ts, the TypeScript types of the API, from the
// repository's openapi.yaml with openapi-typescript. `npm run build` and
// `npm run check` run it before tsc, so the web code is always checked
// against the document as it is; the generated file is not committed
// (web/.gitignore). src/types.ts names the schemas the pages use.

import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import { readFileSync, writeFileSync } from "node:fs";

const document = new URL("../openapi.yaml", import.meta.url);
const output = new URL("src/api-schema.d.ts", import.meta.url);

const ast = await openapiTS(document, {
  // A default describes what the server assumes when a request leaves the
  // field out, so such fields stay optional in the request bodies.
  defaultNonNullable: false,
  // `type: object` without properties (a decision's inputs, an event's
  // data) is any JSON object, not an empty one.
  emptyObjectsUnknown: true,
  silent: true,
});
const generated = `${COMMENT_HEADER}// From openapi.yaml by web/api-types.mjs (npm run build).\n\n${astToString(ast)}`;

// Rewritten only when it changes: `spin watch` rebuilds on every write
// under web/src.
if (current(output) !== generated) writeFileSync(output, generated);

function current(file) {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}
