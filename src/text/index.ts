// Text side of the engine: tokenizer, chat template, streaming detokenizer, thinking splitter.
export {
  buildPromptIds,
  type ChatMessage,
  type ContentPart,
  countImages,
  DEFAULT_SYSTEM_PROMPT,
  expandImagePlaceholders,
  type ImageGrid,
  type ImagePart,
  imageTokenCount,
  type Role,
  renderChatTemplate,
  stopTokenIds,
  type TextPart,
} from './chat_template.ts';
export { StreamingDetokenizer } from './detokenizer.ts';
export {
  type Channel,
  type ChannelDelta,
  splitThinking,
  THINK_END,
  THINK_START,
  ThinkingSplitter,
} from './thinking.ts';
export { type DecodeOptions, loadTokenizerFromUrl, Tokenizer } from './tokenizer.ts';
