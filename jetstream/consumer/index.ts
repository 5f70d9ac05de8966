// The consumer layer's entry point: JetStream.start calls installConsumers once the streams are
// recovered.
import type { JetStream } from "../jetstream.js";
import { ConsumerApiHandler } from "./api.js";
import { ConsumerManager } from "./layer.js";

export { ConsumerManager } from "./layer.js";

export function installConsumers(js: JetStream): ConsumerManager {
  const mgr = new ConsumerManager(js);
  js.consumers = mgr;
  js.router.consumers = new ConsumerApiHandler(mgr);
  mgr.start();
  return mgr;
}
