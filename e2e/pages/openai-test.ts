// Test page for OpenAI conformance in the browser: the engine (in its Web Worker) and the `openai` SDK,
// which reaches it through KimiVL.openaiFetch. Exposes window.KimiVL and window.OpenAI.
import OpenAI from 'openai';
import { KimiVL } from '../../src/index.ts';

Object.assign(globalThis, { KimiVL, OpenAI });
