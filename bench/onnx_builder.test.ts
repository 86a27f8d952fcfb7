// The protobuf encoder against hand-encoded bytes (protobuf wire format: tag = field << 3 | wire type).
import { describe, expect, test } from 'vitest';
import { encodeModel, OnnxType, ProtoWriter } from './onnx_builder.ts';

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

describe('ProtoWriter', () => {
  test('varints: 1 byte, multi-byte, negative int64 as 10 bytes', () => {
    expect(hex(new ProtoWriter().varint(1).finish())).toBe('01');
    expect(hex(new ProtoWriter().varint(300).finish())).toBe('ac 02');
    expect(hex(new ProtoWriter().varint(2 ** 35).finish())).toBe('80 80 80 80 80 01');
    expect(hex(new ProtoWriter().varint(-1).finish())).toBe('ff ff ff ff ff ff ff ff ff 01');
  });

  test('fields: int, float (fixed32), string, nested message', () => {
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe('08 96 01');
    expect(hex(new ProtoWriter().float(2, 1).finish())).toBe('15 00 00 80 3f');
    expect(hex(new ProtoWriter().string(2, 'ab').finish())).toBe('12 02 61 62');
    expect(hex(new ProtoWriter().message(3, (w) => w.int(1, 150)).finish())).toBe('1a 03 08 96 01');
  });

  test('grows past its initial buffer', () => {
    const big = new Uint8Array(1000).fill(7);
    const out = new ProtoWriter().bytes(9, big).finish();
    expect(out.length).toBe(1 + 2 + 1000);
    expect(hex(out.subarray(0, 3))).toBe('4a e8 07');
    expect(out[1002]).toBe(7);
  });
});

describe('encodeModel', () => {
  test('a one-node graph, byte for byte', () => {
    const model = encodeModel({
      name: 'g',
      nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
      initializers: [{ name: 'c', dims: [1], type: OnnxType.UINT8, raw: new Uint8Array([5]) }],
      inputs: [{ name: 'x', type: OnnxType.FLOAT, dims: [2] }],
      outputs: [{ name: 'y', type: OnnxType.FLOAT, dims: ['n'] }],
      opsets: [{ domain: '', version: 21 }],
    });
    const producer = [...new TextEncoder().encode('kimi-vl-web bench')].map((b) =>
      b.toString(16).padStart(2, '0'),
    );
    const node = '0a 01 78 12 01 79 22 04 52 65 6c 75'; // input x, output y, op_type Relu
    const tensor = '08 01 10 02 42 01 63 4a 01 05'; // dims [1], UINT8, name c, raw [5]
    const inX = '0a 01 78 12 0a 0a 08 08 01 12 04 0a 02 08 02'; // x: tensor_type{FLOAT, shape{dim{2}}}
    const outY = '0a 01 79 12 0b 0a 09 08 01 12 05 0a 03 12 01 6e'; // y: dim_param "n"
    const graph = `0a 0c ${node} 12 01 67 2a 0a ${tensor} 5a 0f ${inX} 62 10 ${outY}`;
    expect(hex(model)).toBe(`08 09 12 11 ${producer.join(' ')} 3a 40 ${graph} 42 04 0a 00 10 15`);
  });

  test('attributes: INT, FLOAT and INTS carry their AttributeProto.type', () => {
    const model = encodeModel({
      name: 'a',
      nodes: [
        {
          opType: 'T',
          inputs: [],
          outputs: [],
          domain: 'com.microsoft',
          attrs: [
            { name: 'k', i: 3 },
            { name: 'f', f: 0.5 },
            { name: 'p', ints: [0, 2] },
          ],
        },
      ],
      initializers: [],
      inputs: [],
      outputs: [],
      opsets: [],
    });
    const s = hex(model);
    expect(s).toContain('2a 08 0a 01 6b 18 03 a0 01 02'); // name k, i 3, type INT (field 20 = a0 01)
    expect(s).toContain('2a 0b 0a 01 66 15 00 00 00 3f a0 01 01'); // f 0.5, type FLOAT
    expect(s).toContain('2a 0a 0a 01 70 40 00 40 02 a0 01 07'); // ints [0, 2], type INTS
    expect(s).toContain(`3a 0d ${hex(new TextEncoder().encode('com.microsoft'))}`); // NodeProto.domain
  });
});
