// The Invokers port: how a controller reaches the invoker that runs an
// action (one invoker Durable Object per action name on Cloudflare,
// src/cloudflare/invoker-do-client.ts; invoker pods over HTTP on Kubernetes,
// src/node/invoker-http-client.ts).
import type { ActivationRecord } from "../core/activation.js";
import type { StoredActionDoc } from "../core/entities.js";
import type { EntityRef } from "../core/names.js";
import type { WebRequest } from "../core/webaction.js";
import type { Identity } from "./identity.js";

/** Everything an invoker needs to run one activation. */
export interface InvokeRequest {
  activationId: string;
  transactionId: string;
  /** The action as the caller named it (possibly through a package binding). */
  action: EntityRef;
  identity: Identity;
  params: Record<string, unknown>;
  /** When the request reached the controller (epoch ms), for waitTime. */
  receivedAt: number;
  cause?: string;
  /** Annotations added to the record (e.g. causedBy for sequence components). */
  extraAnnotations?: { key: string; value: unknown }[];
  /** What actions see as __OW_API_HOST. */
  apiHost: string;
  /**
   * The activation holds a place of its namespace's concurrentInvocations
   * (ConcurrencyGate), which whoever ends it releases. Set where the
   * controller admitted it; sequence components and conductor steps hold none.
   */
  leased?: true;
  /**
   * The name of that place's lease when it is not the activation's id (a
   * place the controller's gate handed over): the release gives back this.
   */
  lease?: string;
  /**
   * Taken from a queue: no client waits for its answer, so it may wait
   * briefly for a busy warm isolate of its action rather than start another
   * (IsolateSlots). Set by the host that consumes the queue.
   */
  queued?: true;
}

/** A request to a web action, as the controller hands it to the action's invoker. */
export interface WebInvokeRequest {
  activationId: string;
  transactionId: string;
  /** The action the URL names; its namespace is the owner's. */
  action: EntityRef;
  web: WebRequest;
  /** The caller, when the request carried valid credentials. */
  user?: Identity;
  receivedAt: number;
  apiHost: string;
}

export type WebOutcome =
  /** An OPTIONS request the platform answers itself (CORS). */
  | { kind: "options" }
  | { kind: "record"; record: ActivationRecord; customOptions: boolean };

export interface Invokers {
  /** Runs an activation and answers its record once it is complete. */
  invoke(request: InvokeRequest): Promise<ActivationRecord>;
  /** Checks and runs a web action request (the invoker holds the action's web annotations). */
  invokeWeb(request: WebInvokeRequest): Promise<WebOutcome>;
  /** Tells the invokers holding `ref` to forget cached copies of it. */
  invalidate(refs: EntityRef[]): Promise<void>;
  /**
   * Tells the invokers of an action a new version of it is being stored:
   * one that ran the action lately starts the version's isolate now
   * (src/invoker/isolate-preparation.ts). A hint only: it changes no
   * cached copy, and a version never stored just leaves an unused isolate.
   */
  announce(upcoming: UpcomingVersion): Promise<void>;
}

/** An action version a controller is about to store: enough to start its isolate without reading the version back. */
export interface UpcomingVersion {
  /** The action, in the default package of its namespace (`packageName` unset). */
  ref: EntityRef;
  doc: StoredActionDoc;
  codeDigest: string;
  /** The version's new code; absent when it keeps the code it had, which is stored already under `codeDigest`. */
  code?: string;
}
