// The public API of @shardkit/service: the directory over HTTP, and a small metrics endpoint.
export { isLoopbackHost, tokensMatch } from "./auth/bearer-auth.js";
export {
  createDirectoryService,
  type DirectoryService,
  type RunningDirectoryService,
  startDirectoryService,
} from "./directory-service.js";
export { type MetricsServer, serveMetrics } from "./metrics/metrics-server.js";
export { OPENAPI_DOCUMENT } from "./openapi/openapi-document.js";
export {
  DEFAULT_SERVICE_PORT,
  DEFAULT_WATCH_SECONDS,
  type DirectoryServiceOptions,
  type ServiceDirectory,
} from "./service-options.js";
