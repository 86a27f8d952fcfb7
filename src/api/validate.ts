// Typed errors at the public boundary: every argument of load, chat, chat.completions.create, preload,
// check and deleteCachedModel is checked on the page, before it is converted, cloned or sent to the
// worker. Without this a wrong argument surfaced as whatever the first line to touch it threw
// (`messages` undefined → "Invalid value used as weak map key" from comlink's transfer list; OpenAI
// `create({})` → "Cannot read properties of undefined (reading 'map')").
//
// Pure functions: each throws a ConfigError naming the call and the argument, or returns. Only the
// shape and type of the arguments are judged here; ranges the engine owns (sampling options) reuse
// its own checker, so the page and the worker never disagree. Unknown option keys are let through:
// options grow, and an old page must keep working with a newer engine.
import { KimiVLError } from '../errors.ts';
import { resolveGenerateOptions } from '../generate/params.ts';
import { checkLoadOptionEnums, describeValue } from '../worker/engine_state.ts';
import type { ChatMessage } from './types.ts';

type Obj = Record<string, unknown>;

/** Most messages of one request; a longer conversation is a bug in the caller (and no context holds it). */
export const MAX_MESSAGES = 10_000;
/** Most parts of one message. */
export const MAX_PARTS = 1_000;
/** Most prompt ids for generateFromIds (above any context budget). */
export const MAX_PROMPT_IDS = 1 << 20;
/** Largest contextBudget accepted (text_config.max_position_embeddings' bound, bounds.ts). */
export const MAX_CONTEXT_BUDGET = 1 << 24;
/** Longest model id, URL or cache id string. */
export const MAX_ID_LENGTH = 4096;

const ROLES = ['system', 'user', 'assistant'];

function fail(where: string, what: string): never {
  throw new KimiVLError('ConfigError', `${where}: ${what}`);
}

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const isBlob = (v: unknown) => typeof Blob !== 'undefined' && v instanceof Blob;

/** Options must be absent or a plain object; returns it as a record (empty when absent). */
function optionsObject(v: unknown, where: string): Obj {
  if (v === undefined) return {};
  if (!isPlainObject(v)) fail(where, `options must be an object, got ${describeValue(v)}`);
  return v;
}

function optBool(o: Obj, key: string, where: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'boolean')
    fail(where, `${key} must be true or false, got ${describeValue(o[key])}`);
}

function optFunction(o: Obj, key: string, where: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'function')
    fail(where, `${key} must be a function, got ${describeValue(o[key])}`);
}

function optString(o: Obj, key: string, where: string): void {
  const v = o[key];
  if (v === undefined) return;
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_ID_LENGTH)
    fail(where, `${key} must be a non-empty string, got ${describeValue(v)}`);
}

function optInt(o: Obj, key: string, where: string, min: number, max: number): void {
  const v = o[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    fail(where, `${key} must be an integer in [${min}, ${max}], got ${describeValue(v)}`);
}

function optUrl(o: Obj, key: string, where: string): void {
  optString(o, key, where);
  if (o[key] === undefined) return;
  try {
    new URL(o[key] as string, globalThis.location?.href ?? 'http://localhost/');
  } catch {
    fail(where, `${key} is not a URL: ${describeValue(o[key])}`);
  }
}

/** An AbortSignal, or anything shaped like one (another realm's, a polyfill). */
function optSignal(o: Obj, key: string, where: string): void {
  const v = o[key] as { aborted?: unknown; addEventListener?: unknown } | undefined;
  if (v === undefined) return;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.aborted !== 'boolean' ||
    typeof v.addEventListener !== 'function'
  )
    fail(where, `${key} must be an AbortSignal, got ${describeValue(v)}`);
}

