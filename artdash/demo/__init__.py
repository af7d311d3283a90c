"""Deterministic demo catalog: titles across genres, each with artwork variants in
visibly different styles (warm romance, dark thriller, bright comedy, faces, landscapes),
drawn with Pillow and ingested through the same pipeline as an editor's upload.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from sqlalchemy import select

from artdash import catalog
from artdash.catalog.taxonomy import find_tag
from artdash.db.results_schema import policy_models
from artdash.decision.bootstrap import train_simulated
from artdash.policy.registry import DEFAULT_POLICY
from artdash.workspace import Workspace

BOX = (640, 960)
BILLBOARD = (1280, 720)
DEMO_ACTOR = "demo"


@dataclass(frozen=True)
class Style:
    """An artwork style of the demo: how it is drawn and how it is tagged."""
    name: str
    label: str
    tags: tuple[tuple[str, str], ...]  # (facet, tag)
    draw: Callable[[Image.Image, random.Random], None]


def _gradient(size, top, bottom) -> Image.Image:
    w, h = size
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    rows = (1 - t) * np.array(top, dtype=float) + t * np.array(bottom, dtype=float)
    return Image.fromarray(np.repeat(rows, w, axis=1).astype(np.uint8), "RGB")


def _face(d: ImageDraw.ImageDraw, cx, cy, r, skin, mood="smile", hair=(40, 25, 20)):
    d.ellipse([cx - r * 1.05, cy - r * 1.15, cx + r * 1.05, cy + r * 0.2], fill=hair)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=skin)
    eye = r * 0.12
    for sx in (-0.35, 0.35):
        d.ellipse([cx + sx * r - eye, cy - 0.2 * r - eye, cx + sx * r + eye, cy - 0.2 * r + eye], fill=(25, 20, 20))
    if mood == "smile":
        d.arc([cx - 0.5 * r, cy - 0.1 * r, cx + 0.5 * r, cy + 0.6 * r], 15, 165, fill=(120, 20, 30), width=max(3, int(r * 0.08)))
    elif mood == "laugh":
        d.chord([cx - 0.5 * r, cy + 0.05 * r, cx + 0.5 * r, cy + 0.65 * r], 0, 180, fill=(120, 20, 30))
    else:
        d.line([cx - 0.3 * r, cy + 0.4 * r, cx + 0.3 * r, cy + 0.4 * r], fill=(60, 30, 30), width=max(3, int(r * 0.06)))


def _silhouette(d: ImageDraw.ImageDraw, cx, base, scale, colour):
    d.ellipse([cx - 60 * scale, base - 330 * scale, cx + 60 * scale, base - 200 * scale], fill=colour)
    d.rounded_rectangle([cx - 150 * scale, base - 210 * scale, cx + 150 * scale, base + 40 * scale], radius=int(70 * scale), fill=colour)


def draw_romance(im, rng):
    """Two warm silhouettes at dusk."""
    w, h = im.size
    im.paste(_gradient(im.size, (255, 170, 150), (200, 60, 90)))
    d = ImageDraw.Draw(im)
    d.ellipse([w * 0.55, h * 0.08, w * 0.95, h * 0.08 + w * 0.4], fill=(255, 220, 160))
    r = min(w, h) * 0.16
    _face(d, w * 0.38, h * 0.45, r, (236, 188, 160), "smile", hair=(90, 40, 30))
    _face(d, w * 0.62, h * 0.43, r, (210, 160, 130), "smile", hair=(50, 30, 20))
    hx, hy, hs = w * 0.5, h * 0.22, r * 0.35
    d.polygon([(hx, hy + hs), (hx - hs, hy), (hx - hs / 2, hy - hs / 2), (hx, hy), (hx + hs / 2, hy - hs / 2), (hx + hs, hy)], fill=(230, 30, 70))


def draw_thriller(im, rng):
    """A dark figure under a cold streetlight."""
    w, h = im.size
    im.paste(_gradient(im.size, (10, 14, 28), (2, 3, 8)))
    d = ImageDraw.Draw(im)
    x = w * rng.uniform(0.2, 0.8)
    d.polygon([(x - 20, 0), (x + 20, 0), (x + w * 0.35, h), (x - w * 0.35, h)], fill=(40, 50, 70))
    _silhouette(d, w * 0.5, h * 0.85, min(w, h) / 640, (0, 0, 0))
    d.line([0, h * 0.62, w, h * 0.58], fill=(200, 20, 20), width=6)


def draw_comedy(im, rng):
    """A bright close-up with a big grin."""
    w, h = im.size
    im.paste(_gradient(im.size, (255, 236, 70), (255, 180, 40)))
    d = ImageDraw.Draw(im)
    for _ in range(14):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, 40)
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=rng.choice([(0, 190, 220), (255, 90, 150), (120, 220, 90)]))
    _face(d, w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.55), min(w, h) * rng.uniform(0.22, 0.34),
          (245, 200, 170), "laugh", hair=(160, 80, 30))


def draw_action(im, rng):
    """Explosive diagonals and a running figure."""
    w, h = im.size
    im.paste(_gradient(im.size, (255, 140, 20), (120, 10, 0)))
    d = ImageDraw.Draw(im)
    cx, cy = w * 0.5, h * 0.55
    for i in range(24):
        a = 2 * math.pi * i / 24 + rng.uniform(-0.05, 0.05)
        r = min(w, h) * rng.uniform(0.35, 0.6)
        d.polygon([(cx, cy), (cx + r * math.cos(a - 0.06), cy + r * math.sin(a - 0.06)), (cx + r * math.cos(a + 0.06), cy + r * math.sin(a + 0.06))], fill=(255, 230, 120))
    _silhouette(d, w * 0.5, h * 0.95, min(w, h) / 560, (25, 10, 5))


def draw_landscape(im, rng):
    """Mountains under a wide sky."""
    w, h = im.size
    im.paste(_gradient(im.size, (90, 170, 235), (250, 200, 140)))
    d = ImageDraw.Draw(im)
    d.ellipse([w * 0.65, h * 0.15, w * 0.65 + min(w, h) * 0.18, h * 0.15 + min(w, h) * 0.18], fill=(255, 245, 200))
    for k, colour in enumerate([(70, 90, 120), (50, 110, 80), (30, 70, 50)]):
        base = h * (0.55 + 0.12 * k)
        pts = [(0, h)] + [(x, base - rng.uniform(0, h * 0.18)) for x in np.linspace(0, w, 7)] + [(w, h)]
        d.polygon(pts, fill=colour)


def draw_family(im, rng):
    """A group of figures on a warm ground."""
    w, h = im.size
    im.paste(_gradient(im.size, (170, 225, 255), (200, 250, 200)))
    d = ImageDraw.Draw(im)
    skins = [(245, 205, 175), (200, 150, 115), (150, 105, 75), (235, 190, 160)]
    n = 4
    for i in range(n):
        r = min(w, h) * (0.12 if i % 2 else 0.09)
        _face(d, w * (i + 0.5) / n, h * 0.5 + (0 if i % 2 else r * 0.6), r, skins[i], "smile", hair=rng.choice([(60, 40, 20), (200, 150, 60), (20, 20, 20)]))


def draw_horror(im, rng):
    """A pale face in deep red darkness."""
    w, h = im.size
    im.paste(_gradient(im.size, (20, 5, 8), (0, 0, 0)))
    d = ImageDraw.Draw(im)
    for i in range(7):
        x = w * (i + 0.5) / 7
        d.line([x, h, x + rng.uniform(-40, 40), h * rng.uniform(0.3, 0.6)], fill=(30, 25, 25), width=10)
    for sx in (-1, 1):
        cx, cy = w * 0.5 + sx * w * 0.09, h * 0.4
        d.ellipse([cx - 22, cy - 12, cx + 22, cy + 12], fill=(230, 20, 20))
    im.paste(im.filter(ImageFilter.GaussianBlur(1)))


def draw_scifi(im, rng):
    """A planet and stars over a horizon."""
    w, h = im.size
    im.paste(_gradient(im.size, (30, 10, 70), (5, 5, 25)))
    d = ImageDraw.Draw(im)
    for _ in range(160):
        x, y, s = rng.uniform(0, w), rng.uniform(0, h), rng.choice([1, 1, 2, 3])
        d.ellipse([x, y, x + s, y + s], fill=(230, 230, 255))
    r = min(w, h) * 0.28
    cx, cy = w * 0.5, h * 0.45
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(60, 140, 220))
    d.arc([cx - r * 1.6, cy - r * 0.4, cx + r * 1.6, cy + r * 0.4], 200, 340, fill=(170, 220, 255), width=8)


def draw_documentary(im, rng):
    """A muted, grainy scene."""
    w, h = im.size
    im.paste(_gradient(im.size, (150, 160, 140), (100, 95, 80)))
    d = ImageDraw.Draw(im)
    d.rectangle([0, h * 0.7, w, h], fill=(90, 100, 75))
    for _ in range(5):
        x = rng.uniform(0.1, 0.9) * w
        top = h * rng.uniform(0.3, 0.5)
        d.rectangle([x - 8, top + 60, x + 8, h * 0.72], fill=(70, 55, 40))
        d.ellipse([x - 60, top, x + 60, top + 120], fill=(95, 120, 85))


def draw_closeup_dark(im, rng):
    """A dark, moody close-up."""
    w, h = im.size
    im.paste(_gradient(im.size, (25 + rng.randint(0, 30), 30, 45 + rng.randint(0, 40)), (5, 5, 10)))
    d = ImageDraw.Draw(im)
    cx, cy = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.55)
    _face(d, cx, cy, min(w, h) * rng.uniform(0.22, 0.38), (150, 130, 120), "stern", hair=(15, 15, 20))
    x = cx + rng.uniform(-0.05, 0.05) * w
    if rng.random() < 0.5:
        d.rectangle([x, 0, w, h], fill=(6, 6, 12))  # half the face in shadow
    else:
        d.rectangle([0, 0, x, h], fill=(6, 6, 12))


def draw_typographic(im, rng):
    """The title in big letters on a flat colour."""
    w, h = im.size
    im.paste(_gradient(im.size, (235, 235, 225), (200, 200, 190)))
    d = ImageDraw.Draw(im)
    for i in range(6):
        d.rectangle([w * 0.1, h * (0.12 + 0.08 * i), w * (0.9 - 0.1 * (i % 3)), h * (0.12 + 0.08 * i) + 14], fill=(40, 40, 40))


STYLES: dict[str, Style] = {s.name: s for s in (
    Style("romance", "couple at sunset", (("tone", "romantic"), ("visual", "couple"), ("visual", "warm palette")), draw_romance),
    Style("thriller", "silhouette in the dark", (("tone", "suspenseful"), ("tone", "dark"), ("visual", "silhouette"), ("visual", "dark")), draw_thriller),
    Style("comedy", "laughing close-up", (("tone", "funny"), ("visual", "close-up face"), ("visual", "bright"), ("visual", "colourful")), draw_comedy),
    Style("action", "explosion", (("tone", "epic"), ("visual", "colourful"), ("visual", "high contrast")), draw_action),
    Style("landscape", "landscape", (("visual", "landscape"), ("tone", "uplifting")), draw_landscape),
    Style("family", "family group", (("tone", "heartwarming"), ("visual", "group"), ("visual", "bright")), draw_family),
    Style("horror", "eyes in the woods", (("tone", "scary"), ("visual", "dark")), draw_horror),
    Style("scifi", "planet", (("theme", "space"), ("tone", "epic"), ("visual", "cool palette")), draw_scifi),
    Style("documentary", "forest", (("theme", "nature"), ("visual", "landscape"), ("visual", "muted")), draw_documentary),
    Style("closeup", "stern close-up", (("tone", "dark"), ("visual", "close-up face"), ("visual", "dark")), draw_closeup_dark),
    Style("typographic", "title card", (("visual", "text-heavy"), ("visual", "muted")), draw_typographic),
)}


@dataclass(frozen=True)
class DemoTitle:
    """One demo title: its facts, tags, cast and artwork styles."""
    name: str
    year: int
    kind: str
    genres: tuple[str, ...]
    themes: tuple[str, ...]
    cast: tuple[str, ...]
    synopsis: str
    styles: tuple[str, ...]  # first one is the "billboard" when it ends with '*'


DEMO_TITLES: tuple[DemoTitle, ...] = (
    DemoTitle("Harbour Lights", 2019, "movie", ("romance", "drama"), ("love",), ("Ava Marlowe", "Jonah Reyes"),
              "A lighthouse keeper and a ferry pilot fall for each other over one stormy winter.",
              ("romance", "landscape*", "comedy", "closeup")),
    DemoTitle("The Last Laugh Hotel", 2021, "movie", ("comedy",), ("friendship", "underdog"), ("Milo Brandt", "Priya Sen"),
              "Three failing comedians inherit a hotel with no guests and one very loud ghost.",
              ("comedy", "family", "romance", "typographic", "horror")),
    DemoTitle("Night Ledger", 2018, "movie", ("thriller", "crime"), ("revenge",), ("Dana Kowalski", "Theo Grant"),
              "An accountant finds the one column that doesn't add up — and who wants it hidden.",
              ("thriller", "closeup", "typographic", "thriller*")),
    DemoTitle("Cinder Run", 2022, "movie", ("action", "adventure"), ("survival",), ("Rex Halloran", "Kim Ode"),
              "A smoke-jumper races a wildfire to reach a town the maps forgot.",
              ("action", "thriller", "landscape*", "closeup", "family")),
    DemoTitle("Orbit of Ash", 2023, "movie", ("sci-fi", "drama"), ("space", "survival"), ("Lena Vos", "Ade Okafor"),
              "The last crew of a mining station has one orbit to decide who goes home.",
              ("scifi", "action", "closeup", "scifi*")),
    DemoTitle("Maple Street Summer", 2020, "movie", ("family", "comedy"), ("coming of age", "family ties"),
              ("Nora Quill", "Sam Tate"), "Four cousins, one treehouse, and the summer everything changed.",
              ("family", "comedy", "landscape", "romance", "family*", "typographic")),
    DemoTitle("The Hollow Choir", 2017, "movie", ("horror",), ("the supernatural",), ("Edith Crane", "Paul Ivers"),
              "A village choir keeps singing after the church burns down.",
              ("horror", "thriller", "landscape")),
    DemoTitle("Wild Atlas", 2024, "series", ("documentary",), ("nature", "true story"), ("Gwen Hart",),
              "Eight wildernesses, filmed across a year, narrated by the people who live there.",
              ("documentary", "landscape*", "scifi", "family")),
    DemoTitle("Second Serve", 2021, "movie", ("romance", "comedy"), ("love", "underdog"), ("Lucia Ferro", "Ben Okoye"),
              "Two washed-up tennis pros team up for one last mixed-doubles title.",
              ("romance", "comedy", "family", "action*")),
    DemoTitle("Iron Meridian", 2022, "series", ("action", "thriller"), ("heist",), ("Cole Mercer", "Yara Haddad"),
              "A crew of retired engineers plans to rob the train they built.",
              ("action", "thriller", "closeup", "typographic", "action*")),
    DemoTitle("Paper Moons", 2019, "movie", ("animation", "kids", "family"), ("friendship",), ("Tilly Brook",),
              "A girl folds a paper moon that floats away — so she folds a paper boat to chase it.",
              ("family", "scifi", "comedy", "landscape")),
    DemoTitle("Saltwater Saints", 2020, "series", ("crime", "drama"), ("family ties", "revenge"),
              ("Marco Ruiz", "Hanna Lind"), "A fishing family runs the harbour — and everything that comes through it.",
              ("thriller", "landscape", "romance", "closeup*", "documentary")),
    DemoTitle("The Quiet Frontier", 2025, "movie", ("sci-fi", "mystery"), ("space",), ("Iris Novak",),
              "A linguist is sent to the one colony that stopped answering.",
              ("scifi", "closeup", "landscape", "typographic")),
    DemoTitle("Laugh Track Live", 2023, "series", ("comedy",), ("friendship",), ("Ollie Park", "June Adair"),
              "Behind the scenes of a sitcom where nothing goes to plan, live every week.",
              ("comedy", "family", "typographic", "romance", "comedy*")),
)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _caption(im: Image.Image, text: str) -> None:
    w, h = im.size
    d = ImageDraw.Draw(im)
    size = int(min(w, h) * 0.09)
    font = _font(size)
    while d.textlength(text, font=font) > w * 0.9 and size > 12:
        size -= 2
        font = _font(size)
    x = (w - d.textlength(text, font=font)) / 2
    y = h * 0.86 - size
    d.rectangle([0, y - size * 0.3, w, y + size * 1.4], fill=(0, 0, 0))
    d.text((x, y), text, font=font, fill=(255, 255, 255))


def render_variant(title: str, style: str, billboard: bool, seed: int) -> bytes:
    """The JPEG bytes of one demo image (same arguments, same bytes)."""
    rng = random.Random(seed)
    size = BILLBOARD if billboard else BOX
    # Draw larger and take a seeded window of it, with a seeded colour cast, so that one
    # style looks different from title to title (not a near-duplicate of itself).
    zoom = rng.uniform(1.25, 1.6)
    canvas = Image.new("RGB", (int(size[0] * zoom), int(size[1] * zoom)))
    STYLES[style].draw(canvas, rng)
    left = rng.randint(0, canvas.width - size[0])
    top = rng.randint(0, canvas.height - size[1])
    im = canvas.crop((left, top, left + size[0], top + size[1]))
    if rng.random() < 0.5:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    cast = tuple(rng.uniform(0.85, 1.15) for _ in range(3))
    im = Image.merge("RGB", [band.point(lambda v, f=f: min(255, int(v * f))) for band, f in zip(im.split(), cast)])
    _caption(im, title.upper())
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=88)
    return buf.getvalue()


def _tag(session, facet: str, name: str) -> int:
    """The id of a tag the demo relies on (the default taxonomy or the demo's cast has it)."""
    found = find_tag(session, facet, name)
    if found is None:  # the taxonomy was edited so that a demo tag is gone: say which
        raise RuntimeError(f"the demo needs the tag {facet}: {name}, which the taxonomy no longer has")
    return found.id


def load_demo(ws: Workspace, actor: str = DEMO_ACTOR, titles: tuple[DemoTitle, ...] = DEMO_TITLES,
              progress: Callable[[int, int, str], None] | None = None) -> int:
    """Add the demo titles that aren't in the catalog yet. Returns how many were added."""
    added = 0
    for i, spec in enumerate(titles, start=1):
        with ws.transaction() as s:
            existing = [t for t in catalog.list_titles(s, search=spec.name) if t.name == spec.name and t.year == spec.year]
            if existing:
                continue
            theme_ids = [_tag(s, "theme", th) for th in spec.themes]
            title = catalog.create_title(s, name=spec.name, year=spec.year, kind=spec.kind, synopsis=spec.synopsis,
                                         genres=spec.genres, cast=spec.cast, tag_ids=theme_ids, actor=actor)
            for k, style_spec in enumerate(spec.styles):
                style = STYLES[style_spec.rstrip("*")]
                billboard = style_spec.endswith("*")
                data = render_variant(spec.name, style.name, billboard, seed=i * 100 + k)
                file_name = f"{style.label.replace(' ', '-')}{'-billboard' if billboard else ''}.jpg"
                result = catalog.ingest_image(s, ws.store, title.id, file_name, data, actor, ws.settings.limits)
                if not result.accepted:  # a demo image must never be refused: that is a bug
                    raise RuntimeError(f"demo image {file_name} of {spec.name} refused: {result.reason}")
                tag_ids = [_tag(s, facet, name) for facet, name in style.tags]
                if k == 0 and spec.cast:
                    tag_ids.append(_tag(s, "cast", spec.cast[0]))
                variant_id = result.variant_id
                assert variant_id is not None  # accepted
                catalog.set_variant_tags(s, variant_id, tag_ids, actor)
                # The newest image of some titles waits in draft; one title has retired art.
                status = "draft" if (k == len(spec.styles) - 1 and i % 3 == 0) else "active"
                catalog.set_variant_status(s, variant_id, status, actor)
                if status == "active" and k == 1 and i % 4 == 0:
                    catalog.set_variant_status(s, variant_id, "retired", actor)
                if k == 0:  # the key art: what an editor would pick without personalisation
                    catalog.set_editors_pick(s, title.id, result.variant_id, actor)
        added += 1
        if progress:
            progress(i, len(titles), spec.name)
    return added


def load_demo_models(ws: Workspace, actor: str = DEMO_ACTOR) -> int | None:
    """A first version of the default policy, trained on a simulated log over the demo's
    personas (``artdash.decision.bootstrap``), so Preview and the decision service show and
    serve a personalised model from the start. None when it already has a version."""
    with ws.results_engine.connect() as conn:
        if conn.execute(select(policy_models.c.version).where(policy_models.c.policy == DEFAULT_POLICY)
                        .limit(1)).first() is not None:
            return None
    with ws.session() as s:
        return train_simulated(s, ws.results_engine, DEFAULT_POLICY, actor)
