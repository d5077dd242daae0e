// The controller entry in-process: migrations, seeding, health, and the
// background tasks that run beside the API (where an alarm scheduler joins).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GUEST_KEY } from "../e2e/scenarios.js";
import { controllerConfig } from "../../src/node/config.js";
import { DEFAULT_TASKS, startController, type ControllerServices, type RunningController } from "../../src/node/controller.js";
import { createTestDatabase, testServices, testStreamName } from "./services.js";

const services = await testServices();

describe.skipIf(!services)("controller entry", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let stream: ReturnType<typeof testStreamName>;
  let controller: RunningController | undefined;
  const task = { started: undefined as ControllerServices | undefined, stopped: false };

  beforeAll(async () => {
    database = await createTestDatabase(services!);
    stream = testStreamName(services!);
    const config = controllerConfig({
      PORT: "0",
      OPS_PORT: "0",
      DATABASE_URL: database.url,
      NATS_URL: services!.natsUrl,
      NATS_STREAM: stream.name,
      INVOKER_SECRET: "no invoker listens there anyway",
      GUEST_AUTH: GUEST_KEY,
    });
    controller = await startController(config, [
      ...DEFAULT_TASKS,
      async (started) => {
        task.started = started;
        return { stop: async () => void (task.stopped = true) };
      },
    ]);
  });

  afterAll(async () => {
    await controller?.stop();
    await stream?.drop();
    await database?.drop();
  });

  it("applies the migrations, seeds the guest and answers its health check", async () => {
    const { rows } = await controller!.services.pool.query("SELECT name FROM edgewhisk_migrations ORDER BY name");
    expect(rows.length).toBeGreaterThan(0);
    expect(await controller!.services.platform.store.findSubject(GUEST_KEY.split(":")[0])).toMatchObject({ namespace: "guest" });
    const health = await fetch(`http://127.0.0.1:${controller!.port}/healthz`);
    expect(health.status).toBe(200);
    const api = await fetch(`http://127.0.0.1:${controller!.port}/api/v1`);
    expect(await api.json()).toMatchObject({ api_version_path: "v1" });
  });

  it("starts background tasks with the controller's services and stops them with it", async () => {
    expect(task.started?.platform).toBe(controller!.services.platform);
    expect(task.started?.nats.isClosed()).toBe(false);
    await controller!.stop();
    controller = undefined;
    expect(task.stopped).toBe(true);
  });
});
