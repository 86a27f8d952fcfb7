// One request on a loaded model: build the input (chat messages or raw ids), encode images, run the
// generation loop, and stream ids → text events to the caller. Shared by Engine.chat and generateFromIds.
import { KimiVLError } from '../errors.ts';
import type { ChatEvent, DoneEvent } from '../generate/events.ts';
import { TextEventStream } from '../generate/events.ts';
import { type GenerateOptions, resolveGenerateOptions } from '../generate/params.ts';
import { withStopStrings } from '../generate/stop.ts';
import { TimingRecorder } from '../generate/timings.ts';
import { StreamingDetokenizer } from '../text/detokenizer.ts';
import { THINK_END, THINK_START, ThinkingSplitter } from '../text/thinking.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { buildChatInput, type ChatInput, validateMessages, type WireMessage } from './chat_input.ts';
import type { LoadedEngineState } from './engine_state.ts';
import { generateOnDevice, type Recover } from './recover.ts';

export interface EngineChatOptions extends GenerateOptions {
  /** Also stream each generated id as a `token` event. */
  tokenEvents?: boolean;
  /** Don't stop at end-of-turn ids (generate exactly maxTokens unless cancelled). */
  ignoreStop?: boolean;
  /**
   * Thinking models: open the reply with ◁think▷ so the text starts in the reasoning channel. Lets the
   * demo show the reasoning panel with a tiny model that never writes the marker itself.
   */
  startThinking?: boolean;
  /** Thinking models: after this many reasoning tokens, ◁/think▷ is fed and the answer begins. */
  thinkingBudget?: number;
  /** Treat the model as a Thinking model for this request (default: what load decided). */
  thinking?: boolean;
}

export type RequestInput = { kind: 'chat'; messages: WireMessage[] } | { kind: 'ids'; ids: number[] };

function textStream(tok: Tokenizer | null, thinking: boolean, startInReasoning: boolean) {
  if (!tok) return null;
  return new TextEventStream(
    new StreamingDetokenizer(tok, { skipSpecialTokens: true }),
    new ThinkingSplitter({ thinking, startInReasoning }),
  );
}

/** A chat request needs well-formed messages and a tokenizer: checked before anything else runs. */
function checkChat(s: LoadedEngineState, messages: unknown): void {
  validateMessages(messages);
  if (!s.tokenizer)
    throw new KimiVLError(
      'TokenizerError',
      `${s.info.id} has no tiktoken.model/tokenizer_config.json; pass tokenizerUrl when loading`,
    );
}

function checkIds(ids: readonly number[], vocabSize: number): void {
  if (!ids.length || ids.some((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize))
    throw new KimiVLError('ConfigError', `ids must be a non-empty list of integers in [0, ${vocabSize})`);
}

export async function runRequest(
  s: LoadedEngineState,
  input: RequestInput,
  opts: EngineChatOptions,
  isCancelled: () => boolean,
  onEvent: (e: ChatEvent) => unknown,
  /** Replaces the state after a device loss (autoRecover); null: a loss ends the request. */
  recover: Recover | null = null,
): Promise<DoneEvent> {
  if (input.kind === 'chat') checkChat(s, input.messages);
  const timings = new TimingRecorder();
  const thinking = opts.thinking ?? s.info.thinking;
  const options = resolveGenerateOptions(opts, thinking);
  const startThinking = thinking && !!opts.startThinking && s.tokenizer !== null;
  let built: ChatInput;
  if (input.kind === 'chat') {
    const t0 = performance.now();
    const tok = s.tokenizer!; // checkChat
    const suffix = startThinking ? tok.encode(THINK_START) : [];
    built = await buildChatInput(input.messages, tok, s.preprocessor, suffix, opts);
    // image time counts work done: a follow-up about the same image decodes and encodes nothing
    if (built.imagesPrepared) timings.addImageEncode(performance.now() - t0);
  } else {
    checkIds(input.ids, s.info.vocabSize);
    built = { ids: input.ids, images: null, imagesPrepared: 0 };
  }

  const text = withStopStrings(textStream(s.tokenizer, thinking, startThinking), options.stop);
  const endMarker = thinking && s.tokenizer ? s.tokenizer.encode(THINK_END) : [];
  let reasoningTokens = 0;
  let injected = false;
  const emit = async (e: ChatEvent) => void (await onEvent(e));
  {
    // Images are encoded one at a time and a lost device is recovered from (recover.ts).
    const result = await generateOnDevice(
      s,
      built.images,
      {
        ids: built.ids,
        options,
        stopIds: opts.ignoreStop ? [] : s.stopIds,
        isCancelled: () => isCancelled() || text?.stopped === true, // a stop string ends the loop
        timings,
        inject: () => {
          if (injected || opts.thinkingBudget === undefined || !text) return null;
          if (text.channel !== 'reasoning' || reasoningTokens < opts.thinkingBudget) return null;
          injected = true;
          return endMarker;
        },
        onToken: async (id, forced) => {
          if (text?.channel === 'reasoning') reasoningTokens++;
          if (opts.tokenEvents) await emit({ type: 'token', id, forced });
          for (const e of text?.push(id) ?? []) await emit(e);
        },
      },
      recover,
      (ms, encoded) => {
        if (encoded) timings.addImageEncode(ms);
      },
    );
    for (const e of text?.flush() ?? []) await emit(e);
    const done: DoneEvent = {
      type: 'done',
      finishReason: text?.stopped ? 'stop' : result.finishReason,
      usage: {
        promptTokens: result.promptTokens,
        cachedPromptTokens: result.cachedPromptTokens,
        completionTokens: result.tokens.length,
        totalTokens: result.promptTokens + result.tokens.length,
      },
      timings: timings.finish(),
      answer: text?.answer ?? '',
      reasoning: text?.reasoning ?? '',
    };
    await emit(done);
    return done;
  }
}
