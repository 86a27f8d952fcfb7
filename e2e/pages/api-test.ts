// Test page for the public API (ES-module build, engine in a Web Worker): exposes window.KimiVL.
import { KimiVL, KimiVLError } from '../../src/index.ts';

Object.assign(globalThis, { KimiVL, KimiVLError });
