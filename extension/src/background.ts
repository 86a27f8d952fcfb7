// Extension service worker: the context-menu item, the message API, and the offscreen document that
// runs the engine (service workers have no WebGPU-capable DOM/worker environment of their own).
//
// Permissions are the least the job needs: no host access up front. A right-click grants activeTab (the
// page's own origin, until it navigates); an image served from another origin needs that one origin,
// asked for in the click's user gesture (optional_host_permissions), so the user sees which site.
import { extraOriginFor } from './access.ts';
import { DEFAULT_PROMPT, type DescribeRequest, type DescribeResponse } from './protocol.ts';

const MENU_ID = 'kimi-vl-describe';
let nextRequestId = 1;
let creating: Promise<void> | null = null;

async function ensureOffscreen(): Promise<void> {
  const url = chrome.runtime.getURL('offscreen.html');
  const contexts = await chrome.runtime.getContexts({
    contextTypes: [chrome.runtime.ContextType.OFFSCREEN_DOCUMENT],
    documentUrls: [url],
  });
  if (contexts.length) return;
  creating ??= chrome.offscreen
    .createDocument({
      url: 'offscreen.html',
      reasons: [chrome.offscreen.Reason.WORKERS],
      justification: 'Runs the Kimi-VL engine (WebGPU in a Web Worker).',
    })
    .finally(() => {
      creating = null;
    });
  await creating;
}

async function describeImage(req: DescribeRequest): Promise<DescribeResponse> {
  await ensureOffscreen();
  return chrome.runtime.sendMessage({ ...req, target: 'offscreen', requestId: nextRequestId++ });
}

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: MENU_ID, title: 'Describe this image with Kimi-VL', contexts: ['image'] });
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId !== MENU_ID || !info.srcUrl) return;
  // Opening the panel and asking for access must happen in the click's user gesture, before any await.
  if (tab?.windowId !== undefined) void chrome.sidePanel.open({ windowId: tab.windowId });
  const origin = extraOriginFor(info.srcUrl, info.pageUrl);
  const access = origin ? chrome.permissions.request({ origins: [origin] }) : Promise.resolve(true);
  // A refusal still describes: the fetch then fails with an ImageError saying the site was not allowed.
  void access
    .catch(() => false)
    .then(() => describeImage({ type: 'kimi-vl:describe', imageUrl: info.srcUrl, prompt: DEFAULT_PROMPT }));
});

chrome.runtime.onMessage.addListener((msg: DescribeRequest & { target?: string }, _sender, reply) => {
  if (msg?.type !== 'kimi-vl:describe' || msg.target === 'offscreen') return false;
  describeImage(msg).then(reply, (e: Error) =>
    reply({ ok: false, error: { name: e.name, message: e.message } }),
  );
  return true; // answered asynchronously
});
