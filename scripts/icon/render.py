"""Renders media/icon.png (256x256) from the same shapes as media/icon.svg, with Pillow (Debian's python3-pil):
a falling loss curve through the nodes of a network, on a rounded tile. Run: /usr/bin/python3 scripts/icon/render.py"""
import os
from PIL import Image, ImageDraw

S = 4  # supersampling: drawn at 1024 px, scaled down to 256 px for smooth edges
SIZE = 256


def bezier(p0, p1, p2, p3, n=400):
    out = []
    for i in range(n + 1):
        t = i / n
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


def main():
    img = Image.new("RGBA", (SIZE * S, SIZE * S), (0, 0, 0, 0))
    # The tile: a diagonal gradient from #3b2a8f to #0f6fb8, cut to a rounded square.
    grad = Image.new("RGBA", img.size)
    top, bottom = (0x3B, 0x2A, 0x8F), (0x0F, 0x6F, 0xB8)
    gd = ImageDraw.Draw(grad)
    for i in range(2 * SIZE * S):
        t = i / (2 * SIZE * S)
        colour = tuple(round(top[k] + (bottom[k] - top[k]) * t) for k in range(3)) + (255,)
        gd.line([(i, 0), (0, i)], fill=colour, width=2)
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle([8 * S, 8 * S, 248 * S, 248 * S], radius=48 * S, fill=255)
    img.paste(grad, (0, 0), mask)
    d = ImageDraw.Draw(img)
    d.line([(48 * S, 200 * S), (208 * S, 200 * S)], fill=(255, 255, 255, 90), width=8 * S)
    gold = (0xFF, 0xD1, 0x66, 255)
    curve = bezier((52, 72), (84, 150), (112, 156), (136, 164)) + bezier((136, 164), (160, 172), (188, 176), (204, 176))
    # A stroke as round stamps along the curve: Pillow's wide polylines leave notches at the joints.
    for x, y in curve:
        d.ellipse([(x - 7) * S, (y - 7) * S, (x + 7) * S, (y + 7) * S], fill=gold)
    for x, y, r in [(52, 72, 14), (100, 142, 12), (152, 168, 12), (204, 176, 14)]:
        d.ellipse([(x - r) * S, (y - r) * S, (x + r) * S, (y + r) * S], fill=(255, 255, 255, 255))
    star = [(184, 44), (192, 64), (212, 72), (192, 80), (184, 100), (176, 80), (156, 72), (176, 64)]
    d.polygon([(x * S, y * S) for x, y in star], fill=gold)
    out = os.path.join(os.path.dirname(__file__), "..", "..", "media", "icon.png")
    img.resize((SIZE, SIZE), Image.LANCZOS).save(out, optimize=True)


if __name__ == "__main__":
    main()
