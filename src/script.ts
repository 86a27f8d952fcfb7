// Entry of the single-file drop-in build: `<script src=".../kimi-vl.js">` defines window.KimiVL.
import * as api from './index.ts';

declare global {
  /** Defined by the drop-in script (`kimi-vl-web/script`, or the CDN's dist/script/kimi-vl.js). */
  var KimiVL: typeof api.KimiVL;
  var KimiVLError: typeof api.KimiVLError;
}

Object.assign(globalThis, { KimiVL: api.KimiVL, KimiVLError: api.KimiVLError });
