"""Kimi's tokenizer (tiktoken BPE, spec 6) for the task's text, in Python for the training loop.

Special-token strings are split out first; the rest is pre-tokenized with Kimi's pattern restricted to
the task's alphabet (ASCII plus the thinking markers' symbols: no Han, no other letters, so the
Unicode classes reduce to ASCII ones and Python's `re` gives the same leftmost-first matches) and each
piece is BPE-merged by rank. check_tokenizer() compares it with the engine's `kimi-vl tokenize`.
"""
import base64
import re

_L, _N = 'A-Za-z', '0-9'
_CONTRACTION = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?"
PATTERN = re.compile('|'.join([
    rf'[^\r\n{_L}{_N}]?[A-Z]*[a-z]+{_CONTRACTION}',
    rf'[^\r\n{_L}{_N}]?[A-Z]+[a-z]*{_CONTRACTION}',
    r'[0-9]{1,3}',
    rf' ?[^\s{_L}{_N}]+[\r\n]*',
    r'\s*[\r\n]+',
    r'\s+(?!\S)',
    r'\s+',
]))
ALLOWED = re.compile(r'^[\x20-\x7e\n\u25c1\u25b7]*$')


class Tokenizer:
    def __init__(self, model_path, config):
        self.rank = {}
        for line in open(model_path, encoding='utf8'):
            b64, r = line.split()
            self.rank[base64.b64decode(b64)] = int(r)
        self.num_base = len(self.rank)
        self.special = {v['content']: int(k) for k, v in config['added_tokens_decoder'].items()}
        self.special_re = re.compile('|'.join(re.escape(s) for s in sorted(self.special, key=len, reverse=True)))
        self.piece_cache = {}
        self.id_bytes = {r: b for b, r in self.rank.items()}

    def bpe(self, piece):
        ids = self.piece_cache.get(piece)
        if ids is not None:
            return ids
        parts = [bytes([b]) for b in piece.encode('utf8')]
        while len(parts) > 1:
            best, at = None, -1
            for i in range(len(parts) - 1):
                r = self.rank.get(parts[i] + parts[i + 1])
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            parts[at:at + 2] = [parts[at] + parts[at + 1]]
        ids = [self.rank[p] for p in parts]
        self.piece_cache[piece] = ids
        return ids

    def encode(self, text):
        out, pos = [], 0
        for m in list(self.special_re.finditer(text)) + [None]:
            chunk = text[pos:m.start()] if m else text[pos:]
            assert ALLOWED.match(chunk), f'text outside the task alphabet: {chunk!r}'
            for p in PATTERN.findall(chunk):
                out.extend(self.bpe(p))
            if m:
                out.append(self.special[m.group(0)])
                pos = m.end()
        return out

    def decode(self, ids):
        inv = {v: k.encode() for k, v in self.special.items()}
        return b''.join(inv.get(i, b'?') if i >= self.num_base else self.id_bytes[i] for i in ids).decode('utf8', 'replace')


def check_tokenizer(tok, texts, tok_dir, repo):
    """Tokenizes `texts` with the engine's CLI and asserts the same ids as `tok` (run once per training)."""
    import json
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile('w', suffix='.jsonl', delete=False) as f:
        f.write(''.join(json.dumps(t) + '\n' for t in texts))
    res = subprocess.run(['node', 'bin/kimi-vl.mjs', 'tokenize', '--tokenizer', tok_dir, '--jsonl', f.name],
                         cwd=repo, capture_output=True, text=True, check=True)
    got = [json.loads(line) for line in res.stdout.splitlines() if line.startswith('[')]
    assert len(got) == len(texts), res.stdout[-500:] + res.stderr[-500:]
    for t, g in zip(texts, got):
        assert g == tok.encode(t), f'tokenizer mismatch on {t!r}: engine {g}, python {tok.encode(t)}'
    return len(texts)
