// Dedicated worker entry: exposes one Engine over comlink.
import * as Comlink from 'comlink';
import { Engine } from './engine.ts';

Comlink.expose(new Engine());
