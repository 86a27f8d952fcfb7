// Conversations kept across reloads in IndexedDB (pictures and videos as Blobs, which IndexedDB stores
// natively). One object store keyed by id; the page reopens the most recent conversation.

export type StoredMedia =
  | { kind: 'image'; blob: Blob; name: string }
  | { kind: 'video'; blob: Blob; name: string; frames: Blob[] };

export interface StoredMessage {
  role: 'user' | 'assistant';
  text: string;
  media?: StoredMedia[];
  reasoning?: string;
  meta?: string;
  finish?: string;
  /** The typed error's name and the message shown beside the turn. */
  error?: { name: string; message: string };
}

export interface Conversation {
  id: string;
  title: string;
  updatedAt: number;
  messages: StoredMessage[];
}

const DB = 'kimi-vl-demo';
const STORE = 'conversations';

let opened: Promise<IDBDatabase> | null = null;

function db(): Promise<IDBDatabase> {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

async function run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const tx = (await db()).transaction(STORE, mode);
  const req = op(tx.objectStore(STORE));
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export function newConversation(): Conversation {
  return {
    id: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    title: '',
    updatedAt: Date.now(),
    messages: [],
  };
}

/** Saves (or replaces) a conversation; an empty one is not kept. Storage failures only warn. */
export async function saveConversation(c: Conversation): Promise<void> {
  if (!c.messages.length) return;
  c.updatedAt = Date.now();
  c.title ||= c.messages.find((m) => m.role === 'user')?.text.slice(0, 60) || 'Pictures';
  try {
    await run('readwrite', (s) => s.put(c));
  } catch (e) {
    console.warn('conversation not saved', e);
  }
}

export async function listConversations(): Promise<Conversation[]> {
  try {
    const all = await run('readonly', (s) => s.getAll() as IDBRequest<Conversation[]>);
    return all.sort((a, b) => b.updatedAt - a.updatedAt);
  } catch (e) {
    console.warn('conversations could not be read', e);
    return [];
  }
}

export async function deleteConversation(id: string): Promise<void> {
  await run('readwrite', (s) => s.delete(id)).catch((e) => console.warn('conversation not deleted', e));
}
