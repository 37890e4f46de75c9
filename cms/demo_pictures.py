"""Pictures for the demo items, drawn with Pillow (no files shipped, nothing downloaded):
landscape-like scenes — a sky gradient, a sun, rolling hills, a river or fields — marked
"Ảnh minh họa" so nobody takes them for news photographs.

Each picture is a library image with Vietnamese alt text (its description), found again by
its title, so ``load_demo`` stays idempotent. Drawing one takes a few tens of milliseconds.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from django.core.files.images import ImageFile
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1600, 1000
_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
)


@dataclass(frozen=True)
class Scene:
    title: str  # the library title (unique: how load_demo finds it again)
    alt: str  # what the picture shows, for someone who cannot see it
    sky: tuple[tuple[int, int, int], tuple[int, int, int]]
    hills: tuple[tuple[int, int, int], ...]
    ground: tuple[int, int, int]
    river: bool = False
    seed: float = 0.0


SCENES = {
    "ra-quan": Scene(
        "Ảnh minh họa: đoàn viên ra quân làm sạch môi trường",
        "Đoàn viên mặc áo xanh thu gom rác dọc bờ sông buổi sáng",
        ((120, 180, 235), (235, 245, 255)),
        ((70, 140, 80), (50, 115, 65)),
        (110, 160, 90),
        river=True,
        seed=0.7,
    ),
    "lua": Scene(
        "Ảnh minh họa: cánh đồng lúa chín",
        "Cánh đồng lúa chín vàng dưới nền trời xanh, xa xa là dãy đồi",
        ((90, 160, 230), (220, 238, 250)),
        ((95, 125, 80), (120, 150, 90)),
        (225, 190, 70),
        seed=1.9,
    ),
    "cau": Scene(
        "Ảnh minh họa: cầu mới bắc qua kênh",
        "Cây cầu bê tông mới bắc qua con kênh, hai bên là ruộng và hàng cây",
        ((250, 170, 110), (255, 225, 180)),
        ((90, 110, 90), (70, 95, 75)),
        (100, 140, 85),
        river=True,
        seed=3.1,
    ),
    "dieu": Scene(
        "Ảnh minh họa: vườn điều vào mùa thu hoạch",
        "Vườn điều xanh tốt trên đồi đất đỏ vào mùa thu hoạch",
        ((100, 170, 225), (230, 242, 250)),
        ((60, 120, 60), (45, 100, 50)),
        (170, 90, 60),
        seed=4.4,
    ),
    "dieu-say": Scene(
        "Ảnh minh họa: hạt điều phơi trên sân",
        "Hạt điều phơi trên sân gạch trước nhà, nắng chiều vàng",
        ((245, 190, 120), (255, 235, 200)),
        ((150, 120, 80), (130, 100, 70)),
        (190, 150, 110),
        seed=5.2,
    ),
    "dieu-ban": Scene(
        "Ảnh minh họa: thương lái thu mua điều",
        "Xe tải chở những bao hạt điều rời vườn theo con đường đất",
        ((110, 175, 230), (235, 245, 252)),
        ((80, 130, 75), (60, 110, 60)),
        (160, 110, 80),
        river=True,
        seed=6.8,
    ),
}


def _font(size: int):
    for path in _FONTS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _vertical_gradient(top, bottom, size):
    """A top-to-bottom gradient from Pillow's 256-step ramp (no per-pixel Python)."""
    ramp = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), ramp)


def draw_scene(scene: Scene) -> bytes:
    """The scene as a JPEG."""
    size = (WIDTH, HEIGHT)
    image = _vertical_gradient(*scene.sky, size)
    draw = ImageDraw.Draw(image)
    draw.ellipse((1150, 120, 1330, 300), fill=(255, 236, 150))
    for layer, colour in enumerate(scene.hills):
        base = 520 + layer * 90
        points = [(0, HEIGHT)]
        for x in range(0, WIDTH + 40, 40):
            wave = math.sin(x / (260 + 90 * layer) + scene.seed * (layer + 1))
            points.append((x, base + 70 * wave))
        points.append((WIDTH, HEIGHT))
        draw.polygon(points, fill=colour)
    draw.rectangle((0, 760, WIDTH, HEIGHT), fill=scene.ground)
    for row in range(780, HEIGHT, 36):  # furrows
        shade = tuple(max(0, c - 25) for c in scene.ground)
        draw.line((0, row, WIDTH, row + 18), fill=shade, width=4)
    if scene.river:
        draw.polygon([(620, 760), (860, 760), (1180, HEIGHT), (380, HEIGHT)], fill=(90, 150, 200))
    label = "Ảnh minh họa"
    font = _font(44)
    box = draw.textbbox((0, 0), label, font=font)
    x, y = WIDTH - (box[2] - box[0]) - 48, HEIGHT - (box[3] - box[1]) - 48
    draw.rounded_rectangle(
        (x - 18, y - 14, x + box[2] - box[0] + 18, y + box[3] - box[1] + 22),
        radius=10,
        fill=(0, 0, 0),
    )
    draw.text((x - box[0], y - box[1]), label, font=font, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def demo_picture(key: str):
    """The library image of scene ``key``, drawn and stored the first time."""
    from wagtail.images import get_image_model

    scene = SCENES[key]
    Image_ = get_image_model()
    image = Image_.objects.filter(title=scene.title).first()
    if image is None:
        image = Image_.objects.create(
            title=scene.title,
            description=scene.alt,
            file=ImageFile(io.BytesIO(draw_scene(scene)), name=f"demo-{key}.jpg"),
        )
    return image
