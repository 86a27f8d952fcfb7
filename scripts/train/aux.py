"""Dense auxiliary supervision for the vision tower (training only, never exported).

From the answers alone the tower gets one weak gradient per picture, and a from-scratch tower learns
only the background colour in the time we have. So each patch also predicts, at four sub-points
(the centres of its 7x7 quarters), what is there — padding, background, or which shape — and its
colour, straight from the tower's output. The geometry is exact: the scene holds every shape's box.
"""
import torch
from torch import nn

import pictures as P

CLASSES = ['pad', 'background'] + P.SHAPES        # what covers a sub-point (centre class: 0 = none)
COLOURS = ['pad'] + P.COLOUR_NAMES                # its colour
OFFSETS = (3.5, 10.5)                             # sub-point centres inside a 14 px patch
PER_POINT = len(CLASSES) + len(COLOURS)
# Per patch besides the sub-points: which shape has its centre here (none/shape), that shape's colour, its
# rank left to right (none/1/2/3), and the picture's shape count (on every patch): the structure the
# answers need, so the language model only has to read it.
GLOBAL = [len(CLASSES), len(COLOURS), 4, 4]


def targets(scene, info):
    """[h*w, 12] int64: (class, colour) per patch sub-point, then centre class, centre colour, rank, count."""
    (gh, gw), (rw, rh) = info['grid_hw'], info['resized_wh']
    sx, sy = scene['width'] / rw, scene['height'] / rh
    out = torch.zeros(gh * gw, 4, 2, dtype=torch.long)
    extra = torch.zeros(gh * gw, 4, dtype=torch.long)
    bg = (1, COLOURS.index(scene['background']))
    for gi in range(gh):
        for gj in range(gw):
            for k, (oy, ox) in enumerate((a, b) for a in OFFSETS for b in OFFSETS):
                x, y = gj * 14 + ox, gi * 14 + oy
                if x >= rw or y >= rh:
                    continue  # padding: (0, 0)
                label = bg
                for o in scene['shapes']:
                    if P.inside(o['shape'], x * sx, y * sy, o['x'], o['y'], o['size']):
                        label = (CLASSES.index(o['shape']), COLOURS.index(o['colour']))
                out[gi * gw + gj, k] = torch.tensor(label)
    inside_image = out[:, :, 0].amax(1) > 0
    extra[inside_image, 3] = len(scene['shapes'])
    for rank, o in enumerate(scene['shapes']):  # sorted left to right
        cx, cy = (o['x'] + o['size'] / 2) / sx, (o['y'] + o['size'] / 2) / sy
        i = min(gh - 1, int(cy // 14)) * gw + min(gw - 1, int(cx // 14))
        extra[i, :3] = torch.tensor([CLASSES.index(o['shape']), COLOURS.index(o['colour']), rank + 1])
    return torch.cat([out.flatten(1), extra], 1)


class AuxHead(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, 4 * PER_POINT + sum(GLOBAL))

    def loss(self, feats, tgt, kind_weight=1.0, centre_w=None):
        """feats [N, D] (tower output), tgt [N, 12]. kind_weight scales the shape-kind terms (sub-point
        class, centre class); centre_w weights the classes of the centre term (pretrain_vision.py)."""
        out = self.proj(feats)
        y = out[:, : 4 * PER_POINT].reshape(-1, 4, PER_POINT)
        pts = tgt[:, :8].view(-1, 4, 2)
        nc = len(CLASSES)
        ce = nn.functional.cross_entropy
        loss = kind_weight * ce(y[..., :nc].reshape(-1, nc), pts[..., 0].flatten()) + \
            ce(y[..., nc:].reshape(-1, len(COLOURS)), pts[..., 1].flatten())
        at = 4 * PER_POINT
        for j, n in enumerate(GLOBAL):
            if j == 0:  # the centre class
                loss = loss + kind_weight * ce(out[:, at:at + n], tgt[:, 8], weight=centre_w)
            else:
                loss = loss + ce(out[:, at:at + n], tgt[:, 8 + j])
            at += n
        return loss
