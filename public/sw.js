// Demo service worker: the installable, offline app shell.
//
// Built site: the build (demo/pwa_build.ts) writes PRECACHE, every file of the site with a content
// revision, and VERSION, a hash of that list; the shell is cached on install and served cache-first,
// so the site opens offline and a new deploy is a new worker that waits until the page's "Reload"
// prompt says go. Dev server (`npm start`): PRECACHE is empty and everything the page and the engine
// worker fetch is kept network-first, so edits are seen and the last good copy answers offline. The
// page lists what it fetched before this worker controlled it (the first visit), each with the Accept
// header of its kind: Vite's dev server answers `/style.css` with a JS module unless asked for CSS.
//
// Model weights are never kept here: the engine caches them in the Origin Private File System, and
// ranged requests and *.safetensors pass straight through.
const PRECACHE = []; // [url relative to this file, revision]: written by the build
const VERSION = 'dev'; // written by the build
const SHELL = `kimi-vl-shell-${VERSION}`;
const RUNTIME = 'kimi-vl-runtime';

const scopeUrl = (path) => new URL(path, self.registration.scope).href;

function cacheable(request) {
  if (request.method !== 'GET' || request.headers.has('range')) return false;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return false;
  if (url.pathname.startsWith('/__')) return false; // test-server control and data routes
  return !url.pathname.endsWith('.safetensors');
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      if (PRECACHE.length) {
        const cache = await caches.open(SHELL);
        await Promise.all(
          PRECACHE.map(async ([path]) => {
            const url = scopeUrl(path);
            const response = await fetch(url, { cache: 'reload' });
            if (!response.ok) throw new Error(`precache ${url}: HTTP ${response.status}`);
            await cache.put(url, response);
          }),
        );
      }
      // The first worker takes over at once; an update waits for the page's prompt (or every tab closed).
      if (!self.registration.active) await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys())
        if (name.startsWith('kimi-vl-shell-') && name !== SHELL) await caches.delete(name);
      // Older demo versions used one cache name for everything.
      await caches.delete('kimi-vl-demo-shell-v1');
      await self.clients.claim();
    })(),
  );
});

async function remember(urls) {
  const cache = await caches.open(RUNTIME);
  for (const { url, accept } of urls) {
    const request = new Request(url, { headers: accept ? { accept } : {} });
    if (!cacheable(request) || (await cache.match(url))) continue;
    try {
      const response = await fetch(request);
      if (response.ok) await cache.put(url, response);
    } catch {
      // offline already: nothing to add
    }
  }
}

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
  else if (event.data?.type === 'cache-urls') event.waitUntil(remember(event.data.urls ?? []));
  else if (event.data?.type === 'version') event.source?.postMessage({ type: 'version', version: VERSION });
});

async function networkFirst(request) {
  const cache = await caches.open(RUNTIME);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
    return response;
  } catch (e) {
    const hit =
      (await cache.match(request, { ignoreVary: true })) ??
      (request.mode === 'navigate' ? await caches.match(scopeUrl('./'), { ignoreSearch: true }) : undefined);
    if (hit) return hit;
    throw e;
  }
}

async function shellFirst(request) {
  const cache = await caches.open(SHELL);
  const url = new URL(request.url);
  url.hash = '';
  // Navigations (any path: the site is one page) get the precached index.html.
  const key = request.mode === 'navigate' ? scopeUrl('./index.html') : url.href;
  const hit = await cache.match(key, { ignoreSearch: request.mode === 'navigate' });
  return hit ?? networkFirst(request);
}

const precached = new Set(PRECACHE.map(([path]) => path));

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (!cacheable(request)) return;
  if (PRECACHE.length) {
    const path = `./${request.url.slice(self.registration.scope.length).split(/[?#]/)[0]}`;
    const inScope = request.url.startsWith(self.registration.scope);
    if (inScope && (request.mode === 'navigate' || precached.has(path))) {
      event.respondWith(shellFirst(request));
      return;
    }
  }
  event.respondWith(networkFirst(request));
});
