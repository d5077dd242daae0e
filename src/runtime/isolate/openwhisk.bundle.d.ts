/** The `openwhisk` npm client bundled as one CommonJS file (scripts/bundle-isolate-libraries.mjs), as source text. */
declare const openwhiskSource: string;
export default openwhiskSource;