/** The model argument of load / preload / check (types.ts ModelInput). */
export function checkModelInput(model: unknown, where = 'KimiVL.load'): void {
  const what =
    'model must be a Hugging Face repo id ("org/name"), a folder URL, { url }, { repo }, { files }, { directory } or a list of Files';
  if (typeof model === 'string') {
    if (model.trim() === '' || model.length > MAX_ID_LENGTH)
      fail(where, `${what}; got ${describeValue(model)}`);
    return;
  }
  if (typeof URL !== 'undefined' && model instanceof URL) return;
  if (typeof model !== 'object' || model === null) fail(where, `${what}; got ${describeValue(model)}`);
  const m = model as Obj;
  if ('url' in m) {
    optUrl({ url: m.url ?? null }, 'url', where);
    return;
  }
  if ('repo' in m) {
    optString({ repo: m.repo ?? null }, 'repo', where);
    optString(m, 'revision', where);
    optUrl(m, 'hubUrl', where);
    return;
  }
  if ('directory' in m) {
    const d = m.directory as { kind?: unknown } | null;
    if (typeof d !== 'object' || d === null || d.kind !== 'directory')
      fail(where, `directory must be a FileSystemDirectoryHandle, got ${describeValue(d)}`);
    return;
  }
  checkFileList('files' in m ? m.files : m, where, what);
}

function checkFileList(files: unknown, where: string, what: string): void {
  const list = files as ArrayLike<unknown> | null;
  if (typeof list !== 'object' || list === null || typeof list.length !== 'number')
    fail(where, `${what}; got ${describeValue(files)}`);
  if (list.length === 0) fail(where, 'the list of model files is empty');
  for (let i = 0; i < list.length; i++)
    if (!isBlob(list[i])) fail(where, `files[${i}] must be a File, got ${describeValue(list[i])}`);
}

/** Options of load (and the load-like options of preload / check). */
export function checkLoadOptions(opts: unknown, where = 'KimiVL.load'): void {
  const o = optionsObject(opts, where);
  checkLoadOptionEnums(o, where);
  for (const key of ['thinking', 'inThread', 'requireWorker', 'autoRecover', 'keepOriginal'])
    optBool(o, key, where);
  optInt(o, 'contextBudget', where, 1, MAX_CONTEXT_BUDGET);
  optInt(o, 'concurrency', where, 1, 64);
  optUrl(o, 'hubUrl', where);
  optUrl(o, 'tokenizerUrl', where);
  optFunction(o, 'onProgress', where);
  optFunction(o, 'progress_callback', where);
  optSignal(o, 'signal', where);
  const w = o.worker as { postMessage?: unknown } | undefined;
  if (w !== undefined && typeof w !== 'function' && typeof w?.postMessage !== 'function')
    fail(where, `worker must be a Worker or a function that makes one, got ${describeValue(w)}`);
  if (o.limits !== undefined) {
    if (!isPlainObject(o.limits)) fail(where, `limits must be an object, got ${describeValue(o.limits)}`);
    for (const [k, v] of Object.entries(o.limits))
      if (typeof v !== 'number' || !(v > 0))
        fail(where, `limits.${k} must be a positive number, got ${describeValue(v)}`);
  }
}

/** KimiVL.load(model, options). */
export function checkLoadArgs(model: unknown, opts: unknown): void {
  checkModelInput(model, 'KimiVL.load');
  checkLoadOptions(opts, 'KimiVL.load');
}

/** preload(model, options) and check(model, options): the model and the load-like options. */
export function checkPreloadArgs(model: unknown, opts: unknown, where = 'preload'): void {
  checkModelInput(model, where);
  checkLoadOptions(opts, where);
}

/** deleteCachedModel(id, options): a cache id as listCachedModels reports it. */
export function checkCachedModelId(id: unknown, opts?: unknown, where = 'deleteCachedModel'): void {
  if (typeof id !== 'string' || id.trim() === '' || id.length > MAX_ID_LENGTH)
    fail(where, `id must be a cached model's id (see listCachedModels), got ${describeValue(id)}`);
  optBool(optionsObject(opts, where), 'converted', where);
}

function checkPart(p: unknown, at: string, where: string, openai: boolean): void {
  const part = p as Obj | null;
  const type = typeof part === 'object' && part !== null ? part.type : undefined;
  if (type === 'text' && typeof part!.text === 'string') return;
  if (type === 'image' && part!.image != null) return;
  if (!openai && type === 'video' && part!.video != null) return;
  if (openai && type === 'image_url') {
    const u = part!.image_url as { url?: unknown } | string | null;
    if (typeof u === 'string' || (typeof u === 'object' && u !== null && typeof u.url === 'string')) return;
    fail(where, `${at}.image_url must be a URL string or { url }, got ${describeValue(u)}`);
  }
  const kinds = openai
    ? "{ type: 'text', text }, { type: 'image_url', image_url: { url } } or { type: 'image', image }"
    : "{ type: 'text', text }, { type: 'image', image } or { type: 'video', video }";
  fail(where, `${at} must be ${kinds}, got ${describeValue(p)}`);
}

