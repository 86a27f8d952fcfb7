// Dedicated worker for the weights test page: runs one load per message and posts the report back.
import { type LoadRequest, load } from './weights-load.ts';

self.onmessage = async (e: MessageEvent<LoadRequest>) => {
  self.postMessage(await load(e.data));
};
