// Static file serving for e2e tests with HTTP Range, If-Range, HEAD, per-session byte counting and
// fault injection. URLs: /__data/<session>/<mount>/<path>, mounts "shared" (../shared) and "tmp"
// (the specs' scratch folder). The session segment is any token a test picks, so parallel tests
// get their own counters and faults (and their own cache ids, since the URL differs).
//
// Control API (JSON):
//   POST /__ctl/fault  {session, path, cutAfterBytes?, stallAfterBytes?, ignoreRange?, status?, times?}
//        the next `times` (default 1) GET requests whose path ends with `path` misbehave (HEAD never):
//        cutAfterBytes: send that many body bytes, then destroy the connection;
//        stallAfterBytes: send that many, then go silent (until the client gives up);
//        ignoreRange: answer 200 with the whole file even when a Range was asked; status: answer that;
//        body: answer 200 with this text instead of the file (a bad file served once, then fixed);
//        flipByteAt: the byte at that file offset is sent inverted (bytes that do not match their sha256);
//        chunkDelayMs: pause this long after each 16 KiB chunk (the client sees many small reads).
//   <prefix>/api/models/<org>/<repo>/tree/<rev>  the Hub's file listing of <prefix>/<org>/<repo>/resolve/<rev>/
//        (hub_listing.ts): sizes and the sha256 of each LFS (*.safetensors) file.
//   GET  /__ctl/stats?session=s  → {requests: [{method, path, range, status, bytes}]}
//   POST /__ctl/reset?session=s  → forget the session's faults and stats
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { normalize, resolve, sep } from 'node:path';
import { hubTreeFolder, hubTreeListing } from './hub_listing.ts';

export interface FaultRule {
  path: string;
  cutAfterBytes?: number;
  stallAfterBytes?: number;
  ignoreRange?: boolean;
  status?: number;
  body?: string;
  flipByteAt?: number;
  chunkDelayMs?: number;
  times?: number;
}

export interface RequestLog {
  method: string;
  path: string;
  range: string | null;
  status: number;
  bytes: number;
}

interface Session {
  faults: FaultRule[];
  requests: RequestLog[];
}

const sessions = new Map<string, Session>();

function session(id: string): Session {
  let s = sessions.get(id);
  if (!s) {
    s = { faults: [], requests: [] };
    sessions.set(id, s);
  }
  return s;
}

function takeFault(s: Session, path: string): FaultRule | null {
  const i = s.faults.findIndex((f) => path.endsWith(f.path));
  if (i < 0) return null;
  const f = s.faults[i]!;
  f.times = (f.times ?? 1) - 1;
  if (f.times <= 0) s.faults.splice(i, 1);
  return f;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const c of req) body += c;
  return body;
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

/** Handles /__ctl/*; returns false for other URLs. */
export async function handleControl(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://x');
  if (!url.pathname.startsWith('/__ctl/')) return false;
  const id = url.searchParams.get('session') ?? '';
  switch (url.pathname) {
    case '/__ctl/health':
      res.end('ok');
      return true;
    case '/__ctl/fault': {
      const rule = JSON.parse(await readBody(req)) as FaultRule & { session: string };
      session(rule.session).faults.push(rule);
      json(res, 200, { ok: true });
      return true;
    }
    case '/__ctl/stats':
      json(res, 200, { requests: session(id).requests });
      return true;
    case '/__ctl/reset':
      sessions.delete(id);
      json(res, 200, { ok: true });
      return true;
  }
  json(res, 404, { error: `unknown control ${url.pathname}` });
  return true;
}

function parseRange(h: string | undefined, size: number): { start: number; end: number } | 'bad' | null {
  if (!h) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'bad';
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start > end || start >= size ? 'bad' : { start, end };
}

