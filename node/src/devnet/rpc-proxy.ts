import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A JSON-RPC pass-through in front of a local chain, for outage tests: `down()` refuses every
 * request (the connection is reset, as when the endpoint is unreachable) until `up()`. Real
 * requests reach the real chain otherwise. The fault is caused for real at the transport; only
 * the endpoint's availability is switched.
 */
export interface RpcProxy {
  url: string;
  down(): void;
  up(): void;
  /** Requests refused while down. */
  refused(): number;
  close(): Promise<void>;
}

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  let available = true;
  let refused = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (!available) {
      refused++;
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) })
        .then(async (upstream) => {
          res.writeHead(upstream.status, { "content-type": "application/json" });
          res.end(Buffer.from(await upstream.arrayBuffer()));
        })
        .catch(() => req.socket.destroy());
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    down() {
      available = false;
      for (const s of sockets) s.destroy(); // kept-alive connections break too
    },
    up() {
      available = true;
    },
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
