// Entry of the single-file drop-in build: `<script src=".../kimi-vl.js">` defines window.KimiVL.
import * as api from './index.ts';

Object.assign(globalThis, { KimiVL: api.KimiVL, KimiVLError: api.KimiVLError });
