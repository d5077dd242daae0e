// WhiskError, the failure a client is meant to see (its status, OpenWhisk's
// message, any headers), and those messages worded as OpenWhisk words them.
// The API's error middleware (src/api/errors.ts) renders a WhiskError as
// `{"error": message, "code": transactionId}` and anything else as a 500.
// Internal failures have classes of their own (IsolateStartError,
// EgressConfigError, ArchiveError, ...); code that catches one where a
// client should learn of it answers a WhiskError or an activation record.

export class WhiskError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "WhiskError";
  }
}

/** OpenWhisk's user-facing messages, worded exactly as its controller words them. */
export const Messages = {
  authenticationRequired: "The resource requires authentication, which was not supplied with the request",
  authenticationInvalid: "The supplied authentication is invalid",
  notAuthorized: "The supplied authentication is not authorized to access this resource.",
  resourceDoesNotExist: "The requested resource does not exist.",
  conflict: "Concurrent modification to resource detected.",
  entityExists: "resource already exists",
  conformance: "Resource by this name exists but is not in this collection.",
  entityNameIllegal: "The name of the entity contains illegal characters.",
  namespaceIllegal: "The namespace contains illegal characters.",
  malformedFullyQualifiedName:
    "The fully qualified name of the entity must contain at least the namespace and the name of the entity.",
  activationIdIllegal: "The activation id is not valid.",
  docsNotAllowedWithCount: "The parameter 'docs' is not permitted with 'count'.",
  parametersNotAllowed: "Request defines parameters that are not allowed (e.g., reserved properties).",
  systemOverloaded: "System is overloaded, try again later.",
  methodNotAllowed: "HTTP method not allowed, supported methods:",
  malformedJson: "The request content was malformed:",
  unsupportedContentType: "The request's Content-Type is not supported. Expected:\napplication/json",
  sequenceIsTooLong: "Too many actions in the sequence.",
  sequenceNoComponent: "No component specified for the sequence.",
  sequenceIsCyclic: "Sequence may not refer to itself.",
  sequenceComponentNotFound: "Sequence component does not exist.",
  sequenceActivationFailure: "Sequence failed.",
  compositionIsTooLong: "Too many actions in the composition.",
  compositionActivationFailure: "Activation failure during composition.",
  compositionComponentInvalid: (value: string) => `Failed to parse action name from json value ${value} during composition.`,
  compositionComponentNotFound: (name: string) => `Failed to resolve action with name '${name}' during composition.`,
  compositionComponentNotAccessible: (name: string) => `Failed entitlement check for action with name '${name}' during composition.`,
  bindingDoesNotExist: "Binding references a package that does not exist.",
  packageCannotBecomeBinding: "Resource is a package and cannot be converted into a binding.",
  bindingCannotReferenceBinding: "Cannot bind to another package binding.",
  requestedBindingIsNotValid: "Cannot bind to a resource that is not a package.",
  notAllowedOnBinding: "Operation not permitted on package binding.",
  abnormalInitialization: "The action did not initialize and exited unexpectedly.",
  abnormalRun: "The action did not produce a valid response and exited unexpectedly.",
  actionRemovedWhileInvoking: "Action could not be found or may have been deleted.",
  dispatchExhausted: "The activation could not be run after repeated attempts.",
  invokerLost: "The invoker running the activation was lost before it answered.",
  propertyNotFound: "Response does not include requested property.",
  errorProcessingRequest: "There was an error processing your request.",
  responseNotReady: "Response not yet ready.",
  notAuthorizedToAccess: (resource: string) =>
    `The supplied authentication is not authorized to access '${resource}'.`,
  tooManyRequests: (count: number, allowed: number) =>
    `Too many requests in the last minute (count: ${count}, allowed: ${allowed}).`,
  tooManyConcurrentRequests: (count: number, allowed: number) =>
    `Too many concurrent requests in flight (count: ${count}, allowed: ${allowed}).`,
  listLimitOutOfRange: (collection: string, value: number | string, max: number) =>
    `The value '${value}' is not in the range of 0 to ${max} for ${collection}.`,
  listSkipOutOfRange: (collection: string, value: number | string) =>
    `The value '${value}' is not greater than or equal to 0 for ${collection}.`,
  argumentNotInteger: (collection: string, value: string) => `The value '${value}' is not an integer for ${collection}.`,
  badEpoch: (value: string) => `Parameter is not a valid value for epoch seconds: ${value}`,
  badNameFilter: (value: string) => `Parameter may be a 'simple' name or 'package-name/simple' name: ${value}`,
  entityTooBig: (field: string, size: number, max: number) => `${field} larger than allowed: ${size} > ${max} bytes.`,
  invalidRuntime: (kind: string, kinds: readonly string[]) =>
    `The specified runtime '${kind}' is not supported by this platform. Valid values are: '${kinds.join("', '")}'.`,
  invalidTimeout: (max: number) => `Timeout must be number of milliseconds up to ${max}.`,
  packageBindingCircularReference: (name: string) => `Package binding '${name}' contains a circular reference.`,
  packageNameIsReserved: (name: string) => `Package name '${name}' is reserved.`,
  timedOut: (ms: number) => `The action exceeded its time limits of ${ms} milliseconds.`,
  truncatedResponse: (size: number, max: number) =>
    `The action produced a response that exceeded the allowed length: ${size} > ${max} bytes.`,
  truncatedLogs: (limitBytes: number) =>
    `Logs were truncated because the total bytes size exceeds the limit of ${limitBytes} bytes.`,
  invalidRunResponse: (text: string) =>
    `The action did not produce a valid JSON or JSON Array response${text ? `: ${text}` : "."}`,
  triggerWithInactiveRule: (rule: string, action: string) =>
    `Rule '${rule}' is inactive, action '${action}' was not activated.`,
} as const;

export const notFound = () => new WhiskError(404, Messages.resourceDoesNotExist);
/** 403 naming what was refused: `ns`, `ns/name` or `ns/pkg/name`. */
export const forbidden = (resource: string) => new WhiskError(403, Messages.notAuthorizedToAccess(resource));
