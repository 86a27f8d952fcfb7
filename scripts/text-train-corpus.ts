// The mixed corpus the test vocabularies are learned from (scripts/make-test-vocab.ts): hand-written
// passages in several scripts plus deterministic synthetic text, so that the learned merges cover
// English words with leading spaces, CJK runs, code, digits, emoji and whitespace runs.
import { mulberry32 } from '../src/testing/random.ts';

const PASSAGES: string[] = [
  `The quick brown fox jumps over the lazy dog. It's a sentence that uses every letter; we've all
typed it while testing a keyboard. They're sure the dog didn't mind, and I'm told you'll like it.
THE WEATHER TODAY: Sunny, with a HIGH of 23°C and a low of 14°C. Tomorrow it'll rain again.`,
  `In the beginning the model reads an image, cuts it into patches of fourteen by fourteen pixels,
and feeds them through a vision transformer. The language model then answers questions about
what it sees: "What is in this picture?" — "A cat sitting on a red chair next to the window."`,
  `Machine learning models are trained on large datasets. Training requires careful tuning of the
learning rate, the batch size and the number of steps. Evaluation measures accuracy, precision,
recall and the F1 score on a held-out test set. Results are reported with confidence intervals.`,
  `自然语言处理是人工智能的一个重要方向。模型通过学习大量文本来理解语言的结构和含义。
今天天气很好，我们一起去公园散步吧。这张图片里有一只猫坐在红色的椅子上。
中华人民共和国成立于一九四九年。北京是中国的首都，上海是最大的城市。`,
  `日本語の文章も含めます。今日はとても良い天気ですね。私は毎朝コーヒーを飲みます。
カタカナのテキスト：コンピューター、インターネット、プログラミング、データベース。
ひらがなだけのぶん：きょうはいいてんきです。あしたもはれるといいですね。`,
  `한국어 문장도 포함합니다. 오늘 날씨가 정말 좋네요. 저는 매일 아침 커피를 마십니다.
이 그림에는 빨간 의자에 앉아 있는 고양이가 있습니다.`,
  `Привет, мир! Это пример текста на русском языке. Γεια σου κόσμε. مرحبا بالعالم. שלום עולם.
Ünïcödé àccénts: café, naïve, résumé, Zürich, São Paulo, Kraków, Ærøskøbing.`,
  `function tokenize(text: string): number[] {
  const ids: number[] = [];
  for (const piece of text.split(/\\s+/)) {
    if (piece.length === 0) continue;
    ids.push(vocab.get(piece) ?? UNKNOWN_ID);
  }
  return ids;
}

class Matrix {
    def __init__(self, rows, cols):
        self.rows = rows
        self.cols = cols
        self.data = [[0.0] * cols for _ in range(rows)]

    def __repr__(self):
        return f"Matrix({self.rows}x{self.cols})"
`,
  `#include <stdio.h>
int main(int argc, char **argv) {
\tfor (int i = 0; i < argc; ++i) {
\t\tprintf("%d: %s\\n", i, argv[i]);
\t}
\treturn 0;
}
SELECT id, name, created_at FROM users WHERE age >= 18 AND country = 'NZ' ORDER BY name;
{"key": "value", "numbers": [1, 2, 3.14, -42, 1e-9], "nested": {"ok": true, "none": null}}`,
  `Numbers: 0 1 2 3 42 123 1234 12345 123456 3.14159 2.71828 1,000,000 99.9% $19.99 €5 ¥300
Dates: 2024-01-15, 1999-12-31T23:59:59Z, 03/04/2025. Phone: +1 (555) 010-9999. v1.2.3-beta.4
Ordinals: 1st 2nd 3rd 4th 100th. Fractions ½ ¼ ¾ and superscripts x² y³. Roman: Ⅻ Ⅳ.`,
  `Emoji: 😀 😃 😄 😁 😆 🥹 😂 🤣 ❤️ 💔 👍 👍🏽 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🇳🇿 🇯🇵 🎉🎉🎉 ✨ 🚀 🐱 🐶
Symbols: → ← ↑ ↓ ⇒ ∀ ∃ ∈ ∑ ∫ √ ∞ ≈ ≠ ≤ ≥ © ® ™ § ¶ • … “quotes” ‘single’ «guillemets»`,
  `Whitespace runs:    four spaces,        eight spaces,\t\ttabs,\r\nwindows newlines\r\n\r\n
trailing spaces here    \n\n\n   indented line\n      deeper indentation\n\tTabbed\n`,
  `Contractions in every case: it's IT'S It'S we're WE'RE they've THEY'VE I'm I'M you'll YOU'LL
he'd HE'D don't DON'T can't CAN'T won't wouldn't shouldn't couldn't isn't aren't wasn't.`,
  `◁think▷The user asks about the image. I should describe the cat and the chair.◁/think▷
The image shows a cat sitting on a red chair. <|im_end|> is a special marker in chat prompts.`,
];

const EN_WORDS = (
  'the of and to in is was for on that with as by at from this it an be are or which his her ' +
  'image model token text language vision patch layer attention expert router weight cache ' +
  'browser worker shader buffer kernel tensor matrix vector number string function return ' +
  'picture describe question answer reason think because however therefore people time year ' +
  'day world life hand part child eye woman place work week case point government company ' +
  'Good Great Small Large Early Young Important Public Bad Same Able New First Last Long'
).split(' ');
const ZH_WORDS =
  '我们 你们 他们 今天 明天 图片 模型 语言 文本 问题 答案 因为 所以 但是 如果 可以 需要 时间 世界 学习'.split(
    ' ',
  );
const JA_WORDS =
  'これは それは 画像 モデル 言語 質問 答え です ます でした ありがとう テスト 東京 大阪 猫 犬'.split(' ');
const CODE = [
  'const x = 1;',
  'let y = x + 2;',
  'if (a && b) {',
  '} else {',
  'return null;',
  '  print(i)',
  '#define N 128',
  'x += 1',
];
const EMOJI = ['😀', '🎉', '👍🏽', '👩‍💻', '❤️', '🚀', '🇯🇵', '✨'];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** Synthetic sentences drawn from the word lists above, `n` of them. */
function synthetic(rand: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const kind = rand();
    if (kind < 0.55) {
      const len = 4 + Math.floor(rand() * 10);
      const words = Array.from({ length: len }, () => pick(rand, EN_WORDS));
      out.push(`${words.join(' ')}${pick(rand, ['.', ',', '?', '!', ':', ';'])}`);
    } else if (kind < 0.7) {
      out.push(
        Array.from({ length: 3 + Math.floor(rand() * 6) }, () => pick(rand, ZH_WORDS)).join('') + '。',
      );
    } else if (kind < 0.8) {
      out.push(
        Array.from({ length: 3 + Math.floor(rand() * 5) }, () => pick(rand, JA_WORDS)).join('') + '。',
      );
    } else if (kind < 0.88) {
      out.push(pick(rand, CODE));
    } else if (kind < 0.95) {
      out.push(String(Math.floor(rand() * 10 ** (1 + Math.floor(rand() * 7)))));
    } else {
      out.push(pick(rand, EMOJI).repeat(1 + Math.floor(rand() * 3)));
    }
    out.push(pick(rand, [' ', ' ', ' ', '\n', '  ', '\n\n']));
  }
  return out.join('');
}

/** The full training text; deterministic for a given seed. */
export function trainingCorpus(seed = 1): string {
  const rand = mulberry32(seed);
  return `${PASSAGES.join('\n\n')}\n\n${synthetic(rand, 3000)}`;
}
