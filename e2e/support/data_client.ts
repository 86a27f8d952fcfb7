// Node-side helpers for specs: per-test data sessions on the e2e server (URLs, faults, request logs).
import { randomUUID } from 'node:crypto';
import type { FaultRule, RequestLog } from './data_routes.ts';
import { E2E_PORT } from './env.ts';

export const BASE_URL = `http://localhost:${E2E_PORT}`;

export class DataSession {
  readonly id = randomUUID().slice(0, 8);

  /** URL of a folder/file under a mount ("shared" = ../shared, "tmp" = the scratch folder). */
  url(mount: 'shared' | 'tmp', path: string): string {
    return `${BASE_URL}/__data/${this.id}/${mount}/${path.replace(/^\/+/, '')}`;
  }

  async fault(rule: FaultRule): Promise<void> {
    const res = await fetch(`${BASE_URL}/__ctl/fault`, {
      method: 'POST',
      body: JSON.stringify({ ...rule, session: this.id }),
    });
    if (!res.ok) throw new Error(`fault: HTTP ${res.status}`);
  }

  async requests(): Promise<RequestLog[]> {
    const res = await fetch(`${BASE_URL}/__ctl/stats?session=${this.id}`);
    return ((await res.json()) as { requests: RequestLog[] }).requests;
  }

  /** Body bytes the server sent for paths ending with `suffix`. */
  async bytesServed(suffix: string): Promise<number> {
    return (await this.requests()).filter((r) => r.path.endsWith(suffix)).reduce((n, r) => n + r.bytes, 0);
  }

  async reset(): Promise<void> {
    await fetch(`${BASE_URL}/__ctl/reset?session=${this.id}`, { method: 'POST' });
  }
}
