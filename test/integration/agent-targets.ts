/**
 * Local targets for the agent's http, tcp and dns checks, on 127.0.0.1 and free ports: servers
 * that answer, servers that accept and never answer, servers that answer garbage, and ports
 * where nothing listens.
 */
import dgram from "node:dgram";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import dnsPacket from "dns-packet";
import forge from "node-forge";

export type Target = { host: string; port: number; stop: () => Promise<void> };

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function listen(server: net.Server): Promise<Target> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // https servers report TLS connections on "secureConnection"; "connection" sees the raw socket.
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { host: "127.0.0.1", port, stop: () => closeServer(server, sockets) };
}

export function startHttpTarget(handler: http.RequestListener): Promise<Target & { url: string }> {
  return listen(http.createServer(handler)).then((t) => ({ ...t, url: `http://127.0.0.1:${t.port}` }));
}

/** A self-signed certificate for 127.0.0.1 that expires `days` from now. */
export function selfSignedCertificate(days: number): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = "01";
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  const subject = [{ name: "commonName", value: "127.0.0.1" }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

export function startHttpsTarget(
  certificate: { cert: string; key: string },
  handler: http.RequestListener,
): Promise<Target & { url: string }> {
  return listen(https.createServer(certificate, handler)).then((t) => ({
    ...t,
    url: `https://127.0.0.1:${t.port}`,
  }));
}

/** Accepts connections and never sends a byte. */
export function startSilentTcpTarget(): Promise<Target> {
  return listen(net.createServer(() => {}));
}

/** Answers every connection with bytes that are no protocol at all, then closes. */
export function startGarbageTcpTarget(): Promise<Target> {
  return listen(net.createServer((socket) => socket.end("\x00\xffGARBAGE\r\n\r\nnot a reply\x07\n")));
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function stoppedPort(): Promise<number> {
  const target = await listen(net.createServer());
  await target.stop();
  return target.port;
}

export type DnsMode = "answer" | "silent" | "garbage";

/**
 * A minimal authoritative UDP responder: A records from `records`, NXDOMAIN for other names.
 * `mode` switches it to never answering or answering garbage.
 */
export async function startDnsTarget(
  records: Record<string, string[]>,
): Promise<Target & { server: string; setMode: (mode: DnsMode) => void }> {
  const socket = dgram.createSocket("udp4");
  let mode: DnsMode = "answer";
  socket.on("message", (message, remote) => {
    if (mode === "silent") return;
    if (mode === "garbage") {
      socket.send(Buffer.from("\x13\x37garbage that is no DNS reply"), remote.port, remote.address);
      return;
    }
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    const addresses = question && question.type === "A" ? (records[question.name] ?? []) : [];
    const known = question !== undefined && question.name in records;
    const reply = dnsPacket.encode({
      type: "response",
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3), // rcode 3: NXDOMAIN
      questions: query.questions,
      answers: addresses.map((data) => ({ type: "A", name: question!.name, ttl: 60, data })),
    });
    socket.send(reply, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  return {
    host: "127.0.0.1",
    port,
    server: `127.0.0.1:${port}`,
    setMode: (next) => {
      mode = next;
    },
    stop: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
