"""The month's headline figures as a picture to share on WhatsApp (1080 × 1350 px PNG): target
progress, income before and after joining, the register and family planning. The same
lines go into the PNG's Description text, for screen readers and for the tests."""

import io
from dataclasses import dataclass
from pathlib import Path

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from uppka.formats import format_number, format_percent, format_rupiah

WIDTH, HEIGHT = 1080, 1350
GREEN, DARK, GREY, LIGHT, WHITE = (21, 101, 52), (24, 24, 24), (80, 80, 80), (232, 242, 236), (255, 255, 255)
FONTS = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core (README, .ci/run)


@dataclass(frozen=True)
class Block:
    title: str
    value: str
    lines: list[str]
    share: float | None = None  # 0-100: a bar under the value


def _font(size: int, bold: bool = False):
    path = FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size)


def blocks(*, figures, progress, target, register, register_month) -> list[Block]:
    """The card's three blocks, in words (shared by the picture and its description)."""
    result = []
    pct = progress.total * 100 / target if target else None
    result.append(Block(
        _("Acceptor families in UPPKA groups"),
        format_number(progress.total) + (f" / {format_number(target)}" if target else ""),
        [_("%(pct)s of the year's target") % {"pct": format_percent(pct)}] if target else [],
        min(float(pct), 100.0) if pct is not None else None,
    ))
    total = figures.total
    if total.paired:
        result.append(Block(
            _("Monthly income before → after joining"),
            f"{format_rupiah(total.mean_baseline)} → {format_rupiah(total.mean_current)}",
            [_("Mean change %(change)s") % {"change": format_rupiah(total.mean_change)},
             _("%(pct)s of %(n)s families earn more") % {"pct": format_percent(total.pct_increased),
                                                       "n": format_number(total.paired)}],
        ))
    if register and register.groups:
        acceptors = register.acceptors * 100 / register.members if register.members else None
        result.append(Block(
            _("Register %(month)s") % {"month": date_format(register_month, "F Y")},
            _("%(reported)s of %(groups)s groups reported") % {
                "reported": format_number(register.groups_reported), "groups": format_number(register.groups)},
            [_("%(n)s meetings held") % {"n": format_number(register.meetings)},
             _("%(pct)s of member families are acceptors") % {"pct": format_percent(acceptors)},
             _("%(pct)s of acceptors use a long-acting method (MKJP)") % {
                 "pct": format_percent(register.mkjp * 100 / register.acceptors if register.acceptors else None)}],
            register.groups_reported * 100 / register.groups,
        ))
    return result


def card_png(*, title: str, month, content: list[Block], source: str) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, WIDTH, 230], fill=GREEN)
    draw.text((60, 50), "UPPKA", font=_font(40, bold=True), fill=WHITE)
    _text(draw, (60, 105), title, 52, WIDTH - 120, WHITE, bold=True)
    draw.text((60, 172), date_format(month, "F Y"), font=_font(34), fill=WHITE)
    y = 270
    for block in content:
        top = y
        draw.text((90, y + 20), block.title, font=_font(32), fill=GREY)
        _text(draw, (90, y + 66), block.value, 56, WIDTH - 180, DARK, bold=True)
        y += 150
        if block.share is not None:
            draw.rounded_rectangle([90, y, WIDTH - 90, y + 22], radius=11, fill=LIGHT)
            draw.rounded_rectangle([90, y, 90 + max(22, (WIDTH - 180) * block.share / 100), y + 22], radius=11, fill=GREEN)
            y += 40
        for line in block.lines:
            draw.text((90, y), line, font=_font(30), fill=DARK)
            y += 42
        y += 20
        draw.rounded_rectangle([60, top, WIDTH - 60, y], radius=18, outline=LIGHT, width=4)
        y += 30
    _text(draw, (60, HEIGHT - 80), source, 26, WIDTH - 120, GREY)
    info = PngInfo()
    info.add_itxt("Description", describe(title=title, month=month, content=content, source=source))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=True)
    return out.getvalue()


def describe(*, title, month, content: list[Block], source: str) -> str:
    lines = [f"{title}, {date_format(month, 'F Y')}"]
    for block in content:
        lines.append(f"{block.title}: {block.value}")
        lines.extend(block.lines)
    lines.append(source)
    return "\n".join(lines)


def _text(draw, xy, text: str, size: int, width: int, fill, bold: bool = False) -> None:
    text, font = _fit(draw, text, size, width, bold)
    draw.text(xy, text, font=font, fill=fill)


def _fit(draw, text: str, size: int, width: int, bold: bool = False):
    """The text and a font that fits it in ``width`` pixels: smaller type first (down to two
    thirds of ``size``), then shortened with an ellipsis."""
    for smaller in range(size, size * 2 // 3 - 1, -2):
        font = _font(smaller, bold)
        if draw.textlength(text, font=font) <= width:
            return text, font
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…", font
