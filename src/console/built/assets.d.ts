// The module scripts/build-console.mjs generates beside this file (assets.js, not committed).

/** One file the controller serves: its media type, text and entity tag. */
export interface BuiltAsset {
  type: string;
  body: string;
  etag: string;
}

/** The console's files, by name under /console/. */
export declare const consoleAssets: Record<string, BuiltAsset>;
/** Swagger UI's files from swagger-ui-dist, by name under /api/v1/docs/. */
export declare const swaggerAssets: Record<string, BuiltAsset>;