function checkMessageList(messages: unknown, where: string, openai: boolean): void {
  if (!Array.isArray(messages))
    fail(where, `messages must be a non-empty array of { role, content }, got ${describeValue(messages)}`);
  if (messages.length === 0) fail(where, 'messages is empty; give at least one { role, content }');
  if (messages.length > MAX_MESSAGES)
    fail(where, `messages has ${messages.length} entries; at most ${MAX_MESSAGES}`);
  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (!isPlainObject(m)) fail(where, `${at} must be { role, content }, got ${describeValue(m)}`);
    if (!ROLES.includes(m.role as string))
      fail(where, `${at}.role must be "system", "user" or "assistant", got ${describeValue(m.role)}`);
    const c = m.content;
    if (typeof c === 'string') return;
    if (!Array.isArray(c))
      fail(where, `${at}.content must be a string or an array of parts, got ${describeValue(c)}`);
    if (c.length > MAX_PARTS) fail(where, `${at}.content has ${c.length} parts; at most ${MAX_PARTS}`);
    c.forEach((p, j) => {
      checkPart(p, `${at}.content[${j}]`, where, openai);
    });
  });
}

/** Chat options: the engine's own ranges for sampling, types for the rest. */
export function checkChatOptions(options: unknown, where = 'chat'): void {
  const o = optionsObject(options, where);
  for (const key of ['tokenEvents', 'ignoreStop', 'startThinking', 'thinking', 'allowSpecialTokensInText'])
    optBool(o, key, where);
  optInt(o, 'thinkingBudget', where, 0, Number.MAX_SAFE_INTEGER);
  optInt(o, 'maxImageTokens', where, 1, Number.MAX_SAFE_INTEGER);
  optSignal(o, 'signal', where);
  try {
    resolveGenerateOptions(o, false, () => 0);
  } catch (e) {
    fail(where, (e as Error).message);
  }
}

/** engine.chat(messages, options); returns the messages, now known to be well formed. */
export function checkChatArgs(messages: unknown, options: unknown): ChatMessage[] {
  checkMessageList(messages, 'chat', false);
  checkChatOptions(options, 'chat');
  return messages as ChatMessage[];
}

/** engine.generateFromIds(ids, options); returns the ids. */
export function checkIdsArgs(ids: unknown, options: unknown): number[] {
  const where = 'generateFromIds';
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_PROMPT_IDS)
    fail(where, `ids must be a non-empty array of token ids, got ${describeValue(ids)}`);
  const bad = ids.findIndex((id) => !Number.isSafeInteger(id) || id < 0);
  if (bad >= 0) fail(where, `ids[${bad}] must be an integer ≥ 0, got ${describeValue(ids[bad])}`);
  checkChatOptions(options, where);
  return ids;
}

const OPENAI_NUMBERS = [
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'repetition_penalty',
];

/** engine.chat.completions.create(request). */
export function checkCompletionRequest(req: unknown): void {
  const where = 'chat.completions.create';
  if (!isPlainObject(req))
    fail(where, `the request must be an object { messages, ... }, got ${describeValue(req)}`);
  if (req.messages === undefined) fail(where, 'messages is missing; pass { messages: [{ role, content }] }');
  if (Array.isArray(req.messages))
    req.messages.forEach((m, i) => {
      if (isPlainObject(m) && m.content === null)
        fail(
          where,
          `messages[${i}].content is null; kimi-vl-web needs text or parts (tool calls are not supported)`,
        );
    });
  checkMessageList(req.messages, where, true);
  if (req.stream !== null) optBool(req, 'stream', where); // OpenAI's SDK sends null for "unset"
  if (req.model != null && typeof req.model !== 'string')
    fail(where, `model must be a string, got ${describeValue(req.model)}`);
  for (const key of OPENAI_NUMBERS)
    if (req[key] !== undefined && req[key] !== null && typeof req[key] !== 'number')
      fail(where, `${key} must be a number, got ${describeValue(req[key])}`);
  optSignal(req, 'signal', where);
}
