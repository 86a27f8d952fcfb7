// The few chrome.* extension APIs this extension uses (declared here instead of adding @types/chrome).
declare namespace chrome {
  namespace runtime {
    const ContextType: { OFFSCREEN_DOCUMENT: 'OFFSCREEN_DOCUMENT' };
    function getURL(path: string): string;
    function getContexts(filter: { contextTypes: string[]; documentUrls?: string[] }): Promise<unknown[]>;
    // biome-ignore lint/suspicious/noExplicitAny: messages are JSON of several shapes
    function sendMessage(message: unknown): Promise<any>;
    const onMessage: {
      addListener(
        cb: (message: never, sender: unknown, sendResponse: (response: unknown) => void) => unknown,
      ): void;
    };
    const onInstalled: { addListener(cb: () => void): void };
  }
  namespace offscreen {
    const Reason: { WORKERS: 'WORKERS' };
    function createDocument(p: { url: string; reasons: string[]; justification: string }): Promise<void>;
  }
  namespace contextMenus {
    function create(p: { id: string; title: string; contexts: string[] }): void;
    const onClicked: {
      addListener(
        cb: (
          info: { menuItemId: string | number; srcUrl?: string; pageUrl?: string },
          tab?: { windowId?: number },
        ) => void,
      ): void;
    };
  }
  namespace permissions {
    function request(p: { origins: string[] }): Promise<boolean>;
  }
  namespace sidePanel {
    function open(p: { windowId: number }): Promise<void>;
  }
}
