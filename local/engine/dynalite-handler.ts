import { EventEmitter } from 'node:events';
import dynalite from 'dynalite';

/**
 * DynamoDB on this machine: dynalite, reached in this process without a socket. The SDK's
 * DynamoDB clients send their signed HTTP requests to dynalite's own request handler,
 * byte for byte as they would over loopback HTTP, and read its response (status, headers
 * with the CRC32 the SDK checks, JSON body) the same way. What the handler does not pay is
 * the TCP connection, Node's HTTP parsing on both sides and the sockets' streams: a fifth
 * of test/faults/semaphore-limits.test.ts's CPU time (profiled) when dynalite listened on a port.
 *
 * One dynalite per process: handler modules keep their DynamoDB clients for the life of
 * the process, across factories (as a warm Lambda keeps its clients). Nothing listens, so
 * nothing holds the process open.
 */

/** The subset of the SDK's HttpRequest this handler reads. */
interface SdkHttpRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

type RequestListener = (req: EventEmitter, res: unknown) => void;

let listener: RequestListener | undefined;

function dynaliteListener(): RequestListener {
  if (!listener) {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
    listener = server.listeners('request')[0] as RequestListener;
    if (!listener) throw new Error('dynalite: no request handler on its server');
  }
  return listener;
}

function bodyBuffer(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new Error(
    `in-process DynamoDB: unsupported request body (${typeof body}); expected a string or bytes`,
  );
}

function queryString(query: SdkHttpRequest['query']): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      parts.push(
        v === null ? encodeURIComponent(key) : `${encodeURIComponent(key)}=${encodeURIComponent(v)}`,
      );
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * The SDK's request handler (`requestHandler` in a client's configuration) for DynamoDB
 * on dynalite in this process.
 */
export const inProcessDynamoDb = {
  metadata: { handlerProtocol: 'http/1.1' },

  handle(request: SdkHttpRequest): Promise<{ response: unknown }> {
    const handler = dynaliteListener();
    return new Promise((resolve, reject) => {
      const req = Object.assign(new EventEmitter(), {
        method: request.method,
        url: `${request.path || '/'}${queryString(request.query)}`,
        // Node's IncomingMessage gives header names in lower case.
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
      });
      const headers: Record<string, string> = {};
      const res = {
        statusCode: 200,
        contentType: undefined as string | undefined,
        setHeader(name: string, value: string | number) {
          headers[name.toLowerCase()] = String(value);
        },
        end(body?: string | Buffer) {
          resolve({
            response: {
              statusCode: res.statusCode,
              reason: undefined,
              headers,
              body: bodyBuffer(body ?? ''),
            },
          });
        },
      };
      try {
        handler(req, res);
        const body = bodyBuffer(request.body);
        if (body.length) req.emit('data', body);
        req.emit('end');
      } catch (err) {
        reject(err as Error);
      }
    });
  },

  updateHttpClientConfig(): void {},

  httpHandlerConfigs(): Record<string, never> {
    return {};
  },

  destroy(): void {},
};
