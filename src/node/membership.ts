// Invoker membership over NATS: each invoker puts its heartbeat
// (src/core/invoker-membership.ts) into a JetStream key-value bucket, one key
// per invoker id, every second; the bucket keeps only the latest of each and
// forgets them after ANNOUNCEMENT_TTL_MS. Controllers and invokers watch it:
// a snapshot of the bucket when they start, then every heartbeat as it is
// published. The bucket is a plain KV bucket (`nats kv ls <bucket>` shows the
// members), handled with the JetStream API, as the @nats-io/kv client is not
// a dependency.
//
// A heartbeat counts from when the watcher received it, not from the
// invoker's clock, so clock skew between pods moves no one in or out; only
// the snapshot, whose entries may be seconds old, trusts the invoker's `at`
// (never later than the watcher's own clock).
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import {
  ANNOUNCE_EVERY_MS,
  ANNOUNCEMENT_TTL_MS,
  dispatchOrder,
  isLive,
  parseAnnouncement,
  type InvokerAnnouncement,
  type Member,
} from "../core/invoker-membership.js";
import type { InvokerDirectory } from "./invoker-http-client.js";

/** The bucket of an installation's invokers, named after its activation stream. */
export function membershipBucket(stream: string): string {
  return `${stream}-invokers`;
}

const bucketStream = (bucket: string) => `KV_${bucket}`;
const keySubject = (bucket: string, key: string) => `$KV.${bucket}.${key}`;

/** Creates the bucket (as `nats kv add --history 1 --ttl 5s` would), or brings it up to date. */
export async function ensureMembershipBucket(nc: NatsConnection, bucket: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: bucketStream(bucket),
    subjects: [keySubject(bucket, ">")],
    retention: RetentionPolicy.Limits,
    storage: StorageType.Memory,
    discard: DiscardPolicy.New,
    max_msgs_per_subject: 1,
    max_age: nanos(ANNOUNCEMENT_TTL_MS),
    allow_rollup_hdrs: true,
    deny_delete: true,
    allow_direct: true,
  };
  await jsm.streams.add(config).catch(() => jsm.streams.update(config.name, config));
}

export interface Announcer {
  /** Announces at once (a change such as draining should not wait for the next beat). */
  now(): Promise<void>;
  /** Announces one last time and stops. */
  stop(): Promise<void>;
}

/** Puts `state()` into the bucket every ANNOUNCE_EVERY_MS until stopped. */
export function announce(nc: NatsConnection, bucket: string, state: () => InvokerAnnouncement): Announcer {
  const js = jetstream(nc);
  const put = async () => {
    const announcement = state();
    try {
      await js.publish(keySubject(bucket, announcement.id), JSON.stringify(announcement));
    } catch (err) {
      console.error("membership: heartbeat not stored:", (err as Error).message);
    }
  };
  const timer = setInterval(() => void put(), ANNOUNCE_EVERY_MS);
  void put();
  return {
    now: put,
    async stop() {
      clearInterval(timer);
      await put();
    },
  };
}

/** The invokers as one process sees them, kept current from the bucket. */
export class MembershipView implements InvokerDirectory {
  private readonly known = new Map<string, Member>();
  /** When this process started watching: before ADOPT_AFTER_MS it cannot tell a gone invoker from one not heard yet. */
  readonly since: number;
  private subscription?: Subscription;

  private constructor(private readonly now: () => number) {
    this.since = now();
  }

  /** Starts watching: heartbeats from now on, and what the bucket holds already. */
  static async watch(nc: NatsConnection, bucket: string, now: () => number = Date.now): Promise<MembershipView> {
    const view = new MembershipView(now);
    view.subscription = nc.subscribe(keySubject(bucket, "*"), {
      callback: (err, msg) => {
        if (!err) view.heard(msg.json(), view.now());
      },
    });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(bucketStream(bucket), { subjects_filter: keySubject(bucket, "*") });
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const stored = await jsm.streams.getMessage(bucketStream(bucket), { last_by_subj: subject }).catch(() => null);
      const announcement = stored && parseAnnouncement(stored.json());
      if (announcement) view.heard(announcement, Math.min(view.now(), announcement.at));
    }
    return view;
  }

  private heard(value: unknown, seenAt: number): void {
    const announcement = parseAnnouncement(value);
    if (!announcement) return;
    const before = this.known.get(announcement.id);
    if (before && before.seenAt > seenAt) return;
    this.known.set(announcement.id, { ...announcement, seenAt });
  }

  /** Every invoker heard from since this process started watching (gone ones included). */
  members(): Member[] {
    return [...this.known.values()];
  }

  /** Live invokers, in the order an action with this key tries them. */
  order(key: string): Member[] {
    return dispatchOrder(this.members(), key, this.now());
  }

  urls(key: string): string[] {
    return this.order(key).map((m) => m.url);
  }

  /** Invokers that may hold cached copies: all live ones, draining ones too. */
  everyone(): string[] {
    return this.members()
      .filter((m) => isLive({ ...m, draining: false }, this.now()))
      .map((m) => m.url);
  }

  /**
   * Counts a slot of `id` as taken until its next heartbeat says otherwise,
   * so a burst between two heartbeats spills instead of piling on one invoker.
   */
  claim(id: string): void {
    const member = this.known.get(id);
    if (member && member.free > 0) member.free--;
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }
}
