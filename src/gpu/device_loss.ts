// The typed error a lost device becomes (shared by the runtime and whoever reports a loss).
import { KimiVLError } from '../errors.ts';

/** The error every GPU failure caused by a lost device becomes, with the browser's reason. */
export function deviceLostError(reason: string, message: string): KimiVLError {
  return new KimiVLError(
    'DeviceLostError',
    `The GPU device was lost (${reason}: ${message || 'no details'}). With autoRecover (the default) the ` +
      'engine reloads by itself; otherwise load the model again. If it keeps happening the GPU ran out of ' +
      'memory or the driver reset.',
  );
}
