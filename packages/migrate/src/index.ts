export type { CliIo } from "./cli/cli-io.js";
export { main } from "./cli/main.js";
