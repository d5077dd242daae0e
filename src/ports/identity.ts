// Who a request acts as: the caller a controller resolved from its Basic auth
// key, carried on every request it hands on (invokes, fires, alarms).

/** A caller, resolved from its Basic auth key. */
export interface Identity {
  subject: string;
  namespace: string;
  uuid: string;
  /** `uuid:key`, kept only so it can be handed to actions that ask for it. */
  authKey: string;
}
