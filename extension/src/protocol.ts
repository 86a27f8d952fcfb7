// Messages between the extension's parts (and tests). Everything is JSON.
//   any extension page / test → background: DescribeRequest, answered with DescribeResponse
//   background → offscreen: { target: 'offscreen', ...DescribeRequest, requestId }
//   offscreen → everyone: StreamMessage while generating (the side panel shows them)

export interface DescribeRequest {
  type: 'kimi-vl:describe';
  /** http(s)/data:/blob: URL of the image (a context-menu srcUrl), or omitted for a text-only prompt. */
  imageUrl?: string;
  prompt?: string;
  maxTokens?: number;
  temperature?: number;
}

export interface DescribeResponse {
  ok: boolean;
  answer?: string;
  tokens?: number;
  finishReason?: string;
  mode?: string;
  error?: { name: string; message: string };
}

export interface StreamMessage {
  type: 'kimi-vl:stream';
  requestId: number;
  /** 'start' (with imageUrl/prompt), 'delta' (answer text), 'done' or 'error'. */
  kind: 'start' | 'delta' | 'done' | 'error';
  text?: string;
  imageUrl?: string;
}

export const DEFAULT_PROMPT = 'Describe this image.';
