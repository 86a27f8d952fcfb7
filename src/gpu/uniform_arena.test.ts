// The uniform arena and bind-group cache on the counting device (Node): equal values share one block and
// are uploaded once, a changed value gets a new block, the arena reports full instead of overwriting,
// and reset starts over; bind groups are found again by the buffers they bind, whatever the objects.
import { describe, expect, it } from 'vitest';
import { BindGroupCache } from './bind_groups.ts';
import { createCountingDevice } from './counting.ts';
import { UniformArena } from './uniform_arena.ts';
import { defineUniforms } from './uniforms.ts';

const A = defineUniforms('ArenaA', { n: 'u32', f: 'f32' }); // 16 bytes
const B = defineUniforms('ArenaB', { n: 'u32', f: 'f32', a: 'u32', b: 'u32', c: 'u32' }); // 32 bytes

describe('UniformArena', () => {
  it('content-addresses blocks: equal values share an offset and upload once', () => {
    const { device, log } = createCountingDevice();
    const arena = new UniformArena(device, 4096, 256);
    const x = arena.place(A, { n: 3, f: 0.5 });
    expect(arena.place(A, { f: 0.5, n: 3 })).toBe(x);
    const y = arena.place(A, { n: 4, f: 0.5 });
    expect(y).toBe(x! + 256);
    // same leading words, other size: its own block (a binding reads `size` bytes)
    const z = arena.place(B, { n: 3, f: 0.5, a: 0, b: 0, c: 0 });
    expect(z).toBe(512);
    expect(arena.upload(device.queue)).toBe(512 + 32);
    expect(log.writeBufferBytes).toBe(544);
    expect(arena.place(A, { n: 4, f: 0.5 })).toBe(y);
    expect(arena.upload(device.queue)).toBe(0); // nothing new
    const w = arena.place(A, { n: 5, f: 0.5 });
    expect(arena.upload(device.queue)).toBe(w! + 16 - 768); // only the new block (from the aligned end)
    const host = arena.hostView();
    expect([host.getUint32(y!, true), host.getFloat32(y! + 4, true)]).toEqual([4, 0.5]);
  });

  it('reports full instead of overwriting; reset starts over', () => {
    const { device } = createCountingDevice();
    const arena = new UniformArena(device, 1024, 256);
    for (let i = 0; i < 4; i++) expect(arena.place(A, { n: i, f: 1 })).toBe(i * 256);
    expect(arena.place(A, { n: 99, f: 1 })).toBeNull();
    expect(arena.place(A, { n: 2, f: 1 })).toBe(512); // an existing block is still found
    arena.reset();
    expect(arena.place(A, { n: 99, f: 1 })).toBe(0);
    expect(arena.upload(device.queue)).toBe(16);
  });
});

describe('BindGroupCache', () => {
  it('finds a group by layout and (buffer, size) of each binding', () => {
    const { device, log } = createCountingDevice();
    const cache = new BindGroupCache(device);
    const layout = {} as GPUBindGroupLayout;
    const other = {} as GPUBindGroupLayout;
    const [u, p, q] = [0, 1, 2].map((i) => device.createBuffer({ size: 1024, usage: 0, label: `b${i}` }));
    const uni = { buffer: u!, size: 16 };
    const g1 = cache.get(layout, uni, [
      { buffer: p!, size: 64 },
      { buffer: q!, size: 64 },
    ]);
    expect(
      cache.get(layout, uni, [
        { buffer: p!, size: 64 },
        { buffer: q!, size: 64 },
      ]),
    ).toBe(g1);
    const swapped = cache.get(layout, uni, [
      { buffer: q!, size: 64 },
      { buffer: p!, size: 64 },
    ]);
    const resized = cache.get(layout, uni, [
      { buffer: p!, size: 32 },
      { buffer: q!, size: 64 },
    ]);
    const relaid = cache.get(other, uni, [
      { buffer: p!, size: 64 },
      { buffer: q!, size: 64 },
    ]);
    expect(new Set([g1, swapped, resized, relaid]).size).toBe(4);
    expect(cache.created).toBe(4);
    expect(log.bindGroupsCreated).toBe(4);
  });
});
