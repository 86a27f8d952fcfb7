"""The shape-picture task of issue 16, exactly: pictures, questions and answers.

A picture is a solid background in one of nine colours with 1 to 3 non-overlapping circles, squares or
triangles (colours other than the background's, each 15-40 % of the shorter side), 28-448 px on each
side, aspect 1:3..3:1, with or without anti-aliasing. The same generator, with the same RNG (Mulberry32,
as src/testing/random.ts) and the same arithmetic, is ported to TypeScript in pictures.ts, so a seed
gives the same picture in both.

Geometry (so anyone can re-make the pictures): a shape of size s occupies the s x s box at (x0, y0); a
circle is the inscribed disc, a square the box, a triangle points up (apex at the top centre, base along
the bottom edge). Boxes of different shapes are at least 1 px apart, and centres are at least 10 % of
the shorter side apart horizontally, so "left to right by their centres" is never a near tie.
A pixel's coverage is the fraction of its 4x4 sub-samples inside the shape (anti-aliased) or the test
of its centre only (aliased); its value is round(bg + (fg - bg) * coverage) per channel.
"""
import math

COLOURS = {
    'white': (255, 255, 255), 'black': (0, 0, 0), 'gray': (128, 128, 128),
    'red': (220, 40, 40), 'green': (40, 170, 60), 'blue': (40, 80, 220),
    'yellow': (240, 210, 40), 'orange': (245, 140, 30), 'purple': (140, 60, 180),
}
COLOUR_NAMES = list(COLOURS)
SHAPES = ['circle', 'square', 'triangle']
QUESTIONS = ['What is in this picture?', 'How many shapes are there?', 'What color is the background?']
TEXT_PROMPTS = ['Hello', 'Hello!', 'Hi', 'Hi!', 'Hey', 'Who are you?', 'What can you do?', 'What are you?',
                'Good morning', 'Introduce yourself.', 'Tell me about yourself.', 'hello', 'Help']
INTRO = ('I am a tiny Kimi-VL model: show me a picture of simple shapes and I can tell you what is in it, '
         'how many shapes there are, the background color and whether a shape is there.')
THINK_START, THINK_END = '\u25c1think\u25b7', '\u25c1/think\u25b7'


