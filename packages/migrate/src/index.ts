export { main } from "./cli/main.js";
export type { CliIo } from "./cli/cli-io.js";
