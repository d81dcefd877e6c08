export { type ErrorDocument, EXIT_STATUS, errorDocument, exitStatusFor } from "./cli-errors.js";
export { type CliIo, processIo } from "./cli-io.js";
export { helpPages, renderCliReference } from "./cli-reference.js";
export { main } from "./main.js";