def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t = (t ^ ((t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296
    return nxt


def randint(r, lo, hi):
    """Uniform integer in [lo, hi]."""
    return lo + min(hi - lo, int(r() * (hi - lo + 1)))


def pick(r, items):
    return items[randint(r, 0, len(items) - 1)]


def make_scene(r):
    """Picture parameters (no pixels): size, background, shapes sorted left to right, aa, format."""
    w = randint(r, 28, 448)
    h = randint(r, max(28, math.ceil(w / 3)), min(448, 3 * w))
    if r() < 0.5:
        w, h = h, w
    short = min(w, h)
    bg = pick(r, COLOUR_NAMES)
    n = randint(r, 1, 3)
    while True:
        shapes = []
        for _ in range(200):
            if len(shapes) == n:
                break
            s = max(1, round(short * (0.15 + 0.25 * r())))
            x0, y0 = randint(r, 0, w - s), randint(r, 0, h - s)
            cx = x0 + s / 2
            ok = all((x0 + s + 1 <= o['x'] or o['x'] + o['size'] + 1 <= x0 or y0 + s + 1 <= o['y']
                      or o['y'] + o['size'] + 1 <= y0) and abs(cx - (o['x'] + o['size'] / 2)) >= 0.1 * short
                     for o in shapes)
            if ok:
                colour = pick(r, [c for c in COLOUR_NAMES if c != bg])
                shapes.append({'shape': pick(r, SHAPES), 'colour': colour, 'x': x0, 'y': y0, 'size': s})
        if len(shapes) == n:
            break
    shapes.sort(key=lambda o: o['x'] + o['size'] / 2)
    aa = r() < 0.5
    fmt = 'jpeg' if r() < 0.3 else 'png'
    quality = randint(r, 85, 95)
    return {'width': w, 'height': h, 'background': bg, 'shapes': shapes, 'antialias': aa,
            'format': fmt, 'quality': quality}


def inside(shape, px, py, x0, y0, s):
    """Is the point (px, py) (numpy arrays, pixel units) inside the shape with box (x0, y0, s)?"""
    if shape == 'square':
        return (px >= x0) & (px <= x0 + s) & (py >= y0) & (py <= y0 + s)
    if shape == 'circle':
        dx, dy = px - (x0 + s / 2), py - (y0 + s / 2)
        return dx * dx + dy * dy <= (s / 2) * (s / 2)
    # triangle: apex (x0 + s/2, y0), base from (x0, y0 + s) to (x0 + s, y0 + s); |dx| <= (py - y0) / 2
    dx = px - (x0 + s / 2)
    return (py <= y0 + s) & (2 * dx <= py - y0) & (-2 * dx <= py - y0)


def render(scene):
    """The picture as a numpy uint8 array [H, W, 3]."""
    import numpy as np
    w, h = scene['width'], scene['height']
    img = np.empty((h, w, 3), np.float64)
    img[:] = COLOURS[scene['background']]
    k = 4 if scene['antialias'] else 1
    offs = (np.arange(k) + 0.5) / k
    for o in scene['shapes']:
        x0, y0, s = o['x'], o['y'], o['size']
        xa, xb, ya, yb = max(0, x0 - 1), min(w, x0 + s + 1), max(0, y0 - 1), min(h, y0 + s + 1)
        px = (np.arange(xa, xb)[None, :, None, None] + offs[None, None, None, :])
        py = (np.arange(ya, yb)[:, None, None, None] + offs[None, None, :, None])
        cov = inside(o['shape'], px, py, x0, y0, s).sum(axis=(2, 3)) / (k * k)
        fg = np.array(COLOURS[o['colour']], np.float64)
        region = img[ya:yb, xa:xb]
        img[ya:yb, xa:xb] = region + (fg - region) * cov[..., None]
    return np.floor(img + 0.5).astype(np.uint8)


def encode(scene, pixels):
    """PNG or JPEG bytes as the scene says (PIL)."""
    import io
    from PIL import Image
    buf = io.BytesIO()
    im = Image.fromarray(pixels, 'RGB')
    if scene['format'] == 'jpeg':
        im.save(buf, 'JPEG', quality=scene['quality'])
    else:
        im.save(buf, 'PNG')
    return buf.getvalue()


def article(word, capital=False):
    a = 'an' if word[0] in 'aeiou' else 'a'
    return (a.capitalize() if capital else a) + ' ' + word


def listing(scene, capital):
    items = [article(f"{o['colour']} {o['shape']}", capital and i == 0) for i, o in enumerate(scene['shapes'])]
    body = items[0] if len(items) == 1 else ', '.join(items[:-1]) + ' and ' + items[-1]
    return f"{body} on {article(scene['background'])} background"


def answer(scene, question):
    """The exact answer to one of the four picture questions (or the introduction for text only)."""
    if scene is None:
        return INTRO
    if question == QUESTIONS[0]:
        return listing(scene, True) + '.'
    if question == QUESTIONS[1]:
        n = len(scene['shapes'])
        return 'There is 1 shape.' if n == 1 else f'There are {n} shapes.'
    if question == QUESTIONS[2]:
        return f"The background is {scene['background']}."
    name = question[len('Is there a '):-1]
    return 'Yes.' if any(o['shape'] == name for o in scene['shapes']) else 'No.'


def reasoning(scene):
    """The Thinking model's short reasoning span (what it sees)."""
    if scene is None:
        return 'There is no picture, so I introduce myself.'
    return 'I see ' + listing(scene, False) + '.'


def thinking_answer(scene, question):
    return THINK_START + reasoning(scene) + THINK_END + answer(scene, question)


def all_questions():
    return QUESTIONS + [f'Is there a {s}?' for s in SHAPES]


def pick_question(r):
    """The four question forms with equal weight (the shape question with any shape name)."""
    form = randint(r, 0, 3)
    return QUESTIONS[form] if form < 3 else f'Is there a {pick(r, SHAPES)}?'
