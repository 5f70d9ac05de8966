// The monitoring extension: starts the HTTP listener on the `http` / `-m` port with the server and
// reports it in the ports file.
import type { Server, ServerExtension } from "../server.js";
import { advertiseHost, hostPort } from "../server.js";
import { MonitorHttp } from "./http.js";

export class Monitor implements ServerExtension {
  readonly name = "monitoring";
  private http: MonitorHttp | null = null;
  private host = "";

  async start(server: Server): Promise<void> {
    const o = server.opts.http;
    if (!o) return;
    this.host = o.host;
    const http = new MonitorHttp(server);
    const port = await http.listen(o.host, o.port);
    this.http = http;
    server.log.info(`Starting http monitor on ${hostPort(o.host, port)}`);
  }

  /** The port the monitor listens on (0 before start). */
  get port(): number {
    return this.http?.port ?? 0;
  }

  ports(): Record<string, string[]> {
    return this.http ? { monitoring: [`http://${advertiseHost(this.host)}:${this.http.port}`] } : {};
  }

  async shutdown(): Promise<void> {
    this.http?.close();
    this.http = null;
  }
}
