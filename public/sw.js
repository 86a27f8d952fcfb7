// Demo service worker: keeps the app shell (HTML, scripts, styles, the worker, the tiny tokenizer and
// config files) so the demo opens offline after the first visit. Network first, so a new deploy (or a
// dev server's change) is picked up whenever the network works; the cache answers when it does not.
// Model weights are not kept here: the engine caches them in the Origin Private File System, and
// ranged/large requests pass straight through.
const CACHE = 'kimi-vl-demo-shell-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

function cacheable(request) {
  if (request.method !== 'GET' || request.headers.has('range')) return false;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return false;
  if (url.pathname.startsWith('/__')) return false; // test-server control and data routes
  return !url.pathname.endsWith('.safetensors');
}

// The page lists what it fetched before this worker controlled it (first visit).
self.addEventListener('message', (event) => {
  if (event.data?.type !== 'cache-urls') return;
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      for (const url of event.data.urls) {
        const request = new Request(url);
        if (!cacheable(request) || (await cache.match(request))) continue;
        try {
          const response = await fetch(request);
          if (response.ok) await cache.put(request, response);
        } catch {
          // offline already: nothing to add
        }
      }
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (!cacheable(request)) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(request);
        if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
        return response;
      } catch (e) {
        const hit = await cache.match(request, { ignoreVary: true });
        if (hit) return hit;
        throw e;
      }
    })(),
  );
});