/** Handles /__data/<session>/<mount>/<path>; returns false for other URLs. */
export async function handleData(
  req: IncomingMessage,
  res: ServerResponse,
  mounts: Record<string, string>,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://x');
  const m = /^\/__data\/([^/]+)\/([^/]+)\/(.*)$/.exec(url.pathname);
  if (!m) return false;
  const [, sid, mount, rest] = m as unknown as [string, string, string, string];
  const s = session(sid);
  const log: RequestLog = {
    method: req.method ?? 'GET',
    path: `/${mount}/${decodeURIComponent(rest)}`,
    range: req.headers.range ?? null,
    status: 0,
    bytes: 0,
  };
  s.requests.push(log);
  const root = mounts[mount];
  const file = root ? resolve(root, normalize(decodeURIComponent(rest))) : '';
  const fault = log.method === 'GET' ? takeFault(s, log.path) : null;
  const headers: Record<string, string | number> = { 'cache-control': 'no-store', 'accept-ranges': 'bytes' };
  const fail = (status: number): true => {
    log.status = status;
    res.writeHead(status, headers);
    res.end();
    return true;
  };
  if (!root || !(file === root || file.startsWith(root + sep))) return fail(404);
  if (fault?.status) return fail(fault.status);
  if (fault?.body !== undefined) {
    log.status = 200;
    log.bytes = Buffer.byteLength(fault.body);
    res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': log.bytes });
    res.end(fault.body);
    return true;
  }
  const treeFolder = hubTreeFolder(root, normalize(decodeURIComponent(rest)));
  if (treeFolder) {
    if (!treeFolder.startsWith(root + sep)) return fail(404);
    let listing: unknown;
    try {
      listing = await hubTreeListing(treeFolder);
    } catch {
      return fail(404);
    }
    const body = JSON.stringify(listing);
    log.status = 200;
    log.bytes = Buffer.byteLength(body);
    res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': log.bytes });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(file);
    if (!st.isFile()) return fail(404);
  } catch {
    return fail(404);
  }
  const size = st.size;
  const etag = `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  headers.etag = etag;
  headers['last-modified'] = st.mtime.toUTCString();
  headers['content-type'] = file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
  const ifRange = req.headers['if-range'];
  let range =
    fault?.ignoreRange || (ifRange && ifRange !== etag) ? null : parseRange(req.headers.range, size);
  if (range === 'bad') {
    headers['content-range'] = `bytes */${size}`;
    return fail(416);
  }
  range ??= null;
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  headers['content-length'] = Math.max(0, end - start + 1);
  log.status = range ? 206 : 200;
  res.writeHead(log.status, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return true;
  }
  await streamBody(req, res, file, start, end, fault, log);
  return true;
}

function streamBody(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  start: number,
  end: number,
  fault: FaultRule | null,
  log: RequestLog,
): Promise<void> {
  return new Promise((done) => {
    const limit = fault?.cutAfterBytes ?? fault?.stallAfterBytes ?? Number.POSITIVE_INFINITY;
    const stream = createReadStream(file, { start, end, highWaterMark: 16 * 1024 });
    const finish = () => {
      stream.destroy();
      done();
    };
    req.on('close', finish);
    stream.on('error', () => {
      res.destroy();
      finish();
    });
    let at = start;
    stream.on('data', (chunk) => {
      const c = chunk as Buffer;
      const flip = fault?.flipByteAt;
      if (flip !== undefined && flip >= at && flip < at + c.byteLength) c[flip - at] ^= 0xff;
      at += c.byteLength;
      const room = limit - log.bytes;
      if (c.byteLength < room) {
        log.bytes += c.byteLength;
        if (fault?.chunkDelayMs) {
          stream.pause();
          setTimeout(() => stream.resume(), fault.chunkDelayMs);
        }
        if (!res.write(c)) {
          stream.pause();
          res.once('drain', () => stream.resume());
        }
        return;
      }
      const part = c.subarray(0, Math.max(0, room));
      log.bytes += part.byteLength;
      stream.destroy();
      if (fault?.cutAfterBytes !== undefined) {
        // Flush what the fault allows, then drop the connection mid-body. The pause lets the client
        // read those bytes first: an errored fetch body discards chunks still queued in the browser.
        res.write(part, () => setTimeout(() => res.socket?.destroy(), 500));
      } else {
        res.write(part); // stall: the client sees no more bytes and no end
        setTimeout(() => res.socket?.destroy(), 120_000).unref();
      }
    });
    stream.on('end', () => {
      res.end();
      finish();
    });
  });
}
