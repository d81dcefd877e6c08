// The public API of @shardkit/migrate: the move engine. Its parts are on the
// `@shardkit/migrate/internal` subpath (src/internal.ts).
export { MoveError } from "./move-error.js";
